// PATCH of an LDP-RS (LDP §4.2.7) with N3 Patch (Solid Protocol §5.3.1, text/n3 solid:InsertDeletePatch) or
// SPARQL 1.1 Update; both run on a scratch copy of the resource so that a failing patch changes nothing.
import oxigraph from 'oxigraph';
import n3 from 'n3';
import type { Quad, Term } from '@rdfjs/types';
import { BadRequestError, ConflictError, HubError, UnsupportedMediaTypeError } from '../errors.ts';
import { parseNTriples, toNTriples } from './representation.ts';
import { SOLID, RDF_TYPE } from './vocab.ts';

const { Store, defaultGraph } = oxigraph;
type Scratch = InstanceType<typeof Store>;

/** 422: a well-formed document that is not a usable patch. */
export class UnprocessablePatchError extends HubError {
  override name = 'UnprocessablePatchError';
  constructor(message: string) {
    super(422, 'invalid-patch', message);
  }
}

/** A term as SPARQL text (IRIs, literals with language/datatype, variables). */
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

function withScratch<T>(state: Quad[], fn: (s: Scratch) => T): T {
  const s = new Store();
  try {
    const nt = toNTriples(state);
    if (nt) s.load(nt, { format: 'application/n-triples' });
    return fn(s);
  } finally {
    (s as unknown as { free?: () => void }).free?.();
  }
}

function dump(s: Scratch): Quad[] {
  return parseNTriples(s.dump({ format: 'application/n-triples', from_graph_name: defaultGraph() }) as string);
}

/** SPARQL Update on the resource alone: the resource is the default graph; GRAPH clauses only touch scratch graphs. */
export function applySparqlUpdate(state: Quad[], update: string, base: string): Quad[] {
  return withScratch(state, (s) => {
    try {
      s.update(update, { base_iri: base });
    } catch (e) {
      throw new BadRequestError(`The SPARQL Update is not valid: ${(e as Error).message}`, { cause: e }, 'sparql-syntax');
    }
    return dump(s);
  });
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
  return { where: formula('where'), inserts: formula('inserts'), deletes: formula('deletes') };
}

/** Applies an N3 Patch: the where formula must match exactly once, every delete must exist (else 409). */
export function applyN3Patch(state: Quad[], text: string, base: string): Quad[] {
  const patch = parseN3Patch(text, base);
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
  const triple = (q: Quad) => `${termToSparql(q.subject)} ${termToSparql(q.predicate)} ${termToSparql(q.object)} .`;
  return withScratch(state, (s) => {
    let binding = new Map<string, string>();
    if (patch.where.length) {
      const rows = s.query(`SELECT * WHERE { ${patch.where.map(triple).join(' ')} } LIMIT 2`) as Array<Map<string, Term>>;
      if (rows.length !== 1) throw new ConflictError(`The solid:where formula matched ${rows.length === 0 ? 'nothing' : 'more than once'}`, undefined, 'patch-conflict');
      binding = new Map([...rows[0]!.entries()].map(([k, v]) => [k, termToSparql(v)]));
    }
    const bind = (q: Quad) =>
      [q.subject, q.predicate, q.object].map((x) => (x.termType === 'Variable' ? binding.get(x.value)! : termToSparql(x))).join(' ') + ' .';
    const deletes = patch.deletes.map(bind);
    if (deletes.length && !(s.query(`ASK { ${deletes.join(' ')} }`) as boolean)) {
      throw new ConflictError('A triple in solid:deletes is not in the resource', undefined, 'patch-conflict');
    }
    const inserts = patch.inserts.map(bind);
    s.update(`DELETE DATA { ${deletes.join(' ')} } ; INSERT DATA { ${inserts.join(' ')} }`, { base_iri: base });
    return dump(s);
  });
}

/** Dispatches on the patch media type (Accept-Patch: text/n3, application/sparql-update). */
export function applyPatch(state: Quad[], mediaType: string | undefined, body: string, base: string): Quad[] {
  if (mediaType === 'text/n3') return applyN3Patch(state, body, base);
  if (mediaType === 'application/sparql-update') return applySparqlUpdate(state, body, base);
  throw new UnsupportedMediaTypeError(`PATCH accepts text/n3 (N3 Patch) or application/sparql-update, not '${mediaType ?? 'none'}'`);
}
