// Authoring API and ingestion end to end: PUT a mapfile, preview it, attach it to a Thing, ingest, query the store.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Parser } from 'n3';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const UPLINK_TTL = readFileSync(join(ROOT, 'mappings/lorawan-uplink.ttl'), 'utf8');
const UPLINK_MESSAGE = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/mapping/lorawan-uplink.tts.message.json'), 'utf8'));

const YARRRML = `prefixes:
  sosa: http://www.w3.org/ns/sosa/
  xsd: http://www.w3.org/2001/XMLSchema#
  hub: https://w3id.org/wot-hub#
mappings:
  observation:
    sources:
      - ['hub:CurrentMessage~jsonpath', '$']
    s: things/$(meta.thingId)/observations/$(meta.receivedAt)
    po:
      - [a, sosa:Observation]
      - [sosa:hasSimpleResult, $(payload.temperature), xsd:double]
      - [sosa:resultTime, $(meta.receivedAt), xsd:dateTime]
`;

describe('/mappings and /ingest', () => {
  let hub: TestHub;
  afterEach(() => hub?.stop());

  const put = (name: string, body: string, type = 'text/turtle', auth = true) =>
    hub.app.inject({ method: 'PUT', url: `/mappings/${name}`, headers: { 'content-type': type, ...(auth ? { authorization: hub.bearer } : {}) }, payload: body });

  it('PUT validates, stores and lists; GET returns the source; DELETE removes', async () => {
    hub = await startTestHub();
    expect((await put('uplink', UPLINK_TTL, 'text/turtle', false)).statusCode).toBe(401);
    const created = await put('uplink', UPLINK_TTL);
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toMatch(/\/mappings\/uplink$/);
    expect((await put('uplink', UPLINK_TTL)).statusCode).toBe(204);
    const got = await hub.app.inject({ method: 'GET', url: '/mappings/uplink' });
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toMatch(/^text\/turtle/);
    expect(got.body).toBe(UPLINK_TTL);
    const list = (await hub.app.inject({ method: 'GET', url: '/mappings' })).json();
    // virtual-output is the hub's own mapfile for virtual sensor outputs (hub/virtual), present on every hub.
    expect(list.mappings.map((m: { name: string }) => m.name)).toEqual(['uplink', 'virtual-output']);
    const graph = `${hub.config.baseUrl}/graphs/mappings/uplink`;
    expect(await hub.store.ask(`ASK { GRAPH <${graph}> { ?tm a <http://w3id.org/rml/TriplesMap> } }`)).toBe(true);
    expect((await hub.app.inject({ method: 'DELETE', url: '/mappings/uplink', headers: { authorization: hub.bearer } })).statusCode).toBe(204);
    expect(await hub.store.hasGraph(graph)).toBe(false);
    expect((await hub.app.inject({ method: 'GET', url: '/mappings/uplink' })).statusCode).toBe(404);
  });

  it('rejects invalid mapfiles with problem+json naming the line or the term', async () => {
    hub = await startTestHub();
    const syntax = await put('bad', '@prefix rml: <http://w3id.org/rml/> .\n\n<#tm> a rml:TriplesMap ;\n  rml:subjectMap [ rml:template "x" \n');
    expect(syntax.statusCode).toBe(422);
    expect(syntax.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(syntax.json()).toMatchObject({ code: 'mapping-syntax', line: expect.any(Number) });
    const literalSubject = await put(
      'bad',
      `@prefix rml: <http://w3id.org/rml/> .
<http://ex/tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source <https://w3id.org/wot-hub#CurrentMessage> ; rml:referenceFormulation rml:JSONPath ] ;
  rml:subjectMap [ rml:reference "$.meta.thingId" ; rml:termType rml:Literal ] .`,
    );
    expect(literalSubject.statusCode).toBe(422);
    expect(literalSubject.json()).toMatchObject({ code: 'invalid-mapping', term: expect.stringMatching(/Literal/) });
    const undefinedParent = await put(
      'bad',
      `@prefix rml: <http://w3id.org/rml/> .
<http://ex/tm> a rml:TriplesMap ;
  rml:logicalSource [ rml:source <https://w3id.org/wot-hub#CurrentMessage> ; rml:referenceFormulation rml:JSONPath ] ;
  rml:subjectMap [ rml:template "urn:x:{$.meta.thingId}" ] ;
  rml:predicateObjectMap [ rml:predicate <http://ex/p> ; rml:objectMap [ rml:parentTriplesMap <http://ex/nowhere> ] ] .`,
    );
    expect(undefinedParent.json()).toMatchObject({ code: 'invalid-mapping', term: '<http://ex/nowhere>' });
    const fileSource = await put('bad', readFileSync(join(ROOT, '../shared/conformance/rml/core/RMLTC0001a-JSON/mapping.ttl'), 'utf8'));
    expect(fileSource.json()).toMatchObject({ code: 'invalid-mapping', detail: expect.stringMatching(/hub:CurrentMessage/) });
    const typo = await put('bad', UPLINK_TTL.replace('rml:reference "$.payload.decoded.temperature"', 'rml:refernce "$.payload.decoded.temperature"'));
    expect(typo.json()).toMatchObject({ code: 'invalid-mapping', term: 'rml:refernce', detail: 'Unknown RML term rml:refernce' });
    const prefix = await put('bad', '@prefix rml: <http://w3id.org/rml/> .\n<http://ex/tm> a rml:TriplesMap ;\n  rml:subjectMap [ rml:template "x" ; foo:bar 1 ] .\n');
    expect(prefix.json()).toMatchObject({ code: 'mapping-syntax', line: 3, column: 39, term: 'foo:bar' });
    expect((await put('bad', UPLINK_TTL, 'application/json')).statusCode).toBe(415);
    expect((await put('bad name', UPLINK_TTL)).statusCode).toBe(400);
    expect((await hub.app.inject({ method: 'GET', url: '/mappings' })).json().mappings.map((m: { name: string }) => m.name)).toEqual(['virtual-output']);
  });

  it('accepts YARRRML and previews a payload as Turtle without storing anything', async () => {
    hub = await startTestHub();
    expect((await put('yarrrml', YARRRML, 'application/yaml')).statusCode).toBe(201);
    const preview = await hub.app.inject({
      method: 'POST',
      url: '/mappings/yarrrml/preview?thingId=t1&receivedAt=2024-05-01T10:00:00.000Z',
      headers: { authorization: hub.bearer },
      payload: { temperature: 21.5 },
    });
    expect(preview.statusCode).toBe(200);
    expect(preview.headers['content-type']).toMatch(/^text\/turtle/);
    const quads = new Parser({ format: 'text/turtle' }).parse(preview.body);
    expect(quads.map((q) => [q.subject.value, q.predicate.value, q.object.value]).sort()).toEqual(
      [
        [`${hub.config.baseUrl}/things/t1/observations/2024-05-01T10%3A00%3A00.000Z`, 'http://www.w3.org/1999/02/22-rdf-syntax-ns#type', 'http://www.w3.org/ns/sosa/Observation'],
        [`${hub.config.baseUrl}/things/t1/observations/2024-05-01T10%3A00%3A00.000Z`, 'http://www.w3.org/ns/sosa/hasSimpleResult', '21.5'],
        [`${hub.config.baseUrl}/things/t1/observations/2024-05-01T10%3A00%3A00.000Z`, 'http://www.w3.org/ns/sosa/resultTime', '2024-05-01T10:00:00.000Z'],
      ].sort(),
    );
    expect(await hub.store.ask('ASK { GRAPH ?g { ?s a <http://www.w3.org/ns/sosa/Observation> } }')).toBe(false);
    const bad = await hub.app.inject({ method: 'PUT', url: '/mappings/y2', headers: { 'content-type': 'text/yaml', authorization: hub.bearer }, payload: 'mappings:\n  x:\n    s: foo:$(a)\n' });
    expect(bad.statusCode).toBe(422);
  });

  it('ingests the messages of a Thing whose TD names the mapfile, and swaps a replaced mapfile for the next message', async () => {
    hub = await startTestHub();
    expect((await put('uplink', UPLINK_TTL)).statusCode).toBe(201);
    const td = { '@context': 'https://www.w3.org/2022/wot/td/v1.1', id: 'urn:dev:dev1', title: 'dev1', securityDefinitions: { nosec_sc: { scheme: 'nosec' } }, security: 'nosec_sc', mapping: 'uplink' };
    const tdRes = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(td.id)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td });
    expect(tdRes.statusCode).toBeLessThan(300);
    const ingest = await hub.app.inject({
      method: 'POST',
      url: `/ingest/${encodeURIComponent(td.id)}`,
      headers: { authorization: hub.bearer },
      payload: UPLINK_MESSAGE,
    });
    expect(ingest.statusCode).toBe(200);
    expect(ingest.json()).toMatchObject({ status: 'stored', mapping: 'uplink', quads: expect.any(Number) });
    const graph = ingest.json().graph as string;
    expect(graph).toMatch(/\/graphs\/observations\/urn%3Adev%3Adev1\/2020-02-12$/);
    const rows = await hub.store.select(`PREFIX sosa: <http://www.w3.org/ns/sosa/>
      SELECT ?v ?t WHERE { GRAPH <${graph}> { ?o a sosa:Observation ; sosa:observedProperty ?p ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t .
        FILTER(STRENDS(STR(?p), "/temperature")) } }`);
    expect(rows).toHaveLength(1);
    expect(Number(rows[0]!.v!.value)).toBe(1);
    expect(rows[0]!.t!.datatype).toBe('http://www.w3.org/2001/XMLSchema#dateTime');
    expect(await hub.store.ask(`ASK { GRAPH <${graph}> { ?p a <https://uri.etsi.org/ngsi-ld/Property> ; <https://uri.etsi.org/ngsi-ld/unitCode> "CEL" } }`)).toBe(true);
    expect(hub.liveState.latest(td.id)?.payload).toMatchObject({ decoded: { temperature: 1 }, sequence: 1 });

    // Replace the mapfile: the next message uses the new plan.
    expect((await put('uplink', YARRRML, 'application/yaml')).statusCode).toBe(204);
    const second = await hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent(td.id)}`, headers: { authorization: hub.bearer }, payload: { temperature: 30 } });
    expect(second.json()).toMatchObject({ status: 'stored', quads: 3 });

    // A message the plan cannot map is a counted error and leaves nothing behind.
    // (The aggregates' background rebuild counters move on their own: only what a write changes is compared.)
    const written = async () => Object.fromEntries(Object.entries(await hub.store.stats()).filter(([k]) => !k.startsWith('aggregates')));
    const before = await written();
    const bad = await hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent(td.id)}`, headers: { authorization: hub.bearer }, payload: { temperature: { nested: true } } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ code: 'mapping-failed' });
    expect(before).toMatchObject({ quads: expect.any(Number), logBytes: expect.any(Number), ackedWrites: expect.any(Number) });
    expect(await written()).toEqual(before);
    const counters = (await hub.app.inject({ method: 'GET', url: '/ingest' })).json();
    expect(counters).toMatchObject({ received: 3, stored: 2, failed: 1, failedByCode: { 'mapping-failed': 1 } });
  });

  it('loads stored mapfiles at start', async () => {
    hub = await startTestHub({}, { keepDataDir: true });
    expect((await put('uplink', UPLINK_TTL)).statusCode).toBe(201);
    const dataDir = hub.dataDir;
    await hub.stop();
    hub = await startTestHub({}, { dataDir });
    try {
      expect(hub.mapping.registry.plan('uplink')).toBeDefined();
      expect((await hub.app.inject({ method: 'GET', url: '/mappings/uplink' })).body).toBe(UPLINK_TTL);
    } finally {
      const { rmSync } = await import('node:fs');
      await hub.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
