// Durable copy of the directory: one JSON file per TD (the exact JSON the client sent plus registration facts).
//
// The store holds each TD as RDF for search; RDF cannot give back the client's JSON byte for byte (key order,
// compact IRIs, number forms), so the original JSON lives here. Writes are atomic and durable (writeFileDurably: temp
// file, fsync, rename, fsync of the directory) before a registration is answered.
import { createHash } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DirectoryEntry } from './registration.ts';
import { removeFileDurably, writeFileDurably } from '../durable-file.ts';

function fileName(id: string): string {
  // Ids are arbitrary IRIs, longer than a file name may be: name files by a digest.
  return `${createHash('sha256').update(id).digest('hex')}.json`;
}

/** A persisted entry and, when saved with it, its RDF (N-Triples): a restart then reloads the store without JSON-LD work. */
export interface StoredEntry {
  entry: DirectoryEntry;
  ntriples?: string;
}

/** TD files and their directory are the owner's only (like `<dataDir>/admin.token`): TDs name devices and keys. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export class TdFiles {
  constructor(private readonly dir: string) {}

  async open(): Promise<StoredEntry[]> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    await chmod(this.dir, DIR_MODE); // a directory an older hub created 0755
    const entries: StoredEntry[] = [];
    for (const name of await readdir(this.dir)) {
      if (name.endsWith('.tmp')) {
        await rm(join(this.dir, name), { force: true });
        continue;
      }
      if (!name.endsWith('.json')) continue;
      await chmod(join(this.dir, name), FILE_MODE).catch(() => {}); // files an older hub wrote 0644
      try {
        const { ntriples, ...entry } = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as DirectoryEntry & { ntriples?: unknown };
        if (typeof entry.id === 'string' && typeof entry.td === 'object') {
          entries.push({ entry, ntriples: typeof ntriples === 'string' ? ntriples : undefined });
        }
      } catch {
        // A file that does not parse was never renamed into place by us; skip it rather than refuse to start.
      }
    }
    return entries;
  }

  save(entry: DirectoryEntry, ntriples?: string): Promise<void> {
    return writeFileDurably(join(this.dir, fileName(entry.id)), JSON.stringify(ntriples === undefined ? entry : { ...entry, ntriples }), FILE_MODE);
  }

  remove(id: string): Promise<void> {
    return removeFileDurably(join(this.dir, fileName(id)));
  }
}
