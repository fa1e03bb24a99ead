// Saves crash/hang inputs under test/fuzz/repro/<target>/ (a few per distinct message, so one bug does not write thousands).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './runner.ts';

export const REPRO_DIR = new URL('./repro/', import.meta.url).pathname;

/** The message without numbers and positions: findings with the same signature are very likely one defect. */
export function signature(f: Finding): string {
  return `${f.target}:${f.kind}:${f.message.replace(/\d+(\.\d+)?/g, 'N').replace(/'[^']*'|"[^"]*"/g, 'S').slice(0, 160)}`;
}

export class ReproSaver {
  private readonly perSignature = new Map<string, number>();

  constructor(private readonly dir: string, private readonly perSignatureLimit = 3) {}

  /** Writes `<kind>-s<seed>-i<index>.bin` (the raw input) and `.txt` (what happened); returns the .bin path, or undefined when over the limit. */
  save(f: Finding, input: Uint8Array): string | undefined {
    const sig = signature(f);
    const n = this.perSignature.get(sig) ?? 0;
    this.perSignature.set(sig, n + 1);
    if (n >= this.perSignatureLimit) return undefined;
    const dir = join(this.dir, f.target);
    mkdirSync(dir, { recursive: true });
    const base = join(dir, `${f.kind}-s${f.seed}-i${f.index}`);
    writeFileSync(`${base}.bin`, input);
    writeFileSync(`${base}.txt`, `target ${f.target}\nseed ${f.seed} index ${f.index}\n${f.kind}: ${f.message}\nreplay: npm run fuzz -- --replay ${base}.bin --target ${f.target}\n`);
    return `${base}.bin`;
  }
}
