// An invalid generated IRI is a data error end to end: the CLI exits non-zero naming it, /ingest rejects and counts it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../hub/mapping/cli.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/mapping/invalid-iri/mapping.ttl');

describe('npm run map with an invalid IRI', () => {
  it('exits 1, names the error, the term map and the value, and writes no output', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rml-iri-'));
    try {
      const out = join(dir, 'out.nq');
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'hub/mapping/cli.ts', FIXTURE, '--output', out], { cwd: ROOT, timeout: 30_000, encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^MappingError \[invalid-iri\]: The subject map .* of triples map <http:\/\/example.com\/tm> generated 'http:\/\/example.com\/Emily Smith', which is not a valid IRI/);
      expect(r.stderr).toContain('"value":"http://example.com/Emily Smith"');
      expect(existsSync(out)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('maps the valid rows with --skip-data-errors', async () => {
    const chunks: string[] = [];
    const code = await main([FIXTURE, '--skip-data-errors'], { stdout: (s) => chunks.push(s), stderr: (s) => chunks.push(`ERR ${s}`) });
    expect(code).toBe(0);
    expect(chunks.join('')).toBe('<http://example.com/Alice> <http://xmlns.com/foaf/0.1/name> "Alice" .\n');
  });
});

describe('/ingest with an invalid IRI', () => {
  let hub: TestHub;
  afterEach(() => hub?.stop());

  it('answers 422 invalid-iri, stores nothing of the message and counts it as rejected', async () => {
    hub = await startTestHub();
    const mapfile = `@prefix rml: <http://w3id.org/rml/> .
@prefix hub: <https://w3id.org/wot-hub#> .
<http://ex/tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ] ;
  rml:subjectMap [ rml:template "http://ex/obs/{$.meta.thingId}" ] ;
  rml:predicateObjectMap [ rml:predicate <http://ex/v> ; rml:objectMap [ rml:reference "$.payload.v" ] ] ,
    [ rml:predicate <http://ex/link> ; rml:objectMap [ rml:reference "$.payload.link" ; rml:termType rml:IRI ] ] .`;
    const put = await hub.app.inject({ method: 'PUT', url: '/mappings/links', headers: { 'content-type': 'text/turtle', authorization: hub.bearer }, payload: mapfile });
    expect(put.statusCode).toBe(201);
    const td = { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: 'urn:dev:iri1', title: 'iri1', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: 'nosec_sc', mapping: 'links' };
    expect((await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(td.id)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td })).statusCode).toBeLessThan(300);
    const url = `/ingest/${encodeURIComponent(td.id)}`;
    const ok = await hub.app.inject({ method: 'POST', url, headers: { authorization: hub.bearer }, payload: { v: 1, link: 'http://ex/fine' } });
    expect(ok.statusCode).toBe(200);
    // The aggregates' background rebuild counters move on their own: only what a write changes is compared.
    const written = async () => Object.fromEntries(Object.entries(await hub.store.stats()).filter(([k]) => !k.startsWith('aggregates')));
    const before = await written();
    const bad = await hub.app.inject({ method: 'POST', url, headers: { authorization: hub.bearer }, payload: { v: 2, link: 'http://ex/not fine' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.json()).toMatchObject({ code: 'invalid-iri', value: 'http://ex/not fine' });
    // Nothing of the message reached the store: not even its valid triple (the v literal).
    expect(before).toMatchObject({ quads: expect.any(Number), logBytes: expect.any(Number) });
    expect(await written()).toEqual(before);
    expect(await hub.store.ask('ASK { GRAPH ?g { ?s <http://ex/v> 2 } }')).toBe(false);
    const counters = (await hub.app.inject({ method: 'GET', url: '/ingest', headers: { authorization: hub.bearer } })).json();
    expect(counters).toMatchObject({ received: 2, stored: 1, failed: 1, rejected: 1, failedByCode: { 'invalid-iri': 1 } });
  });
});
