// Rule definitions on disk: one JSON file per rule in <dataDir>/rules, written atomically (temporary file, fsync, rename).
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RULE_NAME } from './definition.ts';

export interface StoredRule {
  name: string;
  source: Record<string, unknown>;
}

export class RuleStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'rules');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Every stored rule; a file that is not JSON is skipped and reported (never stops the hub). */
  loadAll(onBad: (file: string, e: unknown) => void = () => {}): StoredRule[] {
    const out: StoredRule[] = [];
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json')).sort()) {
      const name = file.slice(0, -'.json'.length);
      if (!RULE_NAME.test(name)) continue;
      try {
        const source = JSON.parse(readFileSync(join(this.dir, file), 'utf8')) as unknown;
        if (typeof source !== 'object' || source === null || Array.isArray(source)) throw new Error('not a JSON object');
        out.push({ name, source: source as Record<string, unknown> });
      } catch (e) {
        onBad(file, e);
      }
    }
    return out;
  }

  save(name: string, source: Record<string, unknown>): void {
    const file = join(this.dir, `${name}.json`);
    const tmp = `${file}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(source, null, 2));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  }

  remove(name: string): void {
    const file = join(this.dir, `${name}.json`);
    if (existsSync(file)) rmSync(file);
  }
}
