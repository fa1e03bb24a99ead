// Fuzz targets: SPARQL text on the hub's three paths: /sparql (guard first), /search/sparql (form check first) and
// LDP PATCH with application/sparql-update; whatever passes the complexity guard runs in Oxigraph on a small store.
import { readFileSync } from 'node:fs';
import n3 from 'n3';
import type { Quad } from '@rdfjs/types';
import { StoreError } from '../../../hub/errors.ts';
import { sparqlForm } from '../../../hub/directory/search-routes.ts';
import { applyPatch } from '../../../hub/ldp/patch.ts';
import { parseSparqlForRewrite } from '../../../hub/sparql/parse-update.ts';
import { MAX_REWRITE_CHARS } from '../../../hub/sparql/update-dataset.ts';
import { MemoryQuadStore } from '../../../hub/store/memory-quad-store.ts';
import { assertManageable, mayAddQuads } from '../../../hub/store/query-complexity.ts';
import { queryForm } from '../../../hub/store/oxigraph-engine.ts';
import { EngineOracle } from '../engine-oracle.ts';
import { enc, filesUnder, ROOT, SHARED } from '../corpus.ts';
import { sparqlSoup } from '../generators.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

const DATA = `<urn:ex:s> <urn:ex:p> "1" .\n<urn:ex:s> <urn:ex:q> <urn:ex:o> .\n<urn:ex:o> <urn:ex:p> "2"@en <urn:ex:g> .\n_:b <urn:ex:p> <urn:ex:s> <urn:ex:g> .\n`;
const BASE = 'http://127.0.0.1:8080';
let oracle: EngineOracle | undefined;

/** Not a query form after the prologue: run as an update (the engine's own, linear, form detection). */
const looksLikeUpdate = (s: string) => queryForm(s) === undefined;
let updateCount = 0;

/**
 * Runs text that passed the guard in Oxigraph as the store does: in a worker with the store worker's 16 MB stack
 * (engine-oracle.ts), replaced after a trap. A trap is a crash of the guard (it let the text through); any other engine
 * error is the store's typed rejection (mapEngineError).
 */
function inEngine(s: string, update: boolean): void {
  oracle ??= new EngineOracle(DATA);
  if (update && ++updateCount % 200 === 0) oracle.reset();
  oracle.run(update ? 'update' : 'query', s);
}

/**
 * Whether the oracle runs a text. Oxigraph's planner is steeply superlinear in the triple patterns of one
 * group (measured: 60 patterns 0.8 s, 100 about 4.8 s; a mutated saved query with ~270 froze the fuzz child), which the
 * hub bounds by the query timeout in its store worker (and pays for with a rebuild: issue 9). Texts with many non-operator
 * terms are left out of the oracle; the trap vectors (deep nesting, operator chains) have few such terms and still run.
 */
function plannable(c: { terms: number; operators: number }): boolean {
  return c.terms - c.operators <= 150;
}

function sparqlSeeds(filter: (text: string) => boolean = () => true): Uint8Array[] {
  return [...filesUnder(`${SHARED}conformance/sparql11`, (n) => /\.(rq|ru)$/.test(n), 1200), ...filesUnder(`${ROOT}sparql`, (n) => n.endsWith('.rq'))]
    .map((p) => readFileSync(p, 'utf8'))
    .filter((t) => t.length <= 64 * 1024 && filter(t))
    .map(enc);
}

const TOKENS = ['SELECT', 'WHERE', '{', '}', '(', ')', '[', ']', 'OPTIONAL', 'UNION', 'MINUS', 'FILTER', 'GRAPH', 'SERVICE', 'DATA', 'INSERT DATA',
  'DELETE DATA', 'ex:a\\#', 'ex:\\#{', 'DATA:g {', 'VALUES:x', '\\#', '#', '"', "'", '"""', '<', '>', '^^', '&&', '||', '+', '/', '|', '*',
  '?x', '$x', 'VALUES', 'BIND', 'EXISTS', 'REGEX(?x, "(a+)+b")', 'REPLACE', '1e309', 'LIMIT 99999999999999999999', '<(((1)))&&?b>'];

function setupEngines(): void {
  oracle ??= new EngineOracle(DATA);
}

export const sparqlTarget: FuzzTarget = {
  name: 'sparql',
  description: '/sparql: assertManageable (the guard), mayAddQuads (maxQuads) -> sparqljs rewrite parse for updates -> Oxigraph query/update on a small store (oracle: a 16 MB worker, as the store)',
  tokens: TOKENS,
  seeds: () => sparqlSeeds(),
  generate: (rng) => enc(sparqlSoup(rng)),
  setup: setupEngines,
  run(input) {
    const s = text(input);
    // One guard pass, as /sparql runs it (measure() twice doubled the figure on 256 KiB inputs).
    const c = assertManageable(s);
    if (![c.depth, c.groups, c.operators].every(Number.isFinite)) throw new OracleError('measure() returned a non-finite figure');
    const update = looksLikeUpdate(s);
    // The store's maxQuads check reads every update's text (a regex pass over strings, IRIs and comments).
    if (update) mayAddQuads(s);
    // runUpdate rewrites updates with sparqljs (using-graph-uri) after the guard, up to MAX_REWRITE_CHARS (413 beyond).
    if (update && s.length <= MAX_REWRITE_CHARS) parseSparqlForRewrite(s, `${BASE}/sparql`);
    // Oxigraph runs in the store's worker, bounded by the query timeout: an oracle after the timing (traps are crashes).
    return plannable(c) ? () => inEngine(s, update) : undefined;
  },
};

export const sparqlSearchTarget: FuzzTarget = {
  name: 'sparql-search',
  description: '/search/sparql: sparqlForm (guard + form keyword) -> store.query path (assertManageable -> Oxigraph in a 16 MB worker, as the store)',
  tokens: TOKENS,
  seeds: () => sparqlSeeds((t) => !looksLikeUpdate(t)),
  generate: (rng) => enc(sparqlSoup(rng)),
  setup: setupEngines,
  run(input) {
    const s = text(input);
    sparqlForm(s);
    const c = assertManageable(s);
    return plannable(c) ? () => inEngine(s, false) : undefined;
  },
};

let store: MemoryQuadStore;

/**
 * A 500 `store-failed` from the scratch store is the engine failing on SPARQL the guard and applyPatch let through (a
 * trap, a stack overflow): a crash, not a typed rejection. The engine instance is replaced (a trap breaks it for good).
 */
export function storeFailure(e: unknown, replace: () => void): unknown {
  if (!(e instanceof StoreError)) return e;
  replace();
  const cause = (e as { cause?: unknown }).cause;
  return new OracleError(`the store failed (500) on a patch the hub let through: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`.slice(0, 400));
}
let state: Quad[];

export const ldpSparqlPatchTarget: FuzzTarget = {
  name: 'ldp-sparql-patch',
  description: 'LDP PATCH application/sparql-update -> applyPatch (scope the update to the resource, run it on a MemoryQuadStore)',
  tokens: TOKENS,
  seeds: () => [
    ...sparqlSeeds(looksLikeUpdate),
    enc('PREFIX dct: <http://purl.org/dc/terms/> DELETE { <> dct:title ?t } INSERT { <> dct:title "new" } WHERE { <> dct:title ?t }'),
    enc('INSERT DATA { <> <http://example.org/ns#tag> "x" }'),
  ],
  generate: (rng) => enc(`INSERT DATA { ${sparqlSoup(rng)} }`),
  generateRatio: 0.2,
  async setup() {
    store = new MemoryQuadStore();
    await store.open();
    state = new n3.Parser({ baseIRI: `${BASE}/ldp/r1` }).parse(`<> a <http://example.org/ns#Bug> ; <http://purl.org/dc/terms/title> "first" .`) as Quad[];
  },
  async run(input) {
    try {
      await applyPatch(store, BASE, state, 'application/sparql-update', text(input), `${BASE}/ldp/r1`);
    } catch (e) {
      throw storeFailure(e, () => (store = new MemoryQuadStore()));
    }
  },
};
