// Finds the script a store worker thread runs: the TypeScript worker bundled once per process into plain JavaScript.
//
// Worker threads do not inherit the parent's TypeScript loader. Registering tsx inside each worker works (see
// worker-bootstrap.mjs) but costs ~1-1.5 s per worker here (it starts a loader thread and transforms every module);
// a plain .mjs bundle starts in ~0.2-0.5 s. esbuild (tsx's own dependency) bundles store-worker.ts with oxigraph left
// external; the result is cached under node_modules/.cache by content hash, so parallel processes share it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BOOTSTRAP = new URL('./worker-bootstrap.mjs', import.meta.url);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const cached = new Map<string, Promise<URL>>();

/** URL of the store worker's script; falls back to the tsx bootstrap when bundling is not possible. */
export function workerEntry(): Promise<URL> {
  return bundledWorker(new URL('./store-worker.ts', import.meta.url), BOOTSTRAP);
}

/** URL of a worker script `source` bundled once per process (cached by content hash), or `bootstrap` (tsx) without. */
export function bundledWorker(source: URL, bootstrap: URL): Promise<URL> {
  let url = cached.get(source.href);
  if (!url) cached.set(source.href, (url = bundle(source).catch(() => bootstrap)));
  return url;
}

async function bundle(source: URL): Promise<URL> {
  if (process.env.HUB_STORE_WORKER_TSX === '1') throw new Error('bundling turned off');
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [fileURLToPath(source)],
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
  const name = basename(fileURLToPath(source), '.ts');
  const file = join(dir, `${name}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, code);
    renameSync(tmp, file);
  }
  return pathToFileURL(file);
}
