// Seed corpus helpers: real inputs from the repo and ../shared, read as bytes.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The project root (test/fuzz/../..). */
export const ROOT = new URL('../../', import.meta.url).pathname;
/** The shared material next to the checkout (conformance suites, FLINT examples); absent on some machines. */
export const SHARED = join(ROOT, '../shared/');

/** Every file under `dir` (recursively) whose name passes `accept`, sorted, at most `limit`. Missing dirs give none. */
export function filesUnder(dir: string, accept: (name: string) => boolean, limit = 2000): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      if (out.length >= limit) return;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (accept(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

export function readAll(paths: string[], maxBytes = 64 * 1024): Uint8Array[] {
  return paths.map((p) => new Uint8Array(readFileSync(p))).filter((b) => b.length <= maxBytes);
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
