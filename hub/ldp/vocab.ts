// Vocabulary, media types and graph names of the LDP server (W3C LDP 1.0, https://www.w3.org/TR/ldp/).
import { HUB_NS } from '../store/graphs.ts';

export const LDP = 'http://www.w3.org/ns/ldp#';
export const RDF_TYPE = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type';
export const DCTERMS = 'http://purl.org/dc/terms/';
export const SOLID = 'http://www.w3.org/ns/solid/terms#';

export const ldp = {
  Resource: `${LDP}Resource`,
  RDFSource: `${LDP}RDFSource`,
  NonRDFSource: `${LDP}NonRDFSource`,
  Container: `${LDP}Container`,
  BasicContainer: `${LDP}BasicContainer`,
  DirectContainer: `${LDP}DirectContainer`,
  IndirectContainer: `${LDP}IndirectContainer`,
  contains: `${LDP}contains`,
  member: `${LDP}member`,
  membershipResource: `${LDP}membershipResource`,
  hasMemberRelation: `${LDP}hasMemberRelation`,
  isMemberOfRelation: `${LDP}isMemberOfRelation`,
  insertedContentRelation: `${LDP}insertedContentRelation`,
  MemberSubject: `${LDP}MemberSubject`,
  constrainedBy: `${LDP}constrainedBy`,
  PreferContainment: `${LDP}PreferContainment`,
  PreferMembership: `${LDP}PreferMembership`,
  PreferMinimalContainer: `${LDP}PreferMinimalContainer`,
  /** The name used before LDP 1.0 was final; treated as PreferMinimalContainer. */
  PreferEmptyContainer: `${LDP}PreferEmptyContainer`,
} as const;

/** Interaction models (LDP §2): how a resource behaves, fixed when it is created. */
export type InteractionModel = 'RDFSource' | 'NonRDFSource' | 'BasicContainer' | 'DirectContainer' | 'IndirectContainer';
export const MODELS: InteractionModel[] = ['RDFSource', 'NonRDFSource', 'BasicContainer', 'DirectContainer', 'IndirectContainer'];

export function isContainerModel(m: InteractionModel): boolean {
  return m === 'BasicContainer' || m === 'DirectContainer' || m === 'IndirectContainer';
}

/** Terms of the hub's metadata graph (server-managed state of LDP resources). */
export const hubLdp = {
  model: `${HUB_NS}ldpInteractionModel`,
  parent: `${HUB_NS}ldpParent`,
  contentType: `${HUB_NS}ldpContentType`,
  describedBy: `${HUB_NS}ldpDescribedBy`,
  describes: `${HUB_NS}ldpDescribes`,
  bytesEtag: `${HUB_NS}ldpBytesHash`,
  created: `${HUB_NS}ldpCreated`,
  modified: `${HUB_NS}ldpModified`,
  deleted: `${HUB_NS}ldpDeleted`,
} as const;

/** Graph holding the server-managed metadata of every LDP resource: `<base>/graphs/ldp-meta`. */
export function ldpMetaGraph(baseUrl: string): string {
  return `${baseUrl}/graphs/ldp-meta`;
}

/** Where the constraints of this server are described (target of Link rel=ldp:constrainedBy on 4xx, LDP §4.2.1.6). */
export function constraintsUrl(baseUrl: string): string {
  return `${baseUrl}/ldp-constraints`;
}

/** RDF syntaxes a client may POST/PUT (LDP §4.3.2.1: Turtle MUST, JSON-LD SHOULD). */
export const ACCEPT_POST_RDF = ['text/turtle', 'application/ld+json', 'application/n-triples', 'application/rdf+xml'];
/** Patch syntaxes (LDP §4.2.7.1 Accept-Patch): Solid N3 Patch and SPARQL 1.1 Update. */
export const ACCEPT_PATCH = ['text/n3', 'application/sparql-update'];
/** Suffix of the describedby LDP-RS minted for an LDP-NR (LDP §5.2.3.12); no client-chosen name may end with it. */
export const META_SUFFIX = '.meta';
