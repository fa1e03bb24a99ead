// Rule definitions on disk: one JSON file per rule in <dataDir>/rules, written atomically (temporary file, fsync, rename); the rules' state (accumulators, outputs) in one snapshot beside them.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RULE_NAME } from './definition.ts';
import { removeFileDurably, writeFileDurably } from '../durable-file.ts';

export interface StoredRule {
  name: string;
  source: Record<string, unknown>;
}

/** What a rule remembers across restarts: its accumulator and the outputs it wrote (not its counters: those count this process's runs). */
export interface RuleMemory {
  state?: number;
  outputs?: Record<string, unknown>;
}

/** The state snapshot's file (beside the rule files; not a rule: its name has no RULE_NAME form). */
const STATE_FILE = '_state.json';

export class RuleStore {
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'rules');
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  /** Every stored rule; a file that is not JSON is skipped and reported (never stops the hub). */
  loadAll(onBad: (file: string, e: unknown) => void = () => {}): StoredRule[] {
    const out: StoredRule[] = [];
    for (const file of readdirSync(this.dir).filter((f) => f.endsWith('.json') && f !== STATE_FILE).sort()) {
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

  /** Durable once resolved (writeFileDurably: off the event loop, fsync before and after the rename). */
  save(name: string, source: Record<string, unknown>): Promise<void> {
    return writeFileDurably(join(this.dir, `${name}.json`), JSON.stringify(source, null, 2));
  }

  remove(name: string): Promise<void> {
    return removeFileDurably(join(this.dir, `${name}.json`));
  }

  /** The rules' state as last saved; an unreadable snapshot is reported and read as empty (the rules start afresh). */
  loadMemory(onBad: (file: string, e: unknown) => void = () => {}): Map<string, RuleMemory> {
    const file = join(this.dir, STATE_FILE);
    const out = new Map<string, RuleMemory>();
    if (!existsSync(file)) return out;
    try {
      const all = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (typeof all !== 'object' || all === null || Array.isArray(all)) throw new Error('not a JSON object');
      for (const [name, m] of Object.entries(all as Record<string, unknown>)) {
        if (!RULE_NAME.test(name) || typeof m !== 'object' || m === null) continue;
        const { state, outputs } = m as Record<string, unknown>;
        out.set(name, {
          ...(typeof state === 'number' && Number.isFinite(state) ? { state } : {}),
          ...(typeof outputs === 'object' && outputs !== null && !Array.isArray(outputs) ? { outputs: outputs as Record<string, unknown> } : {}),
        });
      }
    } catch (e) {
      onBad(STATE_FILE, e);
    }
    return out;
  }

  /**
   * Writes the whole snapshot atomically (temporary file, fsync, rename) without holding the event loop: the engine
   * calls it at most once a second, and only when a rule's state changed.
   */
  async saveMemory(all: Map<string, RuleMemory>): Promise<void> {
    const file = join(this.dir, STATE_FILE);
    const tmp = `${file}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(Object.fromEntries(all)));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  }
}
