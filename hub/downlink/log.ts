// The downlink command log (hand-rolled, like the store's write-ahead log): CRC-framed JSON records, fsync'd in groups.
//
// Frame: [u32 payload length][u32 CRC32 of type+payload][u8 type][payload], little-endian (hub/store/embedded/log-format.ts).
// Replay stops at the first frame that is short or fails its CRC (a crash mid-append: a torn tail) and truncates it.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

/** Record types on disk: never renumber. */
export const LogType = {
  /** A full command record (JSON CommandRecord): a new command, or a command rewritten by compaction. */
  Command: 1,
  /** A state change: JSON {id, status, at, evidence, attempts?, retryAt?, interface?, binding?}. */
  Transition: 2,
  /**
   * The intent to send one try, durable before the adapter sends (resend safety): JSON {id, attempt, at, binding,
   * interface?, uplink?}. A command whose last word is its intent (no state change after it) is in doubt after a restart.
   */
  Intent: 3,
} as const;
export type LogType = (typeof LogType)[keyof typeof LogType];

const HEADER = 9;
/** A payload larger than this is no record of ours (a torn or corrupt length field). */
const MAX_RECORD = 1 << 20;

export function frame(type: LogType, value: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(value), 'utf8');
  const buf = Buffer.allocUnsafe(HEADER + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf[8] = type;
  payload.copy(buf, HEADER);
  buf.writeUInt32LE(crc32(buf.subarray(8)), 4);
  return buf;
}

/** Every good record of `bytes`, in order, and where the good prefix ends. Never throws. */
export function readFrames(bytes: Buffer): { records: Array<{ type: number; value: unknown }>; goodBytes: number } {
  const records: Array<{ type: number; value: unknown }> = [];
  let off = 0;
  while (off + HEADER <= bytes.length) {
    const len = bytes.readUInt32LE(off);
    if (len > MAX_RECORD || off + HEADER + len > bytes.length) break;
    if (crc32(bytes.subarray(off + 8, off + HEADER + len)) !== bytes.readUInt32LE(off + 4)) break;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8', off + HEADER, off + HEADER + len));
    } catch {
      break;
    }
    records.push({ type: bytes[off + 8]!, value });
    off += HEADER + len;
  }
  return { records, goodBytes: off };
}

/** Append-only file with group commit: every append() resolves after the bytes are written and fdatasync'd. */
export class CommandLog {
  private handle?: FileHandle;
  private pending: Buffer[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private scheduled = false;
  private compacting = false;
  /** Bytes in the file (for compaction decisions and stats). */
  size = 0;
  readonly path: string;

  constructor(dir: string) {
    this.path = join(dir, 'commands.log');
  }

  /** Reads the file (truncating a torn tail) and opens it for appends. */
  async open(): Promise<Array<{ type: number; value: unknown }>> {
    let records: Array<{ type: number; value: unknown }> = [];
    if (existsSync(this.path)) {
      const bytes = readFileSync(this.path);
      const read = readFrames(bytes);
      records = read.records;
      this.size = read.goodBytes;
      if (read.goodBytes < bytes.length) {
        const h = await open(this.path, 'r+');
        await h.truncate(read.goodBytes);
        await h.sync();
        await h.close();
      }
    }
    this.handle = await open(this.path, 'a', 0o600);
    return records;
  }

  /** Replaces the file with `frames` (compaction): written to a temporary file, fsync'd, renamed over. Call before appends. */
  rewrite(frames: Buffer[]): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (const f of frames) writeSync(fd, f);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.size = frames.reduce((n, f) => n + f.length, 0);
  }

  /**
   * rewrite() for an open log (at start, after replay): the append handle is reopened on the new file, so that records
   * appended afterwards do not go to the replaced (unlinked) one.
   */
  async replace(frames: Buffer[]): Promise<void> {
    await this.chain;
    const reopen = this.handle !== undefined;
    await this.handle?.close();
    this.handle = undefined;
    this.rewrite(frames);
    if (reopen) this.handle = await open(this.path, 'a', 0o600);
  }

  /** Appends one framed record; resolves once it is on disk. */
  append(buf: Buffer): Promise<void> {
    if (!this.handle && !this.compacting) return Promise.reject(new Error('the command log is not open'));
    this.pending.push(buf);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.kick());
    }
    return done;
  }

  /**
   * Rewrites the file from `snapshot()` while the hub runs: appends made meanwhile wait and go to the new file after it.
   * Replay must be idempotent for them (a state change carries its history index), as they may be in the snapshot too.
   */
  compact(snapshot: () => Buffer[]): Promise<void> {
    const run = this.chain.then(async () => {
      if (!this.handle) return;
      this.compacting = true;
      try {
        await this.handle.close();
        this.handle = undefined;
        this.rewrite(snapshot());
        this.handle = await open(this.path, 'a', 0o600);
      } finally {
        this.compacting = false;
      }
    });
    this.chain = run.catch(() => {});
    return run.finally(() => this.kick());
  }

  /** Serialises writes: one group at a time, in append order. */
  private chain: Promise<void> = Promise.resolve();

  private kick(): void {
    this.scheduled = false;
    this.chain = this.chain.then(() => this.flushOnce());
  }

  private async flushOnce(): Promise<void> {
    if (!this.pending.length || !this.handle) return;
    const bufs = this.pending;
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    try {
      const data = bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs);
      await this.handle.write(data);
      await this.handle.datasync();
      this.size += data.length;
      for (const w of waiters) w.resolve();
    } catch (e) {
      for (const w of waiters) w.reject(e);
    }
  }

  async close(): Promise<void> {
    this.kick();
    await this.chain;
    await this.handle?.close();
    this.handle = undefined;
  }
}
