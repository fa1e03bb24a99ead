// The endpoint's Turtle, N-Triples, N-Quads and RDF/XML parse with an independent parser: raptor's `rapper` (raptor2-utils).
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Parser, type Quad } from 'n3';
import { isomorphic } from 'rdf-isomorphic';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const hasRapper = (() => {
  try {
    execFileSync('rapper', ['--version'], { stdio: 'pipe', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
})();

const DATA = `@prefix ex: <http://example.org/> .
ex:s ex:p "plain", "tab\\there", "quote \\" and \\\\ backslash", "ünïcödé"@de-CH, "1.5"^^<http://www.w3.org/2001/XMLSchema#decimal> ;
  ex:q [ ex:r ex:o ; ex:list (1 2 3) ] .
<http://example.org/with%20space?a=b#frag> ex:p "multi\\nline" .`;

const RAPTOR_SYNTAX: Record<string, string> = {
  'text/turtle': 'turtle',
  'application/n-triples': 'ntriples',
  'application/n-quads': 'nquads',
  'application/rdf+xml': 'rdfxml',
};

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
  const r = await hub.app.inject({ method: 'PUT', url: '/graph-store?default', headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: DATA });
  expect(r.statusCode).toBeLessThan(300);
});
afterAll(() => hub?.stop());

describe.skipIf(!hasRapper)('rapper reads what the endpoint writes (needs apt package raptor2-utils)', () => {
  const expected = new Parser().parse(DATA) as Quad[];
  for (const [type, syntax] of Object.entries(RAPTOR_SYNTAX)) {
    it(`CONSTRUCT as ${type}`, async () => {
      const r = await hub.app.inject({ url: `/sparql?query=${encodeURIComponent('CONSTRUCT WHERE { ?s ?p ?o }')}`, headers: { accept: type } });
      expect(r.statusCode).toBe(200);
      const nt = execFileSync('rapper', ['-q', '-i', syntax, '-o', 'ntriples', '-', 'http://example.org/base'], { input: r.body, timeout: 10_000 }).toString();
      expect(isomorphic(new Parser({ format: 'N-Triples' }).parse(nt) as Quad[], expected)).toBe(true);
    });
  }
});
