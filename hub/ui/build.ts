// Builds the web UI (hub/ui/src) with esbuild's API into hub/ui/dist/<build>/ (gitignored) when missing or stale.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from 'n3';

const UI_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = join(UI_DIR, '..', '..');
const SRC_DIR = join(UI_DIR, 'src');
export const DIST_DIR = join(UI_DIR, 'dist');
const CURRENT = join(DIST_DIR, 'current.json');

/** What a build left: its directory and the hashed names the shell links to. */
export interface UiBuild {
  dir: string;
  script: string;
  style: string;
  /** Input fingerprint (source paths, sizes and mtimes): a build is reused while it matches. */
  fingerprint: string;
  builtAt: string;
}

/** Every file the bundle is made from: the UI's sources, the vocabularies it completes, and the lock file. */
function inputs(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  walk(SRC_DIR);
  for (const dir of ['ontologies', 'mappings']) {
    for (const f of readdirSync(join(ROOT, dir))) if (f.endsWith('.ttl')) files.push(join(ROOT, dir, f));
  }
  // Shared with the server: which properties the hub writes (the Thing page's Set forms).
  files.push(join(ROOT, 'hub/directory/writable-properties.ts'));
  files.push(join(ROOT, 'package-lock.json'), fileURLToPath(import.meta.url));
  return files.sort();
}

function fingerprint(files: string[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    const s = statSync(f, { throwIfNoEntry: false });
    h.update(`${relative(ROOT, f)}\0${s?.size ?? -1}\0${s?.mtimeMs ?? -1}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** The current build when it matches the sources, else undefined. */
export function currentBuild(): UiBuild | undefined {
  try {
    const b = JSON.parse(readFileSync(CURRENT, 'utf8')) as UiBuild;
    if (b.fingerprint !== fingerprint(inputs())) return undefined;
    if (!existsSync(join(b.dir, b.script)) || !existsSync(join(b.dir, b.style))) return undefined;
    return b;
  } catch {
    return undefined;
  }
}

/** Prefixes and terms for the SPARQL/Turtle editors' completion, read from the hub's own vocabularies and mapfiles. */
export function vocabulary(): { prefixes: Record<string, string>; terms: Array<{ prefix: string; local: string; label?: string }> } {
  const prefixes: Record<string, string> = {};
  const seen = new Map<string, { prefix: string; local: string; label?: string }>();
  const labels = new Map<string, string>();
  const iris = new Set<string>();
  const files = [
    ...readdirSync(join(ROOT, 'ontologies')).filter((f) => f.endsWith('.ttl')).map((f) => join(ROOT, 'ontologies', f)),
    ...readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.ttl')).map((f) => join(ROOT, 'mappings', f)),
  ];
  for (const file of files) {
    const filePrefixes: Record<string, string> = {};
    let quads;
    try {
      quads = new Parser({ baseIRI: 'urn:base:' }).parse(readFileSync(file, 'utf8'), null, (p, iri) => {
        filePrefixes[p] = typeof iri === 'string' ? iri : iri.value;
      });
    } catch {
      continue; // a mapfile being edited may not parse: completion does without it
    }
    for (const [p, iri] of Object.entries(filePrefixes)) if (p && !(p in prefixes)) prefixes[p] = iri;
    for (const q of quads) {
      for (const t of [q.subject, q.predicate, q.object]) if (t.termType === 'NamedNode') iris.add(t.value);
      if (q.predicate.value === 'http://www.w3.org/2000/01/rdf-schema#label' && q.object.termType === 'Literal') labels.set(q.subject.value, q.object.value);
    }
  }
  const byLength = Object.entries(prefixes).sort((a, b) => b[1].length - a[1].length);
  for (const iri of iris) {
    const hit = byLength.find(([, ns]) => iri.startsWith(ns) && iri.length > ns.length);
    if (!hit) continue;
    const local = iri.slice(hit[1].length);
    if (!/^[A-Za-z_][\w.-]*$/.test(local)) continue;
    seen.set(iri, { prefix: hit[0], local, label: labels.get(iri) });
  }
  const terms = [...seen.values()].sort((a, b) => (a.prefix + a.local).localeCompare(b.prefix + b.local));
  return { prefixes, terms };
}

let building: Promise<UiBuild> | undefined;

/**
 * The UI build, made now when missing or older than its inputs (esbuild: bundled, minified, hashed names, source
 * maps). Several processes may build at once: each writes its own directory and then replaces current.json by rename,
 * so a reader always sees a whole build. esbuild is a dev dependency: without it and without a build this rejects.
 */
export function ensureUiBuild(): Promise<UiBuild> {
  const fresh = currentBuild();
  if (fresh) return Promise.resolve(fresh);
  building ??= build().finally(() => {
    building = undefined;
  });
  return building;
}

const LOCK = join(DIST_DIR, 'build.lock');

/**
 * One builder at a time across processes (test files run in parallel workers on a small machine): the others wait
 * for its current.json. A lock older than two minutes is taken to be left by a process that died.
 */
async function build(): Promise<UiBuild> {
  mkdirSync(DIST_DIR, { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      break;
    } catch {
      const age = Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? 0);
      if (age > 120_000) rmSync(LOCK, { force: true });
      else if (Date.now() > deadline) throw new Error('UI build: another process holds hub/ui/dist/build.lock');
      await new Promise((r) => setTimeout(r, 200).unref());
      const done = currentBuild();
      if (done) return done;
    }
  }
  try {
    return currentBuild() ?? (await buildNow());
  } finally {
    rmSync(LOCK, { force: true });
  }
}

async function buildNow(): Promise<UiBuild> {
  const esbuild = await import('esbuild');
  const print = fingerprint(inputs());
  const dir = join(DIST_DIR, `${print}-${process.pid}-${Date.now().toString(36)}`);
  const vocab = vocabulary();
  const result = await esbuild.build({
    entryPoints: { app: join(SRC_DIR, 'main.ts') },
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox115', 'safari16'],
    minify: true,
    sourcemap: 'linked',
    entryNames: '[name]-[hash]',
    chunkNames: 'app-chunk-[hash]',
    splitting: true,
    outdir: dir,
    absWorkingDir: ROOT,
    metafile: true,
    logLevel: 'silent',
    legalComments: 'none',
    plugins: [
      {
        name: 'hub-vocabulary',
        setup(b) {
          b.onResolve({ filter: /^virtual:vocabulary$/ }, () => ({ path: 'vocabulary', namespace: 'hub-vocabulary' }));
          b.onLoad({ filter: /.*/, namespace: 'hub-vocabulary' }, () => ({ contents: JSON.stringify(vocab), loader: 'json' }));
        },
      },
    ],
  });
  const outputs = Object.keys(result.metafile.outputs).map((p) => relative(dir, join(ROOT, p)));
  const script = outputs.find((p) => /^app-[A-Z0-9]+\.js$/.test(p));
  const style = outputs.find((p) => /^app-[A-Z0-9]+\.css$/.test(p));
  if (!script || !style) throw new Error(`UI build produced no app script/style (${outputs.join(', ')})`);
  const done: UiBuild = { dir, script, style, fingerprint: print, builtAt: new Date().toISOString() };
  const tmp = `${CURRENT}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(done, null, 2));
  renameSync(tmp, CURRENT);
  prune(dir);
  return done;
}

/** Removes builds other than `keep` that are over a minute old (another process may still serve a newer one). */
function prune(keep: string): void {
  for (const e of readdirSync(DIST_DIR, { withFileTypes: true })) {
    const p = join(DIST_DIR, e.name);
    if (!e.isDirectory() || p === keep) continue; // (build.lock and current.json are files)
    if (Date.now() - statSync(p).mtimeMs > 60_000) rmSync(p, { recursive: true, force: true });
  }
}

// `node --import tsx hub/ui/build.ts` builds (or reuses) the bundle and prints where it is.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  ensureUiBuild().then(
    (b) => console.log(`UI build ${b.dir} (${b.script}, ${b.style}) in ${Math.round(performance.now() - t0)} ms`),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
