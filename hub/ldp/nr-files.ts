// Bytes of LDP non-RDF sources under <dataDir>/ldp-nr/, one file per resource named by the hash of its IRI,
// written atomically (temporary file + rename) so that a crash never leaves half a file behind.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** Uploaded bytes and their directory are the owner's only, like `<dataDir>/admin.token`. */
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

export class NonRdfFiles {
  readonly dir: string;
  constructor(dataDir: string) {
    this.dir = join(resolve(dataDir), 'ldp-nr');
    // Narrow what an older hub wrote with 0755/0644.
    if (existsSync(this.dir)) {
      chmodSync(this.dir, DIR_MODE);
      for (const f of readdirSync(this.dir)) chmodSync(join(this.dir, f), FILE_MODE);
    }
  }

  /** The file of a resource: the IRI never reaches the file system, only its SHA-256, so no path traversal. */
  private fileOf(resource: string): string {
    return join(this.dir, createHash('sha256').update(resource).digest('hex'));
  }

  async write(resource: string, bytes: Buffer): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: DIR_MODE });
    const target = this.fileOf(resource);
    const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, bytes, { flush: true, mode: FILE_MODE });
    await rename(tmp, target);
  }

  read(resource: string): Promise<Buffer> {
    return readFile(this.fileOf(resource));
  }

  async remove(resource: string): Promise<void> {
    await rm(this.fileOf(resource), { force: true });
  }
}
