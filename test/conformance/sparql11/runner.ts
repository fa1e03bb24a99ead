// Runs one W3C SPARQL 1.1 query, update or syntax test against a fresh MemoryQuadStore through hub/sparql/execute.ts.
import { Parser, type Quad } from 'n3';
import { isomorphic } from 'rdf-isomorphic';
import { SparqlSyntaxError } from '../../../hub/errors.ts';
import { MemoryQuadStore } from '../../../hub/store/memory-quad-store.ts';
import { DEFAULT_GRAPH, type QuadStore } from '../../../hub/store/quad-store.ts';
import { queryForm } from '../../../hub/store/oxigraph-engine.ts';
import { negotiateResultType, runQuery, runUpdate } from '../../../hub/sparql/execute.ts';
import { parseRdfToNTriples } from '../../../hub/sparql/rdf-formats.ts';
import { readUrl, type GraphFile, type ManifestTest } from './manifest.ts';
import { parseCsv, parseRdfResultSet, parseSrj, parseSrx, parseTsv, sameResults, type ResultSet } from './results.ts';

export interface Outcome {
  ok: boolean;
  reason?: string;
}

const RDF_BY_EXT: Record<string, string> = {
  ttl: 'text/turtle',
  nt: 'application/n-triples',
  rdf: 'application/rdf+xml',
  jsonld: 'application/ld+json',
};

function ext(url: string): string {
  return url.split('.').pop()!.toLowerCase();
}

/** An RDF file as N-Triples, relative IRIs against the file's own URL. */
export function fileAsNTriples(url: string): string {
  return parseRdfToNTriples(readUrl(url), RDF_BY_EXT[ext(url)] ?? 'text/turtle', url);
}

async function load(store: QuadStore, files: GraphFile[]): Promise<void> {
  for (const f of files) await store.insert(fileAsNTriples(f.file), f.name ?? DEFAULT_GRAPH);
}

function ntQuads(ntriples: string): Quad[] {
  return new Parser({ format: 'N-Triples' }).parse(ntriples) as Quad[];
}

function sameGraph(expectedNt: string, actualNt: string): boolean {
  return isomorphic(ntQuads(expectedNt), ntQuads(actualNt));
}

async function evaluateQuery(t: ManifestTest): Promise<Outcome> {
  const store = new MemoryQuadStore();
  await load(store, t.data);
  const query = readUrl(t.request!);
  const form = queryForm(query) ?? 'select';
  const result = t.result!;
  const ordered = /\bORDER\s+BY\b/i.test(query);
  if (form === 'construct' || form === 'describe') {
    const r = await runQuery(store, query, 'text/turtle', { baseIri: t.request });
    const actual = new Parser({ baseIRI: t.request }).parse(r.body) as Quad[];
    const expected = ntQuads(fileAsNTriples(result));
    return isomorphic(expected, actual) ? { ok: true } : { ok: false, reason: `graph differs:\n${r.body}` };
  }
  const kind = ext(result);
  const mediaType =
    kind === 'srx' ? 'application/sparql-results+xml' : kind === 'csv' ? 'text/csv' : kind === 'tsv' ? 'text/tab-separated-values' : 'application/sparql-results+json';
  const r = await runQuery(store, query, mediaType, { baseIri: t.request });
  const parse: Record<string, (s: string) => ResultSet> = { srx: parseSrx, csv: parseCsv, tsv: parseTsv, srj: parseSrj };
  const actual = (parse[kind] ?? parseSrj)(r.body);
  const expectedText = readUrl(result);
  const expected = parse[kind] ? parse[kind](expectedText) : parseRdfResultSet(expectedText, result);
  return sameResults(expected, actual, ordered) ? { ok: true } : { ok: false, reason: `results differ; got:\n${r.body.slice(0, 2000)}` };
}

async function graphNames(store: QuadStore): Promise<string[]> {
  const rows = await store.select('SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }');
  return rows.map((r) => r.g!.value).sort();
}

async function evaluateUpdate(t: ManifestTest): Promise<Outcome> {
  const store = new MemoryQuadStore();
  await load(store, t.data);
  await runUpdate(store, readUrl(t.request!), { baseIri: t.request! });
  const expectedDefault = t.resultData.filter((f) => !f.name).map((f) => fileAsNTriples(f.file)).join('');
  if (!sameGraph(expectedDefault, (await store.getGraph(DEFAULT_GRAPH)) ?? '')) return { ok: false, reason: 'default graph differs' };
  const expectedNamed = new Map<string, string>();
  for (const f of t.resultData.filter((d) => d.name)) expectedNamed.set(f.name!, (expectedNamed.get(f.name!) ?? '') + fileAsNTriples(f.file));
  const nonEmpty = [...expectedNamed].filter(([, nt]) => nt.trim()).map(([g]) => g).sort();
  const actualNames = await graphNames(store);
  if (nonEmpty.join(' ') !== actualNames.join(' ')) return { ok: false, reason: `named graphs ${actualNames} != ${nonEmpty}` };
  for (const g of nonEmpty) {
    if (!sameGraph(expectedNamed.get(g)!, (await store.getGraph(g)) ?? '')) return { ok: false, reason: `graph <${g}> differs` };
  }
  return { ok: true };
}

async function checkSyntax(t: ManifestTest, positive: boolean, update: boolean): Promise<Outcome> {
  const text = readUrl(t.request!);
  const store = new MemoryQuadStore();
  try {
    if (update) await runUpdate(store, text, { baseIri: t.request! });
    else await runQuery(store, text, negotiateResultType(text, undefined), { baseIri: t.request });
  } catch (e) {
    if (e instanceof SparqlSyntaxError) return positive ? { ok: false, reason: `rejected: ${e.message}` } : { ok: true };
    // Evaluation errors (e.g. LOAD of a remote document) mean the text parsed.
  }
  return positive ? { ok: true } : { ok: false, reason: 'accepted an invalid text' };
}

/** Runs one test; unsupported test types answer undefined (the caller skips them). */
export async function runTest(t: ManifestTest): Promise<Outcome | undefined> {
  try {
    switch (t.type) {
      case 'QueryEvaluationTest':
      case 'CSVResultFormatTest':
        return await evaluateQuery(t);
      case 'UpdateEvaluationTest':
        return await evaluateUpdate(t);
      case 'PositiveSyntaxTest11':
        return await checkSyntax(t, true, false);
      case 'NegativeSyntaxTest11':
        return await checkSyntax(t, false, false);
      case 'PositiveUpdateSyntaxTest11':
        return await checkSyntax(t, true, true);
      case 'NegativeUpdateSyntaxTest11':
        return await checkSyntax(t, false, true);
      default:
        return undefined;
    }
  } catch (e) {
    return { ok: false, reason: `threw ${(e as Error).name}: ${(e as Error).message}` };
  }
}
