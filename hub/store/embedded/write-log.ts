// Append-only log segments with group commit: every record appended while one fdatasync runs shares the next one.
//
// The write of batch N+1 overlaps the fdatasync of batch N (at most one of each in flight), so the ack rate is bound by
// the disk's sync latency times the batch size, not by one sync per write.
import { open, type FileHandle } from 'node:fs/promises';
import { StoreError } from '../../errors.ts';
import { FILE_MODE, fsyncDir, segmentPath } from './store-files.ts';

interface Group {
  bufs: Buffer[];
  bytes: number;
  promise: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
}

function newGroup(): Group {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
  // Nobody may be awaiting this group yet (close() on an empty log): keep an unhandled rejection from crashing the hub.
  promise.catch(() => {});
  return { bufs: [], bytes: 0, promise, resolve, reject };
}

export interface WriteLogOptions {
  dir: string;
  /** Sequence number of the segment to create and append to. */
  seq: number;
  /** Seal the segment and start the next once it holds this many bytes. */
  rotateBytes: number;
  /** Called after a segment was sealed (fully written and synced) with its sequence number. */
  onSealed?(seq: number): void;
}

export class WriteLog {
  private fh!: FileHandle;
  private current = newGroup();
  private running = false;
  private drained: Array<() => void> = [];
  private failure: Error | undefined;
  seq: number;
  /** Bytes written to the active segment (durable or not). */
  offset = 0;
  /** Bytes written to all segments since open (for stats). */
  bytesWritten = 0;
  syncs = 0;

  constructor(private readonly options: WriteLogOptions) {
    this.seq = options.seq;
  }

  async open(): Promise<void> {
    this.fh = await open(segmentPath(this.options.dir, this.seq), 'wx', FILE_MODE);
    await fsyncDir(this.options.dir);
  }

  /** Appends a framed record; the promise resolves once it is on disk (fdatasync). */
  append(record: Buffer): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const g = this.current;
    g.bufs.push(record);
    g.bytes += record.length;
    if (!this.running) void this.run();
    return g.promise;
  }

  /** Resolves once every record appended so far has been written to the file (not necessarily synced). */
  drain(): Promise<void> {
    if (!this.running && this.current.bufs.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private async run(): Promise<void> {
    this.running = true;
    let prevSync: Promise<void> = Promise.resolve();
    try {
      // Appends that arrive during the last sync find `running` set: loop until none is left after a sync.
      while (this.current.bufs.length > 0 || (await prevSync, this.current.bufs.length > 0)) {
        const g = this.current;
        this.current = newGroup();
        const data = g.bufs.length === 1 ? g.bufs[0]! : Buffer.concat(g.bufs, g.bytes);
        const fh = this.fh;
        try {
          await writeAll(fh, data);
        } catch (e) {
          g.reject(e);
          throw e;
        }
        this.offset += data.length;
        this.bytesWritten += data.length;
        await prevSync;
        prevSync = fh.datasync().then(
          () => (this.syncs++, g.resolve()),
          (e) => (g.reject(e), Promise.reject(e)),
        );
        if (this.current.bufs.length === 0) {
          for (const d of this.drained.splice(0)) d();
        }
        if (this.offset >= this.options.rotateBytes) {
          await prevSync;
          await this.rotate();
        }
      }
    } catch (e) {
      this.failure = new StoreError('Writing the store log failed', { cause: e });
      this.current.reject(this.failure);
    } finally {
      this.running = false;
      for (const d of this.drained.splice(0)) d();
    }
  }

  private async rotate(): Promise<void> {
    const sealed = this.seq;
    await this.fh.close();
    this.seq++;
    this.offset = 0;
    await this.open();
    this.options.onSealed?.(sealed);
  }

  /** Waits for pending appends to be durable, then closes the file. */
  async close(): Promise<void> {
    while (this.running) await new Promise((r) => setTimeout(r, 1));
    await this.fh?.close().catch(() => {});
  }
}

async function writeAll(fh: FileHandle, data: Buffer): Promise<void> {
  let off = 0;
  while (off < data.length) {
    const { bytesWritten } = await fh.write(data, off, data.length - off);
    off += bytesWritten;
  }
}
