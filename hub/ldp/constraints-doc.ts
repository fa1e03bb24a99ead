// The document behind Link rel=ldp:constrainedBy (LDP §4.2.1.6): the rules this server enforces, in Turtle.

/** Turtle describing the server's constraints on LDP clients. */
export function CONSTRAINTS_TURTLE(baseUrl: string): string {
  const rules = [
    'Containment triples (ldp:contains), membership triples and the membership configuration of direct and indirect containers are managed by the server: PUT and PATCH may repeat them unchanged but cannot add, change or remove them (409).',
    'The interaction model of a resource is chosen when it is created (Link rel="type" on POST or PUT) and cannot be changed (409).',
    'PUT to an existing resource needs If-Match with its current ETag (428 without, 412 when stale).',
    'A deleted URI is never reused: it answers 410 Gone and POST never mints it again.',
    'A container is deleted only once it is empty (409).',
    'Resources under /ldp/things/, /ldp/observations/ and /ldp/queries/ mirror hub content and are read-only (405).',
    'Mapfiles under /ldp/mappings/ are validated and compiled by the mapping registry before they are stored (4xx when they do not compile); a mapfile is named by its Slug, and its name can be used again after a delete.',
    'Slug hints are reduced to one path segment of [A-Za-z0-9._~-]; names ending in .meta are reserved for describedby resources.',
    'PATCH accepts text/n3 (Solid N3 Patch, solid:InsertDeletePatch) and application/sparql-update scoped to the resource.',
  ];
  return (
    `@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n<${baseUrl}/ldp-constraints> rdfs:label "LDP constraints of this hub" ;\n` +
    rules.map((r) => `  rdfs:comment ${JSON.stringify(r)}`).join(' ;\n') +
    ' .\n'
  );
}
