// Contract suite of the QuadStore interface (hub/store/quad-store.ts): run on every implementation.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SparqlSyntaxError } from '../../hub/errors.ts';
import { DEFAULT_GRAPH, type QuadStore } from '../../hub/store/quad-store.ts';
import { parseRdf, sameRdf } from './rdf-compare.ts';

export interface ContractSubject {
  /** An open store; tests use their own graph IRIs so one store serves the whole suite. */
  store: QuadStore;
  /** Closes the store and removes what it left behind. */
  dispose(): Promise<void>;
}

const EX = 'http://example.org/contract/';
let run = 0;

/** Registers the contract tests for one implementation. */
export function runQuadStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`QuadStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: QuadStore;
    // Unique graph IRIs per run, so an external store that keeps data between runs does not disturb the assertions.
    const base = `${EX}${Date.now().toString(36)}-${run++}/`;
    const g = (n: string) => `${base}graph/${n}`;

    beforeAll(async () => {
      subject = await factory();
      store = subject.store;
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it('inserts triples into a named graph and answers SELECT over it', async () => {
      await store.insert(`<${base}s1> <${EX}p> "one" .\n<${base}s1> <${EX}q> <${base}o1> .\n`, g('insert'));
      const rows = await store.select(`SELECT ?p ?o WHERE { GRAPH <${g('insert')}> { <${base}s1> ?p ?o } } ORDER BY ?p`);
      expect(rows.map((r) => [r.p!.value, r.o!.value])).toEqual([
        [`${EX}p`, 'one'],
        [`${EX}q`, `${base}o1`],
      ]);
      expect(rows[0]!.o).toMatchObject({ type: 'literal', value: 'one' });
    });

    it('inserts N-Quads that name their own graphs', async () => {
      await store.insert(`<${base}a> <${EX}p> "1" <${g('qa')}> .\n<${base}b> <${EX}p> "2" <${g('qb')}> .\n`);
      expect(await store.ask(`ASK { GRAPH <${g('qa')}> { <${base}a> <${EX}p> "1" } }`)).toBe(true);
      expect(await store.ask(`ASK { GRAPH <${g('qb')}> { <${base}b> <${EX}p> "2" } }`)).toBe(true);
      expect(await store.ask(`ASK { GRAPH <${g('qa')}> { <${base}b> ?p ?o } }`)).toBe(false);
    });

    it('scopes blank node labels to one insert() call', async () => {
      await Promise.all([
        store.insert(`_:x <${EX}p> "1" .\n`, g('bnodes')),
        store.insert(`_:x <${EX}p> "2" .\n`, g('bnodes')),
        store.insert(`<${base}n> <${EX}p> "3" .\n`, g('bnodes')),
      ]);
      const rows = await store.select(`SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH <${g('bnodes')}> { ?s <${EX}p> ?o } }`);
      expect(Number(rows[0]!.n!.value)).toBe(3);
    });

    it('answers CONSTRUCT and DESCRIBE as N-Triples (compared isomorphically)', async () => {
      const data = `<${base}c> <${EX}p> _:x .\n_:x <${EX}q> "v"@en .\n`;
      await store.putGraph(g('construct'), data);
      const nt = await store.construct(`CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <${g('construct')}> { ?s ?p ?o } }`);
      expect(sameRdf(nt, data, 'application/n-triples')).toBe(true);
      const described = await store.construct(`DESCRIBE <${base}c>`, { namedGraphUris: [], defaultGraphUris: [g('construct')] });
      expect(parseRdf(described, 'application/n-triples').some((q) => q.subject.value === `${base}c`)).toBe(true);
    });

    it('serialises SELECT as JSON, XML, CSV and TSV and CONSTRUCT as Turtle', async () => {
      await store.putGraph(g('formats'), `<${base}f> <${EX}p> "x" .\n`);
      const q = `SELECT ?o WHERE { GRAPH <${g('formats')}> { <${base}f> <${EX}p> ?o } }`;
      const json = await store.query(q, { resultFormat: 'application/sparql-results+json' });
      expect(json.contentType).toBe('application/sparql-results+json');
      expect(JSON.parse(json.body).results.bindings[0].o.value).toBe('x');
      const xml = await store.query(q, { resultFormat: 'application/sparql-results+xml' });
      expect(xml.body).toMatch(/<sparql[\s\S]*<literal>x<\/literal>/);
      const csv = await store.query(q, { resultFormat: 'text/csv' });
      expect(csv.body.trim().split(/\r?\n/)).toEqual(['o', 'x']);
      const tsv = await store.query(q, { resultFormat: 'text/tab-separated-values' });
      expect(tsv.body.trim().split(/\r?\n/)).toEqual(['?o', '"x"']);
      const ttl = await store.query(`CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <${g('formats')}> { ?s ?p ?o } }`, { resultFormat: 'text/turtle' });
      expect(ttl.form).toBe('construct');
      expect(sameRdf(ttl.body, `<${base}f> <${EX}p> "x" .\n`, 'text/turtle', 'application/n-triples')).toBe(true);
    });

    it('honours default-graph-uri and named-graph-uri', async () => {
      await store.putGraph(g('d1'), `<${base}d1> <${EX}p> "1" .\n`);
      await store.putGraph(g('d2'), `<${base}d2> <${EX}p> "2" .\n`);
      const inDefault = await store.select(`SELECT ?s WHERE { ?s <${EX}p> ?o } ORDER BY ?s`, { defaultGraphUris: [g('d1'), g('d2')] });
      expect(inDefault.map((r) => r.s!.value)).toEqual([`${base}d1`, `${base}d2`]);
      const onlyOne = await store.select(`SELECT ?s WHERE { ?s <${EX}p> ?o }`, { defaultGraphUris: [g('d2')] });
      expect(onlyOne.map((r) => r.s!.value)).toEqual([`${base}d2`]);
      const named = await store.select(`SELECT ?g WHERE { GRAPH ?g { ?s <${EX}p> ?o } }`, { namedGraphUris: [g('d1')] });
      expect(named.map((r) => r.g!.value)).toEqual([g('d1')]);
    });

    it('runs SPARQL Update (INSERT DATA, DELETE/INSERT WHERE, DROP)', async () => {
      await store.update(`INSERT DATA { GRAPH <${g('upd')}> { <${base}u> <${EX}n> 1 } }`);
      await store.update(
        `DELETE { GRAPH <${g('upd')}> { ?s <${EX}n> ?n } } INSERT { GRAPH <${g('upd')}> { ?s <${EX}n> ?m } } WHERE { GRAPH <${g('upd')}> { ?s <${EX}n> ?n } BIND(?n + 1 AS ?m) }`,
      );
      const rows = await store.select(`SELECT ?n WHERE { GRAPH <${g('upd')}> { <${base}u> <${EX}n> ?n } }`);
      expect(rows.map((r) => Number(r.n!.value))).toEqual([2]);
      await store.update(`DROP GRAPH <${g('upd')}>`);
      expect(await store.hasGraph(g('upd'))).toBe(false);
    });

    it('reports syntax errors as SparqlSyntaxError with the position', async () => {
      const q = await store.query('SELECT ?s WHERE {\n  ?s ?p\n}').catch((e: unknown) => e);
      expect(q).toBeInstanceOf(SparqlSyntaxError);
      expect((q as SparqlSyntaxError).status).toBe(400);
      expect((q as SparqlSyntaxError).extensions.position).toMatchObject({ line: expect.any(Number), column: expect.any(Number) });
      const u = await store.update('INSERT DATA { <a> <b> }').catch((e: unknown) => e);
      expect(u).toBeInstanceOf(SparqlSyntaxError);
    });

    it('implements the Graph Store primitives', async () => {
      const gs = g('gsp');
      expect(await store.hasGraph(gs)).toBe(false);
      expect(await store.getGraph(gs)).toBeUndefined();
      expect(await store.putGraph(gs, `<${base}g> <${EX}p> "a" .\n`)).toBe(false);
      expect(await store.putGraph(gs, `<${base}g> <${EX}p> "b" .\n`)).toBe(true);
      expect(sameRdf((await store.getGraph(gs))!, `<${base}g> <${EX}p> "b" .\n`, 'application/n-triples')).toBe(true);
      expect(await store.postGraph(gs, `<${base}g> <${EX}p> "c" .\n`)).toBe(true);
      const both = `<${base}g> <${EX}p> "b" .\n<${base}g> <${EX}p> "c" .\n`;
      expect(sameRdf((await store.getGraph(gs))!, both, 'application/n-triples')).toBe(true);
      expect(await store.hasGraph(gs)).toBe(true);
      expect(await store.deleteGraph(gs)).toBe(true);
      expect(await store.deleteGraph(gs)).toBe(false);
      expect(await store.getGraph(gs)).toBeUndefined();
      expect(await store.hasGraph(DEFAULT_GRAPH)).toBe(true);
    });

    it('leaves a graph untouched when a PUT body is not N-Triples', async () => {
      const gs = g('bad-put');
      await store.putGraph(gs, `<${base}k> <${EX}p> "keep" .\n`);
      await expect(store.putGraph(gs, '<not n-triples')).rejects.toThrow();
      expect(sameRdf((await store.getGraph(gs))!, `<${base}k> <${EX}p> "keep" .\n`, 'application/n-triples')).toBe(true);
    });

    it('reports a quad count in stats()', async () => {
      const s = await store.stats();
      expect(s.quads).toBeGreaterThan(0);
    });
  });
}
