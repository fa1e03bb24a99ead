// Durable whole-file writes off the event loop: temp file, fsync, rename over the target, fsync of the directory.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The write in progress per target path: writes to one path run in call order, so the last call's content wins. */
const queues = new Map<string, Promise<unknown>>();

/**
 * Writes `data` to `path` so that after the promise resolves a crash or power loss leaves either the old content or
 * the new one, never a torn file or a rename the disk forgot: the data is fsynced before the rename and the directory
 * after it. Nothing blocks the event loop (an fsync can take tens of ms on a busy disk).
 */
export function writeFileDurably(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const run = async () => {
    const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fh = await open(tmp, 'w', mode);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, path);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
    await syncDir(dirname(path));
  };
  return enqueue(path, run);
}

function enqueue(path: string, run: () => Promise<void>): Promise<void> {
  const previous = queues.get(path) ?? Promise.resolve();
  const next = previous.then(run, run);
  const settled = next.catch(() => undefined);
  queues.set(path, settled);
  void settled.then(() => {
    if (queues.get(path) === settled) queues.delete(path);
  });
  return next;
}

/** Removes `path` (absent is fine) after the writes to it started so far, then fsyncs its directory. */
export function removeFileDurably(path: string): Promise<void> {
  return enqueue(path, async () => {
    await rm(path, { force: true });
    await syncDir(dirname(path));
  });
}

/** fsyncs a directory (a rename or unlink in it is then on disk); platforms that cannot open one for it are skipped. */
export async function syncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await open(dir, 'r');
  } catch {
    return;
  }
  try {
    await fh.sync();
  } catch {
    // EINVAL/EISDIR on some filesystems: the rename is as durable as the platform makes it
  } finally {
    await fh.close();
  }
}
