// A SPARQL syntax error's position names the offending token (the engine's own parser reports where its furthest
// alternative stopped: `SELECT *\nWHERE { ?s ?p }\n` was "3:1", past the end of the text; the UI marks that line).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

let hub: TestHub;
beforeAll(async () => {
  hub = await startTestHub();
});
afterAll(async () => {
  await hub?.stop();
});

const CASES: Array<[string, string, { line: number; column: number }]> = [
  ['an unknown word as a predicate', 'SELECT * WHERE {\n  ?s ?p ?o .\n  ?s foo ?x\n}', { line: 3, column: 6 }],
  ['a missing object', 'SELECT *\nWHERE { ?s ?p }\n', { line: 2, column: 15 }],
  ['a LIMIT that is not a number', 'SELECT * WHERE { ?s ?p ?o } LIMIT x', { line: 1, column: 35 }],
  ['an operator without its right operand, after a comment line', 'SELECT * WHERE {\n ?s ?p ?o\n # note\n FILTER(?o > ) }', { line: 4, column: 14 }],
];

describe('/sparql syntax errors point at the offending token', () => {
  for (const [what, query, position] of CASES) {
    it(`query: ${what}`, async () => {
      const r = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: query });
      expect(r.statusCode).toBe(400);
      expect(r.headers['content-type']).toMatch(/^application\/problem\+json/);
      const body = r.json();
      expect(body.position).toEqual(position);
      const line = query.split('\n')[position.line - 1]!;
      expect(line.slice(position.column - 1).length).toBeGreaterThan(0);
    });
  }

  it('update: the offending token of an update', async () => {
    const r = await hub.app.inject({
      method: 'POST',
      url: '/sparql',
      headers: { 'content-type': 'application/sparql-update', authorization: hub.bearer },
      payload: 'INSERT DATA {\n  <urn:a> <urn:b> \n}',
    });
    expect(r.statusCode).toBe(400);
    expect(r.json().position).toEqual({ line: 3, column: 1 });
  });
});
