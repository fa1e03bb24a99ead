// Background snapshots: a short-lived second worker loads the previous snapshot plus the sealed log segments and writes
// the next snapshot, so the query worker is never blocked by a dump. Then the covered segments and snapshot are deleted.
import { StoreError } from '../../errors.ts';
import { WorkerHost } from './worker-host.ts';
import { workerEntry } from './worker-entry.ts';
import { deleteBefore, fileSize, fsyncDir, scanStoreDir, segmentPath, snapshotPath } from './store-files.ts';

export interface SnapshotResult {
  seq: number;
  quads: number;
  bytes: number;
  durationMs: number;
}

/**
 * Writes `snapshot-<last+1>.nq` = snapshot `from` (if any) + `segments` (sealed, complete, ascending). The file appears
 * atomically (tmp + fsync + rename + directory fsync).
 */
export async function takeSnapshot(
  dir: string,
  fromSnapshot: number | undefined,
  segments: number[],
  /** Receives the snapshot worker's host, so that a closing store can end the snapshot at once. */
  onHost?: (host: WorkerHost) => void,
): Promise<SnapshotResult> {
  const started = performance.now();
  const seq = segments[segments.length - 1]! + 1;
  const host = new WorkerHost(await workerEntry(), { mapError: (e) => new StoreError(`Snapshot failed: ${e.name}: ${e.message}`) });
  onHost?.(host);
  try {
    await host.request({
      op: 'recover',
      plan: {
        snapshot: fromSnapshot === undefined ? undefined : snapshotPath(dir, fromSnapshot),
        segments: segments.map((s) => ({ path: segmentPath(dir, s) })),
      },
    });
    const written = await host.request({ op: 'writeSnapshot', path: snapshotPath(dir, seq) });
    await fsyncDir(dir);
    return { seq, ...written, durationMs: Math.round(performance.now() - started) };
  } finally {
    await host.close();
  }
}

/** Tracks the latest snapshot and the sealed segments after it; runs one snapshot at a time. */
export class Snapshotter {
  private running: Promise<void> | undefined;
  private host: WorkerHost | undefined;
  private stopped = false;
  snapshots = 0;
  lastSnapshotMs = 0;
  snapshotQuads = 0;
  failures = 0;

  constructor(
    private readonly dir: string,
    /** Sequence number of the latest snapshot (undefined = none). */
    public seq: number | undefined,
    /** Sealed segments not yet covered by a snapshot, ascending. */
    public sealed: number[],
    /** Resolves when no worker is reading the files a finished snapshot makes obsolete (a rebuild in progress). */
    private readonly filesFree: () => Promise<void> = async () => {},
  ) {}

  /** Bytes of the sealed segments. */
  async sealedBytes(): Promise<number> {
    let total = 0;
    for (const s of this.sealed) total += await fileSize(segmentPath(this.dir, s)).catch(() => 0);
    return total;
  }

  onSealed(seq: number): void {
    this.sealed.push(seq);
    this.start();
  }

  start(): void {
    if (this.running || this.sealed.length === 0 || this.stopped) return;
    const segments = [...this.sealed];
    this.running = (async () => {
      try {
        const r = await takeSnapshot(this.dir, this.seq, segments, (h) => (this.host = h));
        this.seq = r.seq;
        this.sealed = this.sealed.filter((s) => s >= r.seq);
        await this.filesFree();
        await deleteBefore(this.dir, await scanStoreDir(this.dir), r.seq);
        this.snapshots++;
        this.lastSnapshotMs = r.durationMs;
        this.snapshotQuads = r.quads;
      } catch (e) {
        if (!this.stopped) this.failures++, process.emitWarning(`store snapshot failed: ${(e as Error).message}`);
      } finally {
        this.running = undefined;
        this.host = undefined;
      }
      if (this.sealed.length && this.failures < 3) this.start();
    })();
  }

  /** Resolves when no snapshot is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Ends a running snapshot at once (its .tmp file is removed on the next open; the log still holds everything). */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.host?.close();
    await this.idle();
  }
}
