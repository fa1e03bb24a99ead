// The outbox's durable queue, hand-rolled (no library ships one for this): CRC-framed segment files plus a cursor file.
//
// <dataDir>/outbox/seg-<first seq>.log holds records `[u32 length][u32 crc32(payload)][payload]` (little endian), the
// payload a JSON object {s: seq, t: appended at (ms), g: graph IRI or null, q: N-Quads}. Appends made while one
// fdatasync runs share the next one (group commit). cursor.json (written to a .tmp file, fsynced, renamed) says which
// sequence numbers are done (forwarded or dropped) and which range was in flight, so a restart resends exactly that
// range first. Only the index of pending entries (seq, time, size, where) is kept in memory; payloads are read back
// from disk when they are sent.
import { mkdirSync } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { StoreError } from '../errors.ts';

export interface OutboxEntry {
  seq: number;
  /** When the entry was appended (ms since the epoch). */
  at: number;
  /** The graph the quads' triples belong to (the local store's graph); null for the default graph. */
  graph: string | null;
  nquads: string;
}

interface Slot {
  seq: number;
  at: number;
  bytes: number;
  segment: number;
  offset: number;
  length: number;
}

export interface Cursor {
  /** Every seq below this one is done (acknowledged upstream or dropped). */
  next: number;
  /** The batch sent last and not yet acknowledged: a restart sends exactly it first. */
  inflight?: { from: number; to: number };
  dropped: number;
  forwarded: number;
  rejectedUpstream: number;
}

const HEADER = 8;
/** Largest record the log accepts (a message is bounded far below this by the ingest limits). */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
const SEGMENT_BYTES = 4 * 1024 * 1024;
const FILE_MODE = 0o600;

const segmentName = (first: number): string => `seg-${String(first).padStart(16, '0')}.log`;
const SEGMENT_FILE = /^seg-(\d{16})\.log$/;

/** Frames one entry as a record. */
export function encodeRecord(entry: OutboxEntry): Buffer {
  const payload = Buffer.from(JSON.stringify({ s: entry.seq, t: entry.at, g: entry.graph, q: entry.nquads }), 'utf8');
  const buf = Buffer.allocUnsafe(HEADER + payload.length);
  buf.writeUInt32LE(payload.length, 0);
  buf.writeUInt32LE(crc32(payload), 4);
  payload.copy(buf, HEADER);
  return buf;
}

/** Why a record could not be read: the caller truncates a torn tail there. */
export class RecordError extends Error {
  override name = 'RecordError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Reads the records of one segment's bytes in order; stops with `torn` at the first record that is short, oversized,
 * fails its CRC or holds no entry (a crash mid-append leaves at most the last one so). Never throws.
 */
export function decodeRecords(buf: Buffer): { entries: Array<OutboxEntry & { offset: number; length: number }>; torn?: RecordError } {
  const entries: Array<OutboxEntry & { offset: number; length: number }> = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < HEADER) return { entries, torn: new RecordError('short record header', off) };
    const len = buf.readUInt32LE(off);
    if (len > MAX_RECORD_BYTES) return { entries, torn: new RecordError('record longer than the limit', off) };
    if (buf.length - off - HEADER < len) return { entries, torn: new RecordError('short record', off) };
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== buf.readUInt32LE(off + 4)) return { entries, torn: new RecordError('CRC mismatch', off) };
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch {
      return { entries, torn: new RecordError('record is not JSON', off) };
    }
    const e = parsed as { s?: unknown; t?: unknown; g?: unknown; q?: unknown };
    if (!Number.isSafeInteger(e?.s) || (e.s as number) < 0 || typeof e.t !== 'number' || !(e.g === null || typeof e.g === 'string') || typeof e.q !== 'string') {
      return { entries, torn: new RecordError('record holds no outbox entry', off) };
    }
    entries.push({ seq: e.s as number, at: e.t, graph: e.g as string | null, nquads: e.q, offset: off, length: HEADER + len });
    off += HEADER + len;
  }
  return { entries };
}

interface Group {
  bufs: Buffer[];
  slots: Slot[];
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  promise.catch(() => {});
  return { bufs: [], slots: [], promise, resolve, reject };
}

export class OutboxLog {
  readonly dir: string;
  /** Pending entries (seq >= cursor.next), oldest first; an entry is listed once it is durable. */
  private readonly pending: Slot[] = [];
  private head = 0;
  cursor: Cursor = { next: 0, dropped: 0, forwarded: 0, rejectedUpstream: 0 };
  private nextSeq = 0;
  private segment = 0;
  private fh?: FileHandle;
  private offset = 0;
  private group = newGroup();
  private writing = false;
  private pendingBytesTotal = 0;
  private readers = new Map<number, FileHandle>();
  private segments: number[] = [];
  private cursorWrite: Promise<void> = Promise.resolve();
  private closed = false;
  /** Told when entries became durable (the forwarder wakes up). */
  onAppended: () => void = () => {};
  /** Told when a torn tail was cut at open. */
  onRecovered: (info: { segment: string; offset: number; reason: string }) => void = () => {};

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'outbox');
  }

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    try {
      this.cursor = { ...this.cursor, ...(JSON.parse(await readFile(join(this.dir, 'cursor.json'), 'utf8')) as Cursor) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new StoreError('The outbox cursor (outbox/cursor.json) cannot be read', { cause: e });
    }
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_FILE.test(n)).sort();
    this.nextSeq = this.cursor.next;
    for (let i = 0; i < names.length; i++) {
      const first = Number(SEGMENT_FILE.exec(names[i]!)![1]);
      const path = join(this.dir, names[i]!);
      const { entries, torn } = decodeRecords(await readFile(path));
      if (torn) {
        // Only the tail of the newest segment can be torn (entries are listed after fdatasync); cut it there.
        this.onRecovered({ segment: names[i]!, offset: torn.offset, reason: torn.message });
        await truncate(path, torn.offset);
      }
      this.segments.push(first);
      for (const e of entries) {
        if (e.seq >= this.nextSeq) this.nextSeq = e.seq + 1;
        if (e.seq < this.cursor.next) continue;
        const bytes = Buffer.byteLength(e.nquads);
        this.pending.push({ seq: e.seq, at: e.at, bytes, segment: first, offset: e.offset, length: e.length });
        this.pendingBytesTotal += bytes;
      }
    }
    await this.collect();
    await this.rotate();
  }

  /** Entries waiting to be forwarded. */
  get length(): number {
    return this.pending.length - this.head;
  }

  /** Bytes of N-Quads waiting. */
  get bytes(): number {
    return this.pendingBytesTotal;
  }

  /** Append time of the oldest waiting entry. */
  get oldestAt(): number | undefined {
    return this.pending[this.head]?.at;
  }

  /** The pending slots from seq `from` on, at most `maxEntries` / `maxBytes` (at least one). */
  window(from: number, maxEntries: number, maxBytes: number, to = Infinity): Array<{ seq: number; at: number; bytes: number }> {
    const out: Slot[] = [];
    let bytes = 0;
    for (let i = this.head; i < this.pending.length && out.length < maxEntries; i++) {
      const s = this.pending[i]!;
      if (s.seq < from) continue;
      if (s.seq > to) break;
      if (out.length && bytes + s.bytes > maxBytes) break;
      out.push(s);
      bytes += s.bytes;
    }
    return out;
  }

  /** Reads the entries of the given pending seqs back from their segments. */
  async read(seqs: Array<{ seq: number }>): Promise<OutboxEntry[]> {
    const wanted = new Set(seqs.map((s) => s.seq));
    const out: OutboxEntry[] = [];
    for (let i = this.head; i < this.pending.length && out.length < wanted.size; i++) {
      const s = this.pending[i]!;
      if (!wanted.has(s.seq)) continue;
      const fh = await this.reader(s.segment);
      const buf = Buffer.allocUnsafe(s.length);
      await fh.read(buf, 0, s.length, s.offset);
      const { entries, torn } = decodeRecords(buf);
      if (torn || entries.length !== 1 || entries[0]!.seq !== s.seq) throw new StoreError(`Outbox entry ${s.seq} cannot be read back (${torn?.message ?? 'wrong record'})`);
      const { offset: _o, length: _l, ...entry } = entries[0]!;
      out.push(entry);
    }
    return out;
  }

  private async reader(segment: number): Promise<FileHandle> {
    let fh = this.readers.get(segment);
    if (!fh) {
      fh = await open(join(this.dir, segmentName(segment)), 'r');
      this.readers.set(segment, fh);
    }
    return fh;
  }

  /** Appends one entry; resolves once it is on disk. */
  append(graph: string | null, nquads: string, at = Date.now()): Promise<void> {
    if (this.closed) return Promise.reject(new StoreError('The outbox is closed'));
    const entry: OutboxEntry = { seq: this.nextSeq++, at, graph, nquads };
    const buf = encodeRecord(entry);
    const g = this.group;
    g.bufs.push(buf);
    g.slots.push({ seq: entry.seq, at, bytes: Buffer.byteLength(nquads), segment: -1, offset: -1, length: buf.length });
    if (!this.writing) void this.flush();
    return g.promise;
  }

  private async flush(): Promise<void> {
    this.writing = true;
    try {
      while (this.group.bufs.length) {
        const g = this.group;
        this.group = newGroup();
        try {
          if (this.offset >= SEGMENT_BYTES) await this.rotate();
          const data = Buffer.concat(g.bufs);
          let off = this.offset;
          for (const s of g.slots) {
            s.segment = this.segment;
            s.offset = off;
            off += s.length;
          }
          await this.fh!.write(data, 0, data.length, this.offset);
          await this.fh!.datasync();
          this.offset += data.length;
          for (const s of g.slots) {
            this.pending.push(s);
            this.pendingBytesTotal += s.bytes;
          }
          g.resolve();
          this.onAppended();
        } catch (e) {
          g.reject(new StoreError('The outbox could not be written', { cause: e }));
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Starts a new segment named after the next seq. */
  private async rotate(): Promise<void> {
    await this.fh?.close();
    this.segment = this.nextSeq;
    const name = segmentName(this.segment);
    this.fh = await open(join(this.dir, name), 'a+', FILE_MODE);
    this.offset = (await stat(join(this.dir, name))).size;
    if (!this.segments.includes(this.segment)) this.segments.push(this.segment);
    await fsyncDir(this.dir);
  }

  /** Marks every pending seq below `next` done; `counted` says how (forwarded/dropped/rejectedUpstream). */
  async advance(next: number, counts: Partial<Pick<Cursor, 'forwarded' | 'dropped' | 'rejectedUpstream'>> = {}, inflight?: Cursor['inflight']): Promise<void> {
    while (this.head < this.pending.length && this.pending[this.head]!.seq < next) {
      this.pendingBytesTotal -= this.pending[this.head]!.bytes;
      this.head += 1;
    }
    if (this.head > 4096 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    this.cursor = {
      ...this.cursor,
      next: Math.max(this.cursor.next, next),
      forwarded: this.cursor.forwarded + (counts.forwarded ?? 0),
      dropped: this.cursor.dropped + (counts.dropped ?? 0),
      rejectedUpstream: this.cursor.rejectedUpstream + (counts.rejectedUpstream ?? 0),
      inflight,
    };
    if (inflight === undefined) delete this.cursor.inflight;
    await this.saveCursor();
    await this.collect();
  }

  /**
   * Drops the `n` oldest pending entries (the bound's drop-oldest policy), counted as dropped and persisted. A batch in
   * flight that loses entries so is forgotten: the next batch starts after the dropped ones.
   */
  async dropOldest(n: number): Promise<number> {
    const start = this.head;
    while (this.head < this.pending.length && this.head - start < n) {
      this.pendingBytesTotal -= this.pending[this.head]!.bytes;
      this.head += 1;
    }
    const dropped = this.head - start;
    if (!dropped) return 0;
    const next = this.pending[this.head]?.seq ?? this.nextSeq;
    this.cursor = { ...this.cursor, next: Math.max(this.cursor.next, next), dropped: this.cursor.dropped + dropped };
    if (this.cursor.inflight && this.cursor.inflight.from < this.cursor.next) delete this.cursor.inflight;
    await this.saveCursor();
    return dropped;
  }

  /** Persists the cursor (tmp + fsync + rename), writes in order. */
  saveCursor(): Promise<void> {
    const snapshot = JSON.stringify(this.cursor);
    const run = this.cursorWrite.then(async () => {
      const tmp = join(this.dir, 'cursor.json.tmp');
      await writeFile(tmp, snapshot, { mode: FILE_MODE });
      const fh = await open(tmp, 'r+');
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, 'cursor.json'));
      await fsyncDir(this.dir);
    });
    this.cursorWrite = run.catch(() => {});
    return run;
  }

  /** Deletes segments all of whose entries are done (never the one being appended to). */
  private async collect(): Promise<void> {
    const firstPending = this.pending[this.head]?.seq ?? this.cursor.next;
    const keep: number[] = [];
    for (let i = 0; i < this.segments.length; i++) {
      const seg = this.segments[i]!;
      const nextSeg = this.segments[i + 1];
      const done = seg !== this.segment && nextSeg !== undefined && nextSeg <= firstPending && nextSeg <= this.cursor.next;
      if (!done) {
        keep.push(seg);
        continue;
      }
      await this.readers.get(seg)?.close();
      this.readers.delete(seg);
      await rm(join(this.dir, segmentName(seg)), { force: true });
    }
    this.segments = keep;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing || this.group.bufs.length) await (this.group.bufs.length ? this.group.promise : new Promise((r) => setTimeout(r, 5)));
    await this.cursorWrite;
    await this.fh?.close();
    for (const fh of this.readers.values()) await fh.close();
    this.readers.clear();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
