// Runs a protocol operation against the QuadStore and serialises the result in the negotiated media type.
import { withTokenPosition } from './error-position.ts';
import { BadRequestError, NotAcceptableError, NotImplementedError, StoreError } from '../errors.ts';
import { negotiate } from '../http/conneg.ts';
import { queryForm } from '../store/oxigraph-engine.ts';
import type { QuadStore, QueryForm } from '../store/quad-store.ts';
import { RDF_OUTPUT_TYPES, RDF_TYPE_ALIASES, serializeNTriples } from './rdf-formats.ts';
import { applyUsingGraphs } from './update-dataset.ts';
import { assertManageable } from '../store/query-complexity.ts';

/** Result media types of SELECT (SPARQL 1.1 Query Results JSON, XML, CSV/TSV), JSON first as the default. */
export const SELECT_TYPES = [
  'application/sparql-results+json',
  'application/sparql-results+xml',
  'text/csv',
  'text/tab-separated-values',
] as const;
/** ASK has a boolean result: only the JSON and XML result formats can carry it. */
export const ASK_TYPES = ['application/sparql-results+json', 'application/sparql-results+xml'] as const;

const RESULT_ALIASES: Record<string, string> = {
  'application/json': 'application/sparql-results+json',
  'application/xml': 'application/sparql-results+xml',
  'text/xml': 'application/sparql-results+xml',
};

/** Media types the store serialises itself for graph results; JSON-LD is converted here. */
const STORE_GRAPH_TYPES = new Set(['text/turtle', 'application/n-triples', 'application/n-quads', 'application/rdf+xml']);

export interface RunOptions {
  /** The default graph is the union of all graphs (ignored when defaultGraphUris are given). */
  unionDefaultGraph?: boolean;
  defaultGraphUris?: string[];
  namedGraphUris?: string[];
  timeoutMs?: number;
  baseIri?: string;
}

/** Engine refusals that are about the request, not a failing store: Oxigraph (WASM) has no HTTP client. */
const UNSUPPORTED = /service <[^>]*> is not supported|HTTP client is not available/i;

const NO_FEDERATION =
  'This endpoint does not evaluate SERVICE (federated query) nor LOAD remote documents; use SERVICE SILENT or load data with the Graph Store';

/** Oxigraph evaluates the SPARQL builtins and XSD casts only; it refuses a call of any other IRI at evaluation time. */
const UNKNOWN_FUNCTION = /The custom function <([^>]{0,200})[^>]*> is not supported/;

/**
 * A store failure that is the request's fault: a call of a function the engine does not know (`<urn:f>(?x)`, found by
 * the fuzz run through LDP PATCH) is 400 `unsupported-function`, not 500 `store-failed`. Anything else: undefined.
 */
export function requestFault(e: unknown): BadRequestError | undefined {
  const cause = e instanceof StoreError ? (e.cause as Error | undefined) : undefined;
  const m = cause ? UNKNOWN_FUNCTION.exec(String(cause.message ?? cause)) : null;
  return m ? new BadRequestError(`The function <${m[1]}> is not supported by this store (SPARQL 1.1 builtins and XSD casts are)`, { cause: e }, 'unsupported-function') : undefined;
}

/** Turns the engine's "no SERVICE / no remote LOAD" failures into a 501 `unsupported-feature`; rethrows the rest. */
function unsupported(e: unknown): never {
  const cause = e instanceof StoreError ? (e.cause as Error | undefined) : undefined;
  if (cause && UNSUPPORTED.test(String(cause.message ?? cause))) throw new NotImplementedError(NO_FEDERATION, { cause: e });
  throw requestFault(e) ?? e;
}

/**
 * Refuses, before the store, what the engine cannot evaluate: texts over the complexity limits (400 `query-too-complex`)
 * and SERVICE without SILENT (501 `unsupported-feature`; SPARQL 1.1 Federated Query §4, WoT Discovery
 * tdd-http-unsupported-feature allows 501 or 400). Linear in the text (store/query-complexity.ts).
 */
export function assertEvaluable(text: string): void {
  if (assertManageable(text).service > 0) throw new NotImplementedError(NO_FEDERATION);
}

/** The media types a query form can be answered in, preferred first. */
export function offeredTypes(form: QueryForm): readonly string[] {
  if (form === 'select') return SELECT_TYPES;
  if (form === 'ask') return ASK_TYPES;
  return RDF_OUTPUT_TYPES;
}

/** Picks the result media type for a query from the Accept header; throws NotAcceptableError (406). */
export function negotiateResultType(query: string, accept: string | undefined): string {
  const form = queryForm(query) ?? 'select';
  const offered = offeredTypes(form);
  const aliases = form === 'select' || form === 'ask' ? RESULT_ALIASES : RDF_TYPE_ALIASES;
  const chosen = negotiate(accept, offered, aliases);
  if (!chosen) {
    throw new NotAcceptableError(`A ${form.toUpperCase()} result is available as ${offered.join(', ')}; Accept allows none of them`);
  }
  return chosen;
}

/**
 * Runs a SPARQL 1.1 query with the protocol dataset and returns the body in `mediaType` (see negotiateResultType).
 * SPARQL 1.1 Protocol §2.1: the protocol dataset replaces any FROM / FROM NAMED of the query.
 */
export async function runQuery(
  store: QuadStore,
  query: string,
  mediaType: string,
  options: RunOptions = {},
): Promise<{ mediaType: string; body: string }> {
  assertEvaluable(query);
  const storeType = STORE_GRAPH_TYPES.has(mediaType) || !RDF_OUTPUT_TYPES.includes(mediaType as never) ? mediaType : 'application/n-triples';
  const result = await store
    .query(query, {
      resultFormat: storeType,
      defaultGraphUris: options.defaultGraphUris,
      namedGraphUris: options.namedGraphUris,
      unionDefaultGraph: options.unionDefaultGraph,
      timeoutMs: options.timeoutMs,
      baseIri: options.baseIri,
    })
    .catch((e: unknown) => unsupported(withTokenPosition(e, query, options.baseIri)));
  if (storeType !== mediaType) return { mediaType, body: serializeNTriples(result.body, mediaType) };
  return { mediaType, body: result.body };
}

/** Runs a SPARQL 1.1 update with the protocol's using-graph-uri / using-named-graph-uri (Protocol §2.2.3). */
export async function runUpdate(
  store: QuadStore,
  update: string,
  options: { usingGraphUris?: string[]; usingNamedGraphUris?: string[]; timeoutMs?: number; baseIri: string },
): Promise<void> {
  assertEvaluable(update);
  const text = applyUsingGraphs(update, options.usingGraphUris ?? [], options.usingNamedGraphUris ?? [], options.baseIri);
  await store
    .update(text, { baseIri: options.baseIri, timeoutMs: options.timeoutMs })
    .catch((e: unknown) => unsupported(text === update ? withTokenPosition(e, update, options.baseIri) : e));
}
