// The last accepted uplink FCnt per LoRaWAN session, bounded in memory and persisted under <dataDir>/lorawan/ so that a
// restarted hub does not accept replays: one small JSON file, written atomically (temp + rename) at most once a second.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface SessionStateOptions {
  /** Directory of the state file (<dataDir>/lorawan); undefined keeps the state in memory only. */
  dir?: string;
  /** Sessions remembered; the least recently updated is forgotten first. */
  maxSessions?: number;
  /** Least time between two writes of the file. */
  flushIntervalMs?: number;
  onError?: (error: unknown) => void;
}

const FILE = 'fcnt.json';

export class SessionState {
  private readonly last = new Map<string, number>();
  private readonly maxSessions: number;
  private readonly flushIntervalMs: number;
  private readonly file?: string;
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private dirty = false;
  private closed = false;

  constructor(private readonly options: SessionStateOptions = {}) {
    this.maxSessions = options.maxSessions ?? 100_000;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    if (options.dir) {
      mkdirSync(options.dir, { recursive: true, mode: 0o700 });
      this.file = join(options.dir, FILE);
      this.load();
    }
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file!, 'utf8');
    } catch {
      return; // no file yet
    }
    try {
      const data = JSON.parse(text) as { sessions?: Record<string, unknown> };
      for (const [k, v] of Object.entries(data.sessions ?? {})) {
        if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff) this.last.set(k, v);
        if (this.last.size >= this.maxSessions) break;
      }
    } catch (e) {
      this.options.onError?.(e);
    }
  }

  /** The last accepted 32-bit FCnt of a session (key: canonical DevAddr, plus the Thing when DevAddrs are shared). */
  get(key: string): number | undefined {
    return this.last.get(key);
  }

  /** Records an accepted counter; the file follows within flushIntervalMs. */
  set(key: string, fCnt: number): void {
    this.last.delete(key); // re-insert: Map order is recency order
    this.last.set(key, fCnt);
    if (this.last.size > this.maxSessions) this.last.delete(this.last.keys().next().value!);
    this.dirty = true;
    this.schedule();
  }

  /** Forgets a session (a device's keys changed, a new ABP session). */
  delete(key: string): void {
    if (this.last.delete(key)) {
      this.dirty = true;
      this.schedule();
    }
  }

  get size(): number {
    return this.last.size;
  }

  private schedule(): void {
    if (!this.file || this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  private snapshot(): string {
    return JSON.stringify({ version: 1, sessions: Object.fromEntries(this.last) });
  }

  /** Writes the file now if anything changed (asynchronously; writes never overlap). */
  async flush(): Promise<void> {
    if (!this.file) return;
    await this.writing;
    if (!this.dirty) return;
    this.dirty = false;
    const tmp = `${this.file}.tmp`;
    this.writing = writeFile(tmp, this.snapshot(), { mode: 0o600 })
      .then(() => rename(tmp, this.file!))
      .catch((e) => {
        this.dirty = true;
        this.options.onError?.(e);
      });
    await this.writing;
  }

  /** Stops the timer, waits for a write in flight, then writes the last state (on hub stop). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (!this.file || !this.dirty) return;
    const tmp = `${this.file}.tmp`;
    try {
      writeFileSync(tmp, this.snapshot(), { mode: 0o600 });
      renameSync(tmp, this.file);
      this.dirty = false;
    } catch (e) {
      this.options.onError?.(e);
    }
  }
}
