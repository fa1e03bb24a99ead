// Named-graph conventions shared by ingestion, retention, LDP and the directory: one place decides graph IRIs.
//
// Graph IRIs live under the hub's base URL so that an LDP resource and the graph holding its triples share one IRI.

/** Graph of the observations of one Thing on one UTC day: `<base>/graphs/observations/<thingId>/<YYYY-MM-DD>`. */
export function observationGraph(baseUrl: string, thingId: string, time: Date): string {
  return `${baseUrl}/graphs/observations/${encodeURIComponent(thingId)}/${time.toISOString().slice(0, 10)}`;
}

/** Characters no IRI holds (RFC 3987: controls, space, <>"{}|^`\\): no store holds a graph named with one. */
export const UNSAFE_IRI = /[\u0000-\u0020<>"{}|^`\\\u007F-\u009F]/;

const OBSERVATION_GRAPH = /\/graphs\/observations\/([^/]+)\/(\d{4}-\d{2}-\d{2})$/;

/** Parses an observation graph IRI; undefined for any other graph. */
export function parseObservationGraph(iri: string): { thingId: string; day: string } | undefined {
  const m = OBSERVATION_GRAPH.exec(iri);
  return m ? { thingId: decodeURIComponent(m[1]!), day: m[2]! } : undefined;
}

/** Graph holding a Thing Description as RDF: `<base>/graphs/things/<thingId>`. */
export function thingGraph(baseUrl: string, thingId: string): string {
  return `${baseUrl}/graphs/things/${encodeURIComponent(thingId)}`;
}

/** Graph holding a mapfile's triples: `<base>/graphs/mappings/<name>`. */
export function mappingGraph(baseUrl: string, name: string): string {
  return `${baseUrl}/graphs/mappings/${encodeURIComponent(name)}`;
}

/** Namespace of the hub's own vocabulary (ontologies/hub.ttl). */
export const HUB_NS = 'https://w3id.org/wot-hub#';
