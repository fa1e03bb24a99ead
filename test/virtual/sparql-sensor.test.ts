// SPARQL-defined virtual sensors: a saved SELECT (average per room over 15 min) run on new data of its input Things
// (debounced) or on a schedule, its rows published as the virtual Thing's property values and keyed observations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { ingest, putMapfile, putThing, putVirtual, readProperty, ROOM_MAPFILE, sparql, until } from './helpers.ts';

const T1 = 'urn:dev:room:t1';
const T2 = 'urn:dev:room:t2';
const PER_ROOM = `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
SELECT ?room (AVG(?v) AS ?average) (COUNT(?o) AS ?n) WHERE {
  GRAPH ?g { ?o a sosa:Observation ; sosa:hasFeatureOfInterest ?room ; sosa:hasSimpleResult ?v ; sosa:resultTime ?t }
  FILTER(?t > NOW() - "PT15M"^^xsd:dayTimeDuration)
} GROUP BY ?room`;

describe('SPARQL-defined virtual sensors', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
    await putMapfile(hub, 'rooms', ROOM_MAPFILE);
    await putThing(hub, T1);
    await putThing(hub, T2);
  });
  afterAll(() => hub?.stop());

  it.each([
    [{ kind: 'sparql', query: 'INSERT DATA { <a:b> <a:c> <a:d> }', trigger: { things: [T1] }, outputs: { x: {} } }, '/query', 'invalid-query'],
    [{ kind: 'sparql', query: 'CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }', trigger: { things: [T1] }, outputs: { x: {} } }, '/query', 'invalid-query'],
    [{ kind: 'sparql', query: 'SELECT ?a WHERE {', schedule: { every: 5 }, outputs: { a: {} } }, '/query', 'invalid-query'],
    [{ kind: 'sparql', query: PER_ROOM, schedule: { every: 0.5 }, outputs: { average: {} } }, '/schedule/every', 'invalid-definition'],
    [{ kind: 'sparql', query: PER_ROOM, schedule: { every: 5 }, outputs: { mean: { variable: 'mean' } } }, '/outputs/mean/variable', 'unknown-input'],
    [{ kind: 'sparql', query: PER_ROOM, outputs: { average: {} } }, '', 'invalid-definition'],
  ])('refuses a bad SPARQL definition naming the member (%#)', async (definition, pointer, code) => {
    const res = await putVirtual(hub, 'bad-sparql', definition);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ code, pointer });
  });

  it('publishes the average per room over the last 15 minutes when its inputs get data (debounced)', async () => {
    const def = { kind: 'sparql', title: 'Average per room (15 min)', query: PER_ROOM, keyVariable: 'room', trigger: { things: [T1, T2], debounce: 1 }, outputs: { average: { type: 'object', unit: 'qudt:DEG_C' }, n: { type: 'object' } } };
    const res = await putVirtual(hub, 'rooms-15min', def);
    expect(res.statusCode, res.body).toBe(201);
    const vid = res.json().thingId as string;
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    await ingest(hub, T1, { temperature: 20, room: 'r1' }, at(2), 'a1');
    await ingest(hub, T1, { temperature: 22, room: 'r1' }, at(1), 'a2');
    await ingest(hub, T2, { temperature: 18, room: 'r2' }, at(1), 'b1');
    await ingest(hub, T2, { temperature: 40, room: 'r2' }, at(60), 'b0'); // older than 15 min: not in the average
    const r1 = `${hub.config.baseUrl}/rooms/r1`;
    const r2 = `${hub.config.baseUrl}/rooms/r2`;
    const average = await until(() => readProperty(hub, vid, 'average'), (v) => JSON.stringify(v) === JSON.stringify({ [r1]: 21, [r2]: 18 }) || (v as Record<string, number>)?.[r2] === 18 && (v as Record<string, number>)?.[r1] === 21, 8000);
    expect(average).toEqual({ [r1]: 21, [r2]: 18 });
    expect(await readProperty(hub, vid, 'n')).toEqual({ [r1]: 2, [r2]: 1 });
    // debounced: four messages within a second are one or two runs (plus the one at deploy), not four
    const status = (await hub.app.inject({ url: '/virtual/rooms-15min' })).json();
    expect(status.counters.runs).toBeLessThanOrEqual(3);
    expect(status.counters.errors).toBe(0);
    // The live value comes first; the output's observations are in SPARQL once its insert is acknowledged.
    await hub.virtual.settled();
    const rows = await sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX hub: <https://w3id.org/wot-hub#>
      SELECT ?key ?v ?proc WHERE { GRAPH ?g { ?o sosa:madeBySensor <${hub.config.baseUrl}/things/${encodeURIComponent(vid)}> ; sosa:observedProperty <${hub.config.baseUrl}/things/${encodeURIComponent(vid)}/properties/average> ;
        hub:key ?key ; sosa:hasResult ?r ; sosa:usedProcedure ?proc . ?r <http://qudt.org/schema/qudt/numericValue> ?v ; <http://qudt.org/schema/qudt/unit> <http://qudt.org/vocab/unit/DEG_C> } } ORDER BY ?key ?v`);
    const last = new Map(rows.map((r) => [r.key!.value, Number(r.v!.value)]));
    expect(last.get(r1)).toBe(21);
    expect(last.get(r2)).toBe(18);
    expect(rows[0]!.proc!.value).toBe(`${hub.config.baseUrl}/virtual/rooms-15min`);
  });

  it('runs on a schedule (every >= 1 s) and is removed at runtime', async () => {
    const def = { kind: 'sparql', query: 'PREFIX sosa: <http://www.w3.org/ns/sosa/> SELECT (COUNT(?o) AS ?observations) WHERE { GRAPH ?g { ?o a sosa:Observation } }', schedule: { every: 1 }, outputs: { observations: { type: 'integer' } } };
    const res = await putVirtual(hub, 'count', def);
    expect(res.statusCode, res.body).toBe(201);
    const vid = res.json().thingId as string;
    const first = await until(() => readProperty(hub, vid, 'observations'), (v) => typeof v === 'number', 5000);
    expect(first).toBeGreaterThanOrEqual(4);
    const runs = await until(async () => (await hub.app.inject({ url: '/virtual/count' })).json().counters.runs as number, (n) => n >= 3, 6000);
    expect(runs).toBeGreaterThanOrEqual(3);
    expect((await hub.app.inject({ method: 'DELETE', url: '/virtual/count', headers: { authorization: hub.bearer } })).statusCode).toBe(204);
    expect(await hub.directory.get(vid)).toBeUndefined();
  });
});
