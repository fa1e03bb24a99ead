// Test helper: parses N-Triples/N-Quads/Turtle with n3 and compares graphs isomorphically (blank nodes matched).
import { Parser, type Quad } from 'n3';
import { isomorphic } from 'rdf-isomorphic';

export function parseRdf(text: string, format = 'application/n-quads'): Quad[] {
  return new Parser({ format }).parse(text);
}

/** True when both documents hold the same RDF dataset (blank node labels ignored). */
export function sameRdf(a: string, b: string, formatA = 'application/n-quads', formatB = formatA): boolean {
  return isomorphic(parseRdf(a, formatA), parseRdf(b, formatB));
}
