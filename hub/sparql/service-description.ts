// The endpoint's SPARQL 1.1 Service Description (https://www.w3.org/TR/sparql11-service-description/), as Turtle.
import { RDF_OUTPUT_TYPES } from './rdf-formats.ts';
import { SELECT_TYPES } from './execute.ts';

const FORMATS: Record<string, string> = {
  'application/sparql-results+json': 'http://www.w3.org/ns/formats/SPARQL_Results_JSON',
  'application/sparql-results+xml': 'http://www.w3.org/ns/formats/SPARQL_Results_XML',
  'text/csv': 'http://www.w3.org/ns/formats/SPARQL_Results_CSV',
  'text/tab-separated-values': 'http://www.w3.org/ns/formats/SPARQL_Results_TSV',
  'text/turtle': 'http://www.w3.org/ns/formats/Turtle',
  'application/n-triples': 'http://www.w3.org/ns/formats/N-Triples',
  'application/n-quads': 'http://www.w3.org/ns/formats/N-Quads',
  'application/ld+json': 'http://www.w3.org/ns/formats/JSON-LD',
  'application/rdf+xml': 'http://www.w3.org/ns/formats/RDF_XML',
};

/**
 * Describes the endpoint at `endpoint` (sd:endpoint), the languages it speaks, its result formats and its default
 * dataset: the default graph is its own graph, not the union of the named graphs.
 */
export function serviceDescription(endpoint: string): string {
  const formats = [...SELECT_TYPES, ...RDF_OUTPUT_TYPES].map((t) => `<${FORMATS[t]}>`).join(', ');
  return `@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .

[] a sd:Service ;
  sd:endpoint <${endpoint}> ;
  sd:supportedLanguage sd:SPARQL11Query, sd:SPARQL11Update ;
  sd:resultFormat ${formats} ;
  sd:defaultEntailmentRegime <http://www.w3.org/ns/entailment/Simple> ;
  sd:defaultDataset [
    a sd:Dataset ;
    sd:defaultGraph [ a sd:Graph ]
  ] .
`;
}
