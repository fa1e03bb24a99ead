// Test helper: parses RDF responses with parsers independent of the hub's (n3, jsonld, rdfxml-streaming-parser).
import { Parser, type Quad } from 'n3';
// @ts-expect-error jsonld ships no type declarations
import jsonld from 'jsonld';
import { RdfXmlParser } from 'rdfxml-streaming-parser';
import { isomorphic } from 'rdf-isomorphic';

export async function parseAny(body: string, mediaType: string, baseIRI = 'http://example.org/'): Promise<Quad[]> {
  if (mediaType === 'application/ld+json') {
    const nq = (await (jsonld as { toRDF(doc: unknown, o: object): Promise<string> }).toRDF(JSON.parse(body), { format: 'application/n-quads' }));
    return new Parser({ format: 'N-Quads' }).parse(nq) as Quad[];
  }
  if (mediaType === 'application/rdf+xml') {
    return new Promise((resolve, reject) => {
      const quads: Quad[] = [];
      const p = new RdfXmlParser({ baseIRI });
      p.on('data', (q: Quad) => quads.push(q));
      p.on('error', reject);
      p.on('end', () => resolve(quads));
      p.write(body);
      p.end();
    });
  }
  const format = mediaType === 'application/n-triples' ? 'N-Triples' : mediaType === 'application/n-quads' ? 'N-Quads' : 'Turtle';
  return new Parser({ format, baseIRI }).parse(body) as Quad[];
}

export async function expectIsomorphic(body: string, mediaType: string, expectedTurtle: string): Promise<boolean> {
  const actual = await parseAny(body, mediaType);
  const expected = new Parser({ baseIRI: 'http://example.org/' }).parse(expectedTurtle) as Quad[];
  return isomorphic(actual, expected);
}
