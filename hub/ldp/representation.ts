// The RDF state of an LDP-RS or container: the triples of its named graph plus the server-managed triples
// (interaction-model types, container configuration, containment and membership; LDP §5.2, §5.4, §5.5).
import { createHash } from 'node:crypto';
import n3 from 'n3';
import type { Quad, Term } from '@rdfjs/types';
import type { QuadStore } from '../store/quad-store.ts';
import type { LdpMetadata, ResourceMeta } from './metadata.ts';
import { isContainerModel, ldp, LDP, RDF_TYPE } from './vocab.ts';
import type { ContainerPreference } from './headers.ts';

const { DataFactory, Parser, Writer } = n3;
const { namedNode, quad } = DataFactory;

export interface RdfState {
  user: Quad[];
  types: Quad[];
  config: Quad[];
  containment: Quad[];
  membership: Quad[];
}

/** Parses N-Triples (as the store returns them) into RDF/JS quads. */
export function parseNTriples(text: string | undefined): Quad[] {
  return text ? (new Parser({ format: 'N-Triples' }).parse(text) as Quad[]) : [];
}

const writer = new Writer({ format: 'N-Triples' });
/** One N-Triples line for a triple (graph ignored). */
export function ntLine(q: Quad): string {
  return writer.quadToString(q.subject, q.predicate, q.object);
}
export function toNTriples(quads: Quad[]): string {
  return quads.map(ntLine).join('');
}

const t = (s: string, p: string, o: Term) => quad(namedNode(s), namedNode(p), o as Quad['object']);

/** Triples stating the interaction model: every LDP-RS is an ldp:RDFSource, containers also ldp:Container + subtype. */
export function typeTriples(m: ResourceMeta): Quad[] {
  const out = [t(m.iri, RDF_TYPE, namedNode(ldp.RDFSource))];
  if (isContainerModel(m.model)) out.push(t(m.iri, RDF_TYPE, namedNode(ldp.Container)), t(m.iri, RDF_TYPE, namedNode(LDP + m.model)));
  return out;
}

/** Container configuration triples of direct and indirect containers (LDP §5.4.1.3-4, §5.5.1.2). */
export function configTriples(m: ResourceMeta): Quad[] {
  if (m.model !== 'DirectContainer' && m.model !== 'IndirectContainer') return [];
  const out: Quad[] = [];
  if (m.membershipResource) out.push(t(m.iri, ldp.membershipResource, namedNode(m.membershipResource)));
  if (m.hasMemberRelation) out.push(t(m.iri, ldp.hasMemberRelation, namedNode(m.hasMemberRelation)));
  if (m.isMemberOfRelation) out.push(t(m.iri, ldp.isMemberOfRelation, namedNode(m.isMemberOfRelation)));
  if (m.insertedContentRelation) out.push(t(m.iri, ldp.insertedContentRelation, namedNode(m.insertedContentRelation)));
  return out;
}

/** Membership triples a direct or indirect container asserts for its current members (computed, so never stale). */
export async function membershipTriples(store: QuadStore, c: ResourceMeta, members: string[]): Promise<Quad[]> {
  if ((c.model !== 'DirectContainer' && c.model !== 'IndirectContainer') || !c.membershipResource || !members.length) return [];
  const mr = namedNode(c.membershipResource);
  const icr = c.model === 'DirectContainer' ? ldp.MemberSubject : c.insertedContentRelation ?? ldp.MemberSubject;
  let derived: Term[] = members.map((m) => namedNode(m));
  if (icr !== ldp.MemberSubject) {
    const values = members.map((m) => `<${m}>`).join(' ');
    const rows = await store.select(`SELECT ?o WHERE { VALUES ?c { ${values} } GRAPH ?c { ?c <${icr}> ?o } }`);
    derived = rows
      .map((r) => r.o!)
      .filter((o) => o.type === 'uri')
      .map((o) => namedNode(o.value));
  }
  return derived.map((d) =>
    c.hasMemberRelation
      ? quad(mr, namedNode(c.hasMemberRelation), d as Quad['object'])
      : quad(d as Quad['subject'], namedNode(c.isMemberOfRelation ?? ldp.member), mr),
  );
}

/** Reads the whole state of an LDP-RS: its graph plus every server-managed triple. */
export async function readState(store: QuadStore, meta: LdpMetadata, m: ResourceMeta, extraMembers: string[] = []): Promise<RdfState> {
  const user = parseNTriples(await store.getGraph(m.iri));
  const state: RdfState = { user, types: typeTriples(m), config: configTriples(m), containment: [], membership: [] };
  if (isContainerModel(m.model)) {
    const children = [...(await meta.children(m.iri)), ...extraMembers];
    state.containment = children.map((c) => t(m.iri, ldp.contains, namedNode(c)));
    if (!m.membershipResource || m.membershipResource === m.iri) state.membership = await membershipTriples(store, m, children);
  }
  // Containers elsewhere whose membership resource is this resource put their membership triples here too.
  for (const c of await meta.containersWithMembershipResource(m.iri)) {
    if (c.iri === m.iri) continue;
    state.membership.push(...(await membershipTriples(store, c, await meta.children(c.iri))));
  }
  return state;
}

/** The triples a representation carries under the client's Prefer (LDP §7.2). */
export function selectTriples(s: RdfState, pref: ContainerPreference): Quad[] {
  return [...s.types, ...s.config, ...s.user, ...(pref.containment ? s.containment : []), ...(pref.membership ? s.membership : [])];
}

/** Server-managed triples of a state, as N-Triples lines. */
export function serverManaged(s: RdfState): Set<string> {
  return new Set([...s.types, ...s.config, ...s.containment, ...s.membership].map(ntLine));
}

/** Hash of the full state: sorted N-Triples lines, so the same triples always give the same entity tag. */
export function stateHash(s: RdfState): string {
  const lines = [...s.types, ...s.config, ...s.user, ...s.containment, ...s.membership].map(ntLine).sort();
  return createHash('sha256').update(lines.join('')).digest('base64url').slice(0, 27);
}
