// Server-managed triples cannot be changed by clients: checks a PUT body or a patched state against the current one
// (LDP §4.2.4.3 and §5.2.4.1: 409 Conflict with Link rel=ldp:constrainedBy).
import type { Quad } from '@rdfjs/types';
import { ConflictError } from '../errors.ts';
import type { ResourceMeta } from './metadata.ts';
import { ntLine, serverManaged, type RdfState } from './representation.ts';
import { ldp, LDP, RDF_TYPE } from './vocab.ts';

const MANAGED_PREDICATES = new Set<string>([
  ldp.contains,
  ldp.membershipResource,
  ldp.hasMemberRelation,
  ldp.isMemberOfRelation,
  ldp.insertedContentRelation,
]);

/** The error of every violated server constraint; the constrainedBy Link is added by the plugin to every 4xx. */
export function constraintViolation(message: string, details: string[] = []): ConflictError {
  return new ConflictError(message, { extensions: details.length ? { triples: details.slice(0, 20) } : {} }, 'ldp-constraint');
}

/** Whether a triple has the shape of a server-managed one for this resource. */
function looksManaged(q: Quad, m: ResourceMeta): boolean {
  if (q.subject.value !== m.iri || q.subject.termType !== 'NamedNode') {
    return false;
  }
  if (q.predicate.value === RDF_TYPE) return q.object.termType === 'NamedNode' && q.object.value.startsWith(LDP);
  if (MANAGED_PREDICATES.has(q.predicate.value)) return true;
  // Membership triples of a container whose membership resource is itself.
  const selfMembership = (m.membershipResource ?? m.iri) === m.iri;
  return selfMembership && !!m.hasMemberRelation && q.predicate.value === m.hasMemberRelation && m.model !== 'BasicContainer' && m.model !== 'RDFSource';
}

/**
 * Splits incoming triples into the user triples to store. Server-managed triples are accepted only when they are
 * already true (a client may send back what it read); any other one is a 409. With `complete` (PATCH results) the
 * incoming triples must also still hold every current containment and membership triple.
 */
export function userTriples(incoming: Quad[], m: ResourceMeta, state: RdfState, complete = false): Quad[] {
  const managed = serverManaged(state);
  const user: Quad[] = [];
  const bad: string[] = [];
  const seen = new Set<string>();
  for (const q of incoming) {
    const line = ntLine(q);
    if (managed.has(line)) seen.add(line);
    else if (looksManaged(q, m)) bad.push(line.trim());
    else user.push(q);
  }
  if (bad.length) {
    throw constraintViolation(
      'Containment, membership, container configuration and interaction-model triples are managed by the server and cannot be changed',
      bad,
    );
  }
  if (complete) {
    const removed = [...state.containment, ...state.membership, ...state.config].map(ntLine).filter((l) => !seen.has(l));
    if (removed.length) throw constraintViolation('A patch cannot remove server-managed triples', removed.map((l) => l.trim()));
  }
  return user;
}
