// Finds the script a store worker thread runs: the TypeScript worker bundled once per process into plain JavaScript.
//
// Worker threads do not inherit the parent's TypeScript loader. Registering tsx inside each worker works (see
// worker-bootstrap.mjs) but costs ~1-1.5 s per worker here (it starts a loader thread and transforms every module);
// a plain .mjs bundle starts in ~0.2-0.5 s. esbuild (tsx's own dependency) bundles store-worker.ts with oxigraph left
// external; the result is cached under node_modules/.cache by content hash, so parallel processes share it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

let cached: Promise<URL> | undefined;

/** URL of the worker script; falls back to the tsx bootstrap when bundling is not possible. */
export function workerEntry(): Promise<URL> {
  cached ??= bundle().catch(() => BOOTSTRAP);
  return cached;
}

async function bundle(): Promise<URL> {
  if (process.env.HUB_STORE_WORKER_TSX === '1') return BOOTSTRAP;
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(new URL('./store-worker.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['oxigraph'],
    write: false,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const dir = join(ROOT, 'node_modules', '.cache', 'hub-store-worker');
  const file = join(dir, `store-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}
