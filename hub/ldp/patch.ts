// PATCH of an LDP-RS (LDP §4.2.7) with N3 Patch (Solid Protocol §5.3.1, text/n3 solid:InsertDeletePatch) or
// SPARQL 1.1 Update. Both run in the store on a scratch copy of the resource (a graph of its own), so the store's
// query timeout bounds a runaway patch, and a failing patch changes nothing: the caller stores the result.
import { randomUUID } from 'node:crypto';
import n3 from 'n3';
import oxigraph from 'oxigraph';
import type { Quad, Term } from '@rdfjs/types';
import { BadRequestError, ConflictError, PayloadTooLargeError, UnsupportedMediaTypeError } from '../errors.ts';
import type { JsonTerm, QuadStore } from '../store/quad-store.ts';
import { parseNTriples, toNTriples } from './representation.ts';
import { scopeUpdate } from './sparql-scope.ts';
import { assertManageable } from '../store/query-complexity.ts';
import { requestFault } from '../sparql/execute.ts';
import { UnprocessablePatchError } from './patch-errors.ts';
import { SOLID, RDF_TYPE } from './vocab.ts';

export { UnprocessablePatchError };

/** A term as SPARQL text (IRIs, literals with language/datatype, variables, blank nodes). */
export function termToSparql(term: Term): string {
  switch (term.termType) {
    case 'NamedNode':
      return `<${term.value}>`;
    case 'Variable':
      return `?${term.value}`;
    case 'BlankNode':
      return `_:${term.value.replace(/[^A-Za-z0-9_]/g, '_')}`;
    case 'Literal': {
      const s = JSON.stringify(term.value);
      if (term.language) return `${s}@${term.language}`;
      return term.datatype.value === 'http://www.w3.org/2001/XMLSchema#string' ? s : `${s}^^<${term.datatype.value}>`;
    }
    default:
      throw new UnprocessablePatchError(`Unsupported term ${term.termType} in the patch`);
  }
}

function jsonTermToSparql(t: JsonTerm): string {
  if (t.type === 'uri') return `<${t.value}>`;
  if (t.type !== 'literal') throw new UnprocessablePatchError('solid:where bound a variable to a blank node; such triples cannot be patched');
  const s = JSON.stringify(t.value);
  if (t['xml:lang']) return `${s}@${t['xml:lang']}`;
  return t.datatype && t.datatype !== 'http://www.w3.org/2001/XMLSchema#string' ? `${s}^^<${t.datatype}>` : s;
}

/**
 * N3.js accepts IRIs and language tags that RDF 1.1 does not (control characters, U+FFFD, spaces after unescaping, bad
 * BCP 47 tags); the SPARQL built from them would then fail in the store as a syntax error of the hub's own making.
 * The terms are checked with the same RFC 3987 / BCP 47 rules as the embedded engine's (oxigraph's term constructors).
 */
function checkTerm(term: Term): void {
  // SPARQL 1.1 VARNAME (§19.8, letters, digits, '_', and after the first also U+00B7 and combining marks); N3.js reads
  // `?a:b` as one variable, which as SPARQL text would become `?a` followed by the prefixed name `:b`.
  if (term.termType === 'Variable' && !/^[\p{L}\p{N}_][\p{L}\p{N}_\u00B7\u0300-\u036F\u203F\u2040]*$/u.test(term.value)) {
    throw new BadRequestError(`The N3 Patch holds a variable ?${term.value.slice(0, 100)} that SPARQL cannot name`, undefined, 'rdf-syntax');
  }
  try {
    if (term.termType === 'NamedNode') oxigraph.namedNode(term.value);
    else if (term.termType === 'Literal') {
      if (term.language) oxigraph.literal(term.value, term.language);
      else oxigraph.namedNode(term.datatype.value);
    }
  } catch (e) {
    throw new BadRequestError(`The N3 Patch holds an invalid ${term.termType === 'Literal' ? 'literal' : 'IRI'} '${term.value.slice(0, 100)}': ${(e as Error).message}`, { cause: e }, 'rdf-syntax');
  }
}

interface N3Patch {
  where: Quad[];
  inserts: Quad[];
  deletes: Quad[];
}

/** Reads the single solid:InsertDeletePatch of an N3 document (Solid Protocol §5.3.1, rules 1-4). */
export function parseN3Patch(text: string, base: string): N3Patch {
  let quads: Quad[];
  try {
    quads = new n3.Parser({ format: 'text/n3', baseIRI: base }).parse(text) as Quad[];
  } catch (e) {
    throw new BadRequestError(`The N3 Patch is not valid N3: ${(e as Error).message}`, { cause: e }, 'rdf-syntax');
  }
  const top = quads.filter((q) => q.graph.termType === 'DefaultGraph');
  const patches = top.filter(
    (q) => q.predicate.value === RDF_TYPE && (q.object.value === `${SOLID}InsertDeletePatch` || q.object.value === `${SOLID}Patch`),
  );
  const subjects = new Set(patches.map((q) => q.subject.value));
  if (subjects.size !== 1) throw new UnprocessablePatchError('An N3 Patch must contain exactly one solid:InsertDeletePatch');
  const subject = [...subjects][0]!;
  const formula = (name: string): Quad[] => {
    const refs = top.filter((q) => q.subject.value === subject && q.predicate.value === `${SOLID}${name}`);
    if (refs.length > 1) throw new UnprocessablePatchError(`An N3 Patch has at most one solid:${name}`);
    if (!refs.length) return [];
    const id = refs[0]!.object.value;
    return quads.filter((q) => q.graph.termType === 'BlankNode' && q.graph.value === id);
  };
  const patch = { where: formula('where'), inserts: formula('inserts'), deletes: formula('deletes') };
  for (const q of [...patch.where, ...patch.inserts, ...patch.deletes]) {
    // N3 reads `"x" ex:p ex:o` and `ex:s "x" ex:o`; an RDF triple has neither a literal subject nor a literal predicate.
    // (n3's types say what RDF/JS allows; its N3 parser gives more.)
    const subjectType: string = q.subject.termType;
    const predicateType: string = q.predicate.termType;
    if (subjectType === 'Literal' || (predicateType !== 'NamedNode' && predicateType !== 'Variable')) {
      throw new BadRequestError(`The N3 Patch holds a triple with a ${subjectType === 'Literal' ? 'literal subject' : `${predicateType} predicate`}, which RDF does not allow`, undefined, 'rdf-syntax');
    }
    [q.subject, q.predicate, q.object].forEach(checkTerm);
  }
  for (const q of [...patch.where, ...patch.deletes]) {
    if ([q.subject, q.predicate, q.object].some((x) => x.termType === 'BlankNode')) {
      throw new UnprocessablePatchError('Blank nodes are not allowed in solid:where or solid:deletes');
    }
  }
  const whereVars = new Set(patch.where.flatMap((q) => [q.subject, q.predicate, q.object]).filter((x) => x.termType === 'Variable').map((x) => x.value));
  for (const q of [...patch.inserts, ...patch.deletes]) {
    for (const x of [q.subject, q.predicate, q.object]) {
      if (x.termType === 'Variable' && !whereVars.has(x.value)) throw new UnprocessablePatchError(`Variable ?${x.value} is not bound by solid:where`);
    }
  }
  return patch;
}

/** Applies an N3 Patch to the scratch graph: where must match exactly once, every delete must exist (else 409). */
async function n3PatchInStore(store: QuadStore, graph: string, text: string, base: string): Promise<void> {
  const patch = parseN3Patch(text, base);
  const triple = (q: Quad) => `${termToSparql(q.subject)} ${termToSparql(q.predicate)} ${termToSparql(q.object)} .`;
  const scoped = { defaultGraphUris: [graph] };
  let binding = new Map<string, string>();
  if (patch.where.length) {
    const rows = await store.select(`SELECT * WHERE { ${patch.where.map(triple).join(' ')} } LIMIT 2`, scoped);
    if (rows.length !== 1) throw new ConflictError(`The solid:where formula matched ${rows.length === 0 ? 'nothing' : 'more than once'}`, undefined, 'patch-conflict');
    binding = new Map(Object.entries(rows[0]!).map(([k, v]) => [k, jsonTermToSparql(v)]));
  }
  const bind = (q: Quad) => [q.subject, q.predicate, q.object].map((x) => (x.termType === 'Variable' ? binding.get(x.value)! : termToSparql(x))).join(' ') + ' .';
  const deletes = patch.deletes.map(bind);
  if (deletes.length && !(await store.ask(`ASK { ${deletes.join(' ')} }`, scoped))) {
    throw new ConflictError('A triple in solid:deletes is not in the resource', undefined, 'patch-conflict');
  }
  const inserts = patch.inserts.map(bind);
  await store.update(`DELETE DATA { GRAPH <${graph}> { ${deletes.join(' ')} } } ; INSERT DATA { GRAPH <${graph}> { ${inserts.join(' ')} } }`);
}

/**
 * Largest PATCH documents, in UTF-8 bytes. A patch is a small edit (larger changes are a PUT), and both parsers run on
 * the event loop: measured by the fuzzer (CPU time), a 40 KB N3 Patch of nested lists took 100-136 ms in N3.js and a
 * 13 KB SPARQL Update ~140 ms in sparqljs, so these caps keep one PATCH under the 100 ms the hub allows a parser.
 */
export const MAX_PATCH_BYTES = { 'text/n3': 16 * 1024, 'application/sparql-update': 8 * 1024 } as const;

/**
 * Applies a patch (Accept-Patch: text/n3, application/sparql-update) to `state` and returns the patched triples.
 * The scratch graph lives under `<base>/graphs/ldp-patch/` only while the patch runs.
 */
export async function applyPatch(store: QuadStore, baseUrl: string, state: Quad[], mediaType: string | undefined, body: string, base: string): Promise<Quad[]> {
  if (mediaType !== 'text/n3' && mediaType !== 'application/sparql-update') {
    throw new UnsupportedMediaTypeError(`PATCH accepts text/n3 (N3 Patch) or application/sparql-update, not '${mediaType ?? 'none'}'`);
  }
  const bytes = Buffer.byteLength(body);
  if (bytes > MAX_PATCH_BYTES[mediaType]) {
    throw new PayloadTooLargeError(`A ${mediaType} PATCH may hold at most ${MAX_PATCH_BYTES[mediaType]} bytes (this one: ${bytes}); replace larger content with PUT`);
  }
  const graph = `${baseUrl}/graphs/ldp-patch/${randomUUID()}`;
  // Parse and scope before copying anything, so a bad document costs no store write. The complexity guard runs before
  // sparqljs, whose parse time grows superlinearly with nesting (seconds for a few thousand nested groups).
  if (mediaType === 'application/sparql-update') assertManageable(body);
  const scopedUpdate = mediaType === 'application/sparql-update' ? scopeUpdate(body, graph, base) : undefined;
  const nt = toNTriples(state);
  await store.update(nt ? `INSERT DATA { GRAPH <${graph}> { ${nt} } }` : `CREATE SILENT GRAPH <${graph}>`);
  try {
    if (scopedUpdate) await store.update(scopedUpdate).catch((e: unknown) => Promise.reject(requestFault(e) ?? e));
    else await n3PatchInStore(store, graph, body, base);
    return parseNTriples(await store.getGraph(graph));
  } finally {
    await store.update(`DROP SILENT GRAPH <${graph}>`);
  }
}
