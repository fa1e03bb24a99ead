// Durable storage of mapfile sources (as uploaded): one file per mapfile under <dataDir>/mappings/, or in memory for tests.
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { writeFileDurably } from '../durable-file.ts';
import { join } from 'node:path';
import type { MappingFormat } from './parse.ts';

export interface StoredMapping {
  name: string;
  format: MappingFormat;
  /** Media type it was uploaded with (text/turtle, application/yaml, ...). */
  mediaType: string;
  text: string;
  /** ISO 8601 time of the last PUT. */
  updatedAt: string;
}

/** Where mapfile sources live; the MappingRegistry compiles what it loads from here. */
export interface MappingRepository {
  list(): Promise<StoredMapping[]>;
  put(mapping: StoredMapping): Promise<void>;
  delete(name: string): Promise<boolean>;
}

const EXT: Record<MappingFormat, string> = { turtle: '.ttl', yarrrml: '.yaml' };

/** Mapfiles and their directory are the owner's only, like `<dataDir>/admin.token`. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/**
 * Mapfiles as `<dir>/<name>.ttl` or `<dir>/<name>.yaml`, written to a temporary file, fsynced and renamed so that a crash
 * leaves the old or the new version, never a torn one. The media type is kept in a sidecar `<name>.<ext>.type`.
 */
export class FileMappingRepository implements MappingRepository {
  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    // Narrow what an older hub wrote with 0755/0644.
    chmodSync(dir, DIR_MODE);
    for (const f of readdirSync(dir)) if (/\.(ttl|yaml)(\.type)?$/.test(f)) chmodSync(join(dir, f), FILE_MODE);
  }

  async list(): Promise<StoredMapping[]> {
    const out: StoredMapping[] = [];
    for (const f of readdirSync(this.dir)) {
      const m = /^(.+)\.(ttl|yaml)$/.exec(f);
      if (!m) continue;
      const format: MappingFormat = m[2] === 'ttl' ? 'turtle' : 'yarrrml';
      const file = join(this.dir, f);
      let mediaType = format === 'turtle' ? 'text/turtle' : 'application/yaml';
      try {
        mediaType = readFileSync(`${file}.type`, 'utf8').trim() || mediaType;
      } catch {
        // no sidecar: the default media type of the format
      }
      out.push({ name: m[1]!, format, mediaType, text: readFileSync(file, 'utf8'), updatedAt: statSync(file).mtime.toISOString() });
    }
    return out;
  }

  async put(mapping: StoredMapping): Promise<void> {
    const file = join(this.dir, mapping.name + EXT[mapping.format]);
    // Off the event loop (a 1 MiB mapfile's write and fsync never hold it), fsynced before and after the rename.
    await writeFileDurably(`${file}.type`, mapping.mediaType, FILE_MODE);
    await writeFileDurably(file, mapping.text, FILE_MODE);
    // A mapfile that changed format leaves no stale twin behind.
    const other = join(this.dir, mapping.name + EXT[mapping.format === 'turtle' ? 'yarrrml' : 'turtle']);
    rmSync(other, { force: true });
    rmSync(`${other}.type`, { force: true });
  }

  async delete(name: string): Promise<boolean> {
    let found = false;
    for (const ext of Object.values(EXT)) {
      const file = join(this.dir, name + ext);
      try {
        statSync(file);
        found = true;
      } catch {
        continue;
      }
      rmSync(file, { force: true });
      rmSync(`${file}.type`, { force: true });
    }
    return found;
  }
}

/** A repository that forgets everything on restart (tests, previews). */
export class MemoryMappingRepository implements MappingRepository {
  private readonly items = new Map<string, StoredMapping>();

  async list(): Promise<StoredMapping[]> {
    return [...this.items.values()];
  }

  async put(mapping: StoredMapping): Promise<void> {
    this.items.set(mapping.name, { ...mapping });
  }

  async delete(name: string): Promise<boolean> {
    return this.items.delete(name);
  }
}
