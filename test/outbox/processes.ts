// Test helper: hubs as child processes (hub/main.ts under tsx) on loopback, for outages and kill -9; every child is tracked and killed by pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');
export const ADMIN = 'outbox-test-admin-token-0123456789';

export interface HubProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** SIGTERM and wait for the exit (bounded; SIGKILL after it). */
  stop(): Promise<void>;
  /** kill -9 and wait for the exit. */
  kill9(): Promise<void>;
}

const children = new Set<ChildProcess>();

/** Starts `hub/main.ts` with the given data dir and port (every other listener off); resolves once it listens. */
export async function startHubProcess(dataDir: string, port: number, env: Record<string, string> = {}, timeoutMs = 150_000): Promise<HubProcess> {
  // node itself with tsx's loader (not the tsx CLI, which runs node as a grandchild that a kill -9 would miss).
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'hub/main.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HUB_HOST: '127.0.0.1',
      HUB_HTTP_PORT: String(port),
      HUB_DATA_DIR: dataDir,
      HUB_ADMIN_TOKEN: ADMIN,
      HUB_COAP_PORT: '0',
      HUB_MQTT_PORT: '0',
      HUB_PACKET_FORWARDER_PORT: '0',
      HUB_OSC_PORT: '0',
      HUB_COOKIE_PORT: '0',
      HUB_LOG_LEVEL: 'warn',
      ...env,
    },
  });
  children.add(child);
  let out = '';
  child.stdout!.on('data', (d) => (out = (out + d).slice(-20_000)));
  child.stderr!.on('data', (d) => (out = (out + d).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const check = () => {
      if (out.includes('hub: listening on')) {
        clearTimeout(timer);
        child.stdout!.off('data', check);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`hub exited (${code}) before listening:\n${out}`));
    });
  });
  const wait = async (ms: number) => Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      if (!(await wait(20_000))) {
        child.kill('SIGKILL');
        await exited;
      }
    },
    async kill9() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Kills (by pid) every child this helper started that still runs. */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

export const auth = { authorization: `Bearer ${ADMIN}` };

/** A SPARQL SELECT against a hub over HTTP; the bindings. */
export async function select(url: string, query: string): Promise<Array<Record<string, { value: string }>>> {
  const res = await fetch(`${url}/sparql`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' },
    body: query,
    signal: AbortSignal.timeout(20_000),
  });
  if (!res.ok) throw new Error(`SPARQL ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { results: { bindings: Array<Record<string, { value: string }>> } }).results.bindings;
}
