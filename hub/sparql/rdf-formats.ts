// RDF syntaxes the SPARQL endpoint and the Graph Store speak: parse request bodies to N-Triples, serialise graphs.
import oxigraph from 'oxigraph';
import { BadRequestError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';

const { Store, blankNode, parse, quad, defaultGraph } = oxigraph;
type OxQuad = ReturnType<typeof quad>;
type OxTerm = OxQuad['subject'] | OxQuad['object'];

/** RDF media types served for graphs, in the server's order of preference (Turtle is the default). */
export const RDF_OUTPUT_TYPES = [
  'text/turtle',
  'application/n-triples',
  'application/n-quads',
  'application/ld+json',
  'application/rdf+xml',
] as const;

/** Other names clients use for the same syntaxes. */
export const RDF_TYPE_ALIASES: Record<string, string> = {
  'application/x-turtle': 'text/turtle',
  'text/plain': 'application/n-triples',
  'text/n3': 'text/turtle',
  'application/json': 'application/ld+json',
  'application/xml': 'application/rdf+xml',
  'text/xml': 'application/rdf+xml',
};

/** RDF media types accepted in request bodies (RDF 1.1 syntaxes; N3 limited to its Turtle subset). */
export const RDF_INPUT_TYPES = new Set([...RDF_OUTPUT_TYPES, ...Object.keys(RDF_TYPE_ALIASES)].filter((t) => t !== 'text/plain'));

function canonical(mediaType: string): string {
  return RDF_TYPE_ALIASES[mediaType] ?? mediaType;
}

/**
 * Deepest nesting accepted in JSON-LD and RDF/XML bodies. Oxigraph's JSON-LD parser traps (WASM out of bounds, which
 * breaks every later call on the module) at ~1,000 nested objects, and its RDF/XML parser slows quadratically with
 * depth (20,000 nested elements: 52 s); real documents nest a few levels.
 */
export const MAX_DOCUMENT_DEPTH = 256;

/** Nesting depth of a JSON text (objects and arrays), strings skipped; linear. */
function jsonDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) max = Math.max(max, ++depth);
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

/** Element nesting depth of an XML text (comments, CDATA and processing instructions ignored); linear. */
function xmlDepth(text: string): number {
  let depth = 0;
  let max = 0;
  const tag = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<[?!][^>]*>|<(\/?)[^\s/>]+(?:[^>"']|"[^"]*"|'[^']*')*?(\/?)>/g;
  for (const m of text.matchAll(tag)) {
    if (m[1] === undefined) continue;
    if (m[1] === '/') depth--;
    else if (m[2] !== '/') max = Math.max(max, ++depth);
  }
  return max;
}

/**
 * Most blank nodes written as `[` or made by RDF list members in one Turtle body. Oxigraph's Turtle parser (on this
 * thread) slows down superlinearly with them: measured here, 10,000 list members 0.2 s, 20,000 0.8 s, 100,000 (a 212 KB
 * body of 2,000 lists) 98 s; 10,000 nested lists 3.2 s.
 */
export const MAX_TURTLE_ANONYMOUS = 10_000;

/** Nesting of `(` / `[` and the number of `[` plus list members in a Turtle text (strings, IRIs, comments skipped); linear. */
function turtleShape(text: string): { depth: number; anonymous: number } {
  const stack: number[] = [];
  let max = 0;
  let anonymous = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 || c === 39) {
      const long = text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c;
      let j = long ? i + 3 : i + 1;
      while (j < n && !(text.charCodeAt(j) === c && (!long || (text.charCodeAt(j + 1) === c && text.charCodeAt(j + 2) === c)))) j += text.charCodeAt(j) === 92 ? 2 : 1;
      i = j + (long ? 3 : 1);
      if (stack.at(-1) === 40) anonymous++;
      continue;
    }
    if (c === 60 || c === 35) {
      const end = text.indexOf(c === 60 ? '>' : '\n', i + 1);
      i = end < 0 ? n : end + 1;
      if (c === 60 && stack.at(-1) === 40) anonymous++;
      continue;
    }
    if (c === 92) {
      i += 2; // PN_LOCAL_ESC in a prefixed name
      continue;
    }
    if (c === 40 || c === 91) {
      if (c === 91 || stack.at(-1) === 40) anonymous++;
      stack.push(c);
      if (stack.length > max) max = stack.length;
    } else if (c === 41 || c === 93) stack.pop();
    else if (stack.at(-1) === 40 && c > 32 && !(i > 0 && text.charCodeAt(i - 1) > 32 && text.charCodeAt(i - 1) !== 40 && text.charCodeAt(i - 1) !== 41)) anonymous++;
    i++;
  }
  return { depth: max, anonymous };
}

function assertShallow(body: string, format: string): void {
  const turtle = format === 'text/turtle' ? turtleShape(body) : undefined;
  const depth = format === 'application/ld+json' ? jsonDepth(body) : format === 'application/rdf+xml' ? xmlDepth(body) : (turtle?.depth ?? 0);
  if (depth > MAX_DOCUMENT_DEPTH) {
    throw new BadRequestError(`The ${format} document nests ${depth} levels deep; at most ${MAX_DOCUMENT_DEPTH} are accepted`, undefined, 'rdf-too-deep');
  }
  if (turtle && turtle.anonymous > MAX_TURTLE_ANONYMOUS) {
    throw new PayloadTooLargeError(
      `The Turtle document makes ${turtle.anonymous} blank nodes with [ ] and lists; at most ${MAX_TURTLE_ANONYMOUS} in one request (send it in parts)`,
    );
  }
}

/**
 * Parses an RDF document into N-Triples (named graphs of a quad syntax are refused: a graph holds triples).
 * Blank nodes get fresh labels so that two documents never share one by accident (RDF 1.1 Concepts §3.4: blank
 * node identifiers are local to a document). Relative IRIs resolve against `baseIri` (RFC 3986 §5.1).
 * Throws UnsupportedMediaTypeError for an unknown syntax and BadRequestError (code `rdf-syntax`) for a bad document.
 */
export function parseRdfToNTriples(body: string, mediaType: string, baseIri?: string): string {
  if (!RDF_INPUT_TYPES.has(mediaType)) {
    throw new UnsupportedMediaTypeError(`Cannot read '${mediaType}'; send one of ${[...RDF_INPUT_TYPES].join(', ')}`);
  }
  assertShallow(body, canonical(mediaType));
  let quads: OxQuad[];
  try {
    const options: { format: string; base_iri?: string } = { format: canonical(mediaType) };
    if (baseIri) options.base_iri = baseIri;
    quads = parse(body, options) as OxQuad[];
  } catch (e) {
    throw new BadRequestError(`The ${mediaType} document is not valid: ${(e as Error).message}`, { cause: e }, 'rdf-syntax');
  }
  const fresh = new Map<string, OxTerm>();
  const relabel = <T extends OxTerm>(t: T): T => {
    if (t.termType !== 'BlankNode') return t;
    let b = fresh.get(t.value);
    if (!b) fresh.set(t.value, (b = blankNode()));
    return b as T;
  };
  const lines: string[] = [];
  for (const q of quads) {
    if (q.graph.termType !== 'DefaultGraph') {
      throw new BadRequestError('A graph body must hold triples only, not quads in named graphs', undefined, 'rdf-syntax');
    }
    lines.push(`${quad(relabel(q.subject), q.predicate, relabel(q.object), defaultGraph()).toString()} .`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

/** Serialises N-Triples into one of RDF_OUTPUT_TYPES (N-Quads of the default graph is N-Triples). */
export function serializeNTriples(ntriples: string, mediaType: string): string {
  const format = canonical(mediaType);
  if (format === 'application/n-triples' || format === 'application/n-quads') return ntriples;
  const store = new Store();
  try {
    if (ntriples) store.load(ntriples, { format: 'application/n-triples' });
    return store.dump({ format, from_graph_name: defaultGraph() });
  } finally {
    (store as unknown as { free?: () => void }).free?.();
  }
}

/** Content-Type header value for a media type (text syntaxes carry an explicit UTF-8 charset). */
export function contentTypeHeader(mediaType: string): string {
  return mediaType === 'application/ld+json' || mediaType.endsWith('+json') ? mediaType : `${mediaType}; charset=utf-8`;
}
