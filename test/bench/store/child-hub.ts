// The store benchmark's hub as users run it: `node --import tsx hub/main.ts` in a child process, queried over keep-alive HTTP.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';

const REPO = join(import.meta.dirname, '..', '..', '..');
const LISTENING = 'hub: listening on';

/** Every child hub not yet exited, so that an exit handler can kill them even while one is starting. */
const running = new Set<ChildProcess>();

/** SIGKILLs every child hub still running (synchronous: usable in process 'exit' handlers). */
export function killChildHubs(): void {
  for (const p of running) p.kill('SIGKILL');
}

export type Rows = Array<Record<string, { value: string }>>;

export interface ChildHubOptions {
  port: number;
  dataDir: string;
  adminToken: string;
  /** Longest wait for "hub: listening on" (the store replays its log first). */
  startTimeoutMs?: number;
}

/** Resident set size and its peak (kB lines VmRSS / VmHWM of /proc/<pid>/status), in bytes. */
export function procMemory(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/** A hub in a child process on 127.0.0.1:<port>, serving <dataDir> (SPARQL 1.1 Protocol at /sparql). */
export class ChildHub {
  readonly base: string;
  /** Keep-alive, one socket: every request reuses the connection as a dashboard polling the hub would. */
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  private exited: Promise<number | null>;

  private constructor(
    readonly proc: ChildProcess,
    port: number,
    /** Milliseconds from spawn until the hub printed "hub: listening on" (node + tsx start, log replay, listen). */
    readonly startMs: number,
    private readonly adminToken = '',
  ) {
    this.base = `http://127.0.0.1:${port}`;
    this.exited = new Promise((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve(proc.exitCode);
      else proc.once('exit', (code) => resolve(code));
    });
  }

  /** Spawns the hub with HUB_ADMIN_TOKEN and HUB_LOG_LEVEL=warn and waits, bounded, until it listens. */
  static async start(o: ChildHubOptions): Promise<ChildHub> {
    const t0 = performance.now();
    const args = ['--import', 'tsx', 'hub/main.ts', '--port', String(o.port), '--coap-port', '0', '--data', o.dataDir];
    const proc = spawn(process.execPath, args, {
      cwd: REPO,
      env: { ...process.env, HUB_ADMIN_TOKEN: o.adminToken, HUB_LOG_LEVEL: 'warn', HUB_MQTT_PORT: '0', HUB_PACKET_FORWARDER_PORT: '0', HUB_OSC_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    running.add(proc);
    proc.once('exit', () => running.delete(proc));
    let tail = '';
    let listening = false;
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      tail = (tail + text).slice(-4000);
      // After start, pass the child's warnings on so they are not lost (the pipes must be drained anyway).
      if (listening) process.stderr.write(text.replace(/^(?=.)/gm, '[child hub] '));
    };
    proc.stderr!.on('data', keep);
    const startMs = await new Promise<number>((resolve, reject) => {
      let seen = '';
      const fail = (why: string) => {
        clearTimeout(timer);
        proc.kill('SIGKILL');
        reject(new Error(`child hub: ${why}; its output ended with:\n${tail}`));
      };
      const timer = setTimeout(() => fail(`not listening after ${o.startTimeoutMs ?? 180_000} ms`), o.startTimeoutMs ?? 180_000);
      proc.once('error', (e) => fail(`cannot start (${e.message})`));
      proc.once('exit', (code, signal) => {
        if (!listening) fail(`exited with ${code ?? signal} before listening`);
      });
      proc.stdout!.on('data', (chunk: Buffer) => {
        keep(chunk);
        if (listening) return;
        seen = (seen + chunk.toString('utf8')).slice(-4000);
        if (seen.includes(LISTENING)) {
          listening = true;
          clearTimeout(timer);
          resolve(performance.now() - t0);
        }
      });
    });
    const hub = new ChildHub(proc, o.port, startMs, o.adminToken);
    const health = await hub.get('/health');
    if (health.status !== 200) {
      await hub.stop();
      throw new Error(`child hub: /health answered ${health.status}`);
    }
    return hub;
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** One request over the keep-alive agent; resolves with status and body once the body has been read. */
  private send(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.base}${path}`, { method, headers, agent: this.agent }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (b: Buffer) => parts.push(b));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString('utf8') }));
        res.on('error', reject);
      });
      req.setTimeout(120_000, () => req.destroy(new Error(`${method} ${path}: no answer within 120 s`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  /**
   * Waits until the hub's store health says `ready` (polled every 500 ms, at most `timeoutMs`); the seconds waited.
   * After a start the aggregates are rebuilt from the store: until then dashboard queries go to the engines.
   */
  async waitForStore(ready: (store: Record<string, number>) => boolean, timeoutMs: number): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const h = await this.get('/health');
      if (h.status === 200 && ready((JSON.parse(h.body) as { store: Record<string, number> }).store)) return (performance.now() - t0) / 1000;
      if (performance.now() - t0 > timeoutMs) throw new Error(`child hub: store not ready within ${timeoutMs} ms: ${h.body.slice(0, 300)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** GET a path; a keep-alive socket the server closed meanwhile fails once with ECONNRESET: send again. */
  get(path: string): Promise<{ status: number; body: string }> {
    return this.send('GET', path, {}).catch(() => this.send('GET', path, {}));
  }

  /** SELECT over /sparql: GET as a dashboard would; a query too long for a request line goes as POST. Timed end to end. */
  async select(query: string): Promise<{ ms: number; rows: Rows }> {
    const accept = 'application/sparql-results+json';
    const path = `/sparql?query=${encodeURIComponent(query)}`;
    const t0 = performance.now();
    const once = () =>
      path.length < 8000
        ? this.send('GET', path, { accept })
        : // Bodies past 64 KiB need a token (anonymous query bodies are capped): the day average names 1,000 graphs.
          this.send('POST', '/sparql', { accept, authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/sparql-query', 'content-length': String(Buffer.byteLength(query)) }, query);
    const res = await once().catch(() => once());
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`/sparql answered ${res.status}: ${res.body.slice(0, 300)}`);
    return { ms, rows: (JSON.parse(res.body) as { results: { bindings: Rows } }).results.bindings };
  }

  /** A SPARQL Update over /sparql with the admin token; throws unless it is acknowledged (200/204). */
  async update(sparql: string): Promise<void> {
    const res = await this.send('POST', '/sparql', { authorization: `Bearer ${this.adminToken}`, 'content-type': 'application/sparql-update', 'content-length': String(Buffer.byteLength(sparql)) }, sparql);
    if (res.status !== 200 && res.status !== 204) throw new Error(`update answered ${res.status}: ${res.body.slice(0, 300)}`);
  }

  /** Memory of the child process now (bytes). */
  memory(): { rss: number; peak: number } {
    return procMemory(this.pid);
  }

  /** SIGTERM (the hub closes its store cleanly), SIGKILL after `graceMs`; resolves with the exit code. Idempotent. */
  async stop(graceMs = 30_000): Promise<number | null> {
    this.agent.destroy();
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}
