// File layout of the embedded store under <dataDir>/store/: log segments and snapshots, named by sequence number.
//
// `log-<seq>.wal` are log segments; `snapshot-<seq>.nq` is the store's content after every segment numbered below seq
// (N-Quads, written to a .tmp file, fsynced and renamed, so a snapshot file that exists is complete).
import { chmod, open, readdir, readFile, rm, stat, truncate } from 'node:fs/promises';
import { StoreError } from '../../errors.ts';
import { join } from 'node:path';
import type { RecoveryPlan } from './recover.ts';

const pad = (n: number) => String(n).padStart(12, '0');

/** Data derived from the store's content, kept beside it (hub/store/aggregates/checkpoint.ts). */
export const AGGREGATES_CHECKPOINT = 'aggregates-checkpoint.bin';

/**
 * Modes of the store's files and directory: owner only, like `<dataDir>/admin.token`. The log and snapshots hold every
 * quad, TDs included; other local users have no business reading them.
 */
export const FILE_MODE = 0o600;
export const DIR_MODE = 0o700;

export const segmentPath = (dir: string, seq: number) => join(dir, `log-${pad(seq)}.wal`);
export const snapshotPath = (dir: string, seq: number) => join(dir, `snapshot-${pad(seq)}.nq`);

export interface StoreFiles {
  segments: number[];
  snapshots: number[];
}

/**
 * Lists segments and snapshots (ascending) and removes leftover .tmp files of interrupted snapshots. Files written by
 * an older hub with mode 0644 (and the directory) are narrowed to FILE_MODE / DIR_MODE on the way.
 */
export async function scanStoreDir(dir: string): Promise<StoreFiles> {
  const files: StoreFiles = { segments: [], snapshots: [] };
  await chmod(dir, DIR_MODE);
  for (const name of await readdir(dir)) {
    let m: RegExpExecArray | null;
    if (name.endsWith('.tmp')) {
      await rm(join(dir, name), { force: true }); // gone: nothing to narrow (a chmod after it was ENOENT at open)
      continue;
    }
    if ((m = /^log-(\d+)\.wal$/.exec(name))) files.segments.push(Number(m[1]));
    else if ((m = /^snapshot-(\d+)\.nq$/.exec(name))) files.snapshots.push(Number(m[1]));
    else if (name !== AGGREGATES_CHECKPOINT) continue;
    await chmod(join(dir, name), FILE_MODE);
  }
  files.segments.sort((a, b) => a - b);
  files.snapshots.sort((a, b) => a - b);
  return files;
}

/** Makes a rename or a file creation in `dir` durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * Names the store's content without reading it: the latest snapshot and the last non-empty log segment at or after it,
 * with their sizes. Segments only grow while their store is open and every open starts a new one (a torn tail is cut
 * back to the last whole record), so the same mark means the same records; a snapshot of the same records under a new
 * number gives another mark (a needless rebuild of derived data, never a wrong one).
 */
export async function filesMark(dir: string): Promise<string> {
  const segments: number[] = [];
  const snapshots: number[] = [];
  for (const name of await readdir(dir)) {
    let m: RegExpExecArray | null;
    if ((m = /^log-(\d+)\.wal$/.exec(name))) segments.push(Number(m[1]));
    else if ((m = /^snapshot-(\d+)\.nq$/.exec(name))) snapshots.push(Number(m[1]));
  }
  const snap = snapshots.length ? Math.max(...snapshots) : undefined;
  let last = '';
  for (const s of segments.sort((a, b) => a - b)) {
    if (snap !== undefined && s < snap) continue;
    const size = await fileSize(segmentPath(dir, s));
    if (size > 0) last = `${s}:${size}`;
  }
  return `snapshot ${snap === undefined ? '-' : `${snap}:${await fileSize(snapshotPath(dir, snap))}`} log ${last || '-'}`;
}

/** Deletes segments below `seq` and snapshots below `seq` (they are covered by snapshot `seq`). */
export async function deleteBefore(dir: string, files: StoreFiles, seq: number): Promise<void> {
  for (const s of files.segments) if (s < seq) await rm(segmentPath(dir, s), { force: true });
  for (const s of files.snapshots) if (s < seq) await rm(snapshotPath(dir, s), { force: true });
}

/** What to replay: snapshot `snap` (if any) then `segments`; `lastLength` bounds the last one (it may be growing). */
export function recoveryPlan(dir: string, snap: number | undefined, segments: number[], lastLength?: number): RecoveryPlan {
  return {
    snapshot: snap === undefined ? undefined : snapshotPath(dir, snap),
    segments: segments.map((s, i) => ({ path: segmentPath(dir, s), length: i === segments.length - 1 ? lastLength : undefined })),
  };
}

/** Cuts a torn tail off a segment and syncs the file. */
export async function truncateDurably(path: string, length: number): Promise<void> {
  await truncate(path, length);
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Takes `<dir>/LOCK` (holding our pid) so that two processes never append to one store. A lock left by a process that
 * no longer runs (a crash, SIGKILL) is taken over. Returns the release function.
 */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx', FILE_MODE);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
        throw new StoreError(`The store in ${dir} is in use by process ${pid}`);
      }
      await rm(path, { force: true });
    }
  }
  throw new StoreError(`Cannot lock the store in ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
