// Search API: SPARQL over the TD graphs (joins with observation graphs) and JSONPath over the TD array.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isomorphic } from 'rdf-isomorphic';
import { Parser } from 'n3';
import { createRequire } from 'node:module';
import { observationGraph } from '../../hub/store/graphs.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { putTd, sampleTd } from './fixtures.ts';

const require = createRequire(import.meta.url);
const jsonld = require('jsonld') as { toRDF(doc: unknown, o: Record<string, unknown>): Promise<string> };
const TD = 'https://www.w3.org/2019/wot/td#';
let hub: TestHub;

const sparql = (query: string, accept?: string) =>
  hub.app.inject({ url: `/search/sparql?query=${encodeURIComponent(query)}`, headers: accept ? { accept } : {} });

beforeAll(async () => {
  hub = await startTestHub();
  await putTd(hub, 'urn:s:lamp', sampleTd('urn:s:lamp', 'Lamp'));
  await putTd(hub, 'urn:s:fan', { ...sampleTd('urn:s:fan', 'Fan'), '@type': 'saref:Actuator' });
  // An observation graph outside the TD graphs: only reachable with GRAPH.
  await hub.store.insert(`<urn:s:obs1> <http://www.w3.org/ns/sosa/madeBySensor> <urn:s:lamp> .\n<urn:s:obs1> <http://www.w3.org/ns/sosa/hasSimpleResult> "on" .\n`, observationGraph(hub.config.baseUrl, 'urn:s:lamp', new Date('2026-01-01T00:00:00Z')));
});
afterAll(() => hub?.stop());

describe('SPARQL search', () => {
  it('tdd-search-sparql tdd-search-sparql-version tdd-search-sparql-method-get tdd-search-sparql-resp-select-ask: SELECT returns application/json over the TDs only', async () => {
    const res = await sparql(`SELECT ?id ?title WHERE { ?id <${TD}title> ?title } ORDER BY ?id`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const rows = res.json().results.bindings.map((b: Record<string, { value: string }>) => [b.id!.value, b.title!.value]);
    expect(rows).toEqual([['urn:s:fan', 'Fan'], ['urn:s:lamp', 'Lamp']]);
    const obs = await sparql('SELECT * WHERE { ?o <http://www.w3.org/ns/sosa/madeBySensor> ?s }');
    expect(obs.json().results.bindings).toHaveLength(0);
  });

  it('ASK over the TDs', async () => {
    expect((await sparql(`ASK { <urn:s:fan> a <https://saref.etsi.org/core/Actuator> }`)).json().boolean).toBe(true);
    expect((await sparql(`ASK { <urn:s:lamp> a <https://saref.etsi.org/core/Actuator> }`)).json().boolean).toBe(false);
  });

  it('joins TDs with observations through GRAPH', async () => {
    const q = `SELECT ?title ?v WHERE { ?t <${TD}title> ?title . GRAPH ?g { ?o <http://www.w3.org/ns/sosa/madeBySensor> ?t ; <http://www.w3.org/ns/sosa/hasSimpleResult> ?v } }`;
    const rows = (await sparql(q)).json().results.bindings;
    expect(rows).toHaveLength(1);
    expect(rows[0].title.value).toBe('Lamp');
    expect(rows[0].v.value).toBe('on');
  });

  it('tdd-search-sparql-resp-describe-construct: CONSTRUCT and DESCRIBE return JSON-LD (isomorphic to the expected graph)', async () => {
    const res = await sparql(`CONSTRUCT { ?t <urn:p:name> ?title } WHERE { ?t <${TD}title> ?title }`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/ld\+json/);
    const nq = await jsonld.toRDF(res.json(), { format: 'application/n-quads' });
    const expected = new Parser().parse('<urn:s:lamp> <urn:p:name> "Lamp"@en . <urn:s:fan> <urn:p:name> "Fan"@en .');
    expect(isomorphic(new Parser().parse(nq), expected)).toBe(true);
    const describe = await sparql('DESCRIBE <urn:s:fan>');
    expect(describe.headers['content-type']).toMatch(/^application\/ld\+json/);
    expect(JSON.stringify(describe.json())).toContain('urn:s:fan');
  });

  it('tdd-search-sparql-method-post: POST with application/sparql-query and with a form', async () => {
    const q = `SELECT ?t WHERE { ?t <${TD}title> "Fan"@en }`;
    const direct = await hub.app.inject({ method: 'POST', url: '/search/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: q });
    expect(direct.json().results.bindings[0].t.value).toBe('urn:s:fan');
    const form = await hub.app.inject({ method: 'POST', url: '/search/sparql', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `query=${encodeURIComponent(q)}` });
    expect(form.json().results.bindings[0].t.value).toBe('urn:s:fan');
  });

  it('tdd-search-sparql-error: updates, syntax errors and a missing query are 400', async () => {
    for (const q of ['INSERT DATA { <urn:a> <urn:b> <urn:c> }', 'SELEKT * WHERE {}']) {
      const res = await sparql(q);
      expect(res.statusCode, q).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    expect((await hub.app.inject({ url: '/search/sparql' })).statusCode).toBe(400);
    expect((await hub.app.inject({ method: 'POST', url: '/search/sparql', headers: { 'content-type': 'application/sparql-query' }, payload: 'DELETE WHERE { ?s ?p ?o }' })).statusCode).toBe(400);
  });
});

describe('search after changes', () => {
  it('replaced and deleted TDs leave the search graph; triples another TD still states stay', async () => {
    const shared = (id: string) => ({ ...sampleTd(id, 'Shared'), links: [{ rel: 'item', href: 'https://example.org/common' }] });
    await putTd(hub, 'urn:s:t1', shared('urn:s:t1'));
    await putTd(hub, 'urn:s:t2', shared('urn:s:t2'));
    await putTd(hub, 'urn:s:t1', { ...shared('urn:s:t1'), title: 'Renamed' });
    const titles = async () =>
      (await sparql(`SELECT ?id ?t WHERE { ?id <${TD}title> ?t FILTER(STRSTARTS(STR(?id), "urn:s:t")) } ORDER BY ?id`)).json().results.bindings.map((b: Record<string, { value: string }>) => `${b.id!.value}=${b.t!.value}`);
    expect(await titles()).toEqual(['urn:s:t1=Renamed', 'urn:s:t2=Shared']);
    await hub.app.inject({ method: 'DELETE', url: '/things/urn:s:t1', headers: { authorization: hub.bearer } });
    expect(await titles()).toEqual(['urn:s:t2=Shared']);
    const links = await sparql(`SELECT (COUNT(*) AS ?n) WHERE { <urn:s:t2> <${TD}hasLink> ?l }`);
    expect(links.json().results.bindings[0].n.value).toBe('1');
    await hub.app.inject({ method: 'DELETE', url: '/things/urn:s:t2', headers: { authorization: hub.bearer } });
    expect(await titles()).toEqual([]);
  });
});

describe('JSONPath search', () => {
  it('tdd-search-large-tdds: filters TDs with a JSONPath expression', async () => {
    const res = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent("$[?(@.title=='Fan')].id")}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json()).toEqual(['urn:s:fan']);
    const rfc = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent("$[?@.title == 'Fan'].id")}` });
    expect(rfc.json()).toEqual(['urn:s:fan']);
    const nested = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent("$[?@.properties[?@.readOnly == true]].id")}` });
    expect(nested.json()).toEqual(expect.arrayContaining(['urn:s:fan', 'urn:s:lamp']));
    const all = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent('$[*].id')}` });
    expect(all.json()).toEqual(['urn:s:fan', 'urn:s:lamp']);
  });

  it('a bad or missing expression is 400 and scripts do not run', async () => {
    for (const q of ['$[?(@.title==', 'title', "$[?@.title == 'x'", '$[?(@.constructor.constructor("return process")().exit())]']) {
      const res = await hub.app.inject({ url: `/search/jsonpath?query=${encodeURIComponent(q)}` });
      expect(res.statusCode, q).toBe(400);
    }
    expect((await hub.app.inject({ url: '/search/jsonpath' })).statusCode).toBe(400);
  });
});
