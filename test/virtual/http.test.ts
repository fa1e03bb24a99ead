// /virtual/{name}: hot deploy and removal over HTTP, write scope before the body, problems naming the member, YAML,
// a virtual Thing with live values and SOSA observations (usedProcedure, wasDerivedFrom), persisted across a restart.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';
import { ingest, putMapfile, putThing, putVirtual, readProperty, ROOM_MAPFILE, sparql, until } from './helpers.ts';

const SENSOR = 'urn:dev:room:1';
const AVG = {
  title: 'Room 1 average temperature',
  inputs: { t: { thing: SENSOR, property: 'temperature' } },
  operators: [
    { id: 'plausible', op: 'filter', from: 't', where: 'value > -40 and value < 80' },
    { id: 'w', op: 'window', from: 'plausible', size: 900, aggregates: ['avg', 'min', 'max', 'count', 'p90'], minSamples: 3 },
  ],
  outputs: {
    average: { from: 'w', select: 'avg', unit: 'qudt:DEG_C' },
    samples: { from: 'w', select: 'count', type: 'integer' },
    spread: { from: 'w', expression: 'value.max - value.min', unit: 'qudt:DEG_C' },
  },
  event: 'averaged',
};
const VID = 'urn:wot-hub:virtual:room-1-avg';

describe('virtual sensors over HTTP', () => {
  let hub: TestHub;
  let dataDir: string;
  beforeAll(async () => {
    hub = await startTestHub({}, { keepDataDir: true });
    dataDir = hub.dataDir;
    await putMapfile(hub, 'rooms', ROOM_MAPFILE);
    await putThing(hub, SENSOR);
  });
  afterAll(async () => {
    await hub?.stop();
    const { rmSync } = await import('node:fs');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a change without the write scope before reading the body, and a body that is neither JSON nor YAML', async () => {
    const anon = await hub.app.inject({ method: 'PUT', url: '/virtual/x', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(anon.statusCode).toBe(401);
    expect(anon.headers['content-type']).toMatch(/^application\/problem\+json/);
    const del = await hub.app.inject({ method: 'DELETE', url: '/virtual/x' });
    expect(del.statusCode).toBe(401);
    const text = await putVirtual(hub, 'x', 'hello', 'text/plain');
    expect(text.statusCode).toBe(415);
    const badName = await putVirtual(hub, 'Bad%20Name', AVG);
    expect(badName.statusCode).toBe(400);
  });

  it.each([
    [{ ...AVG, inputs: { t: { thing: 'urn:dev:nobody', property: 'temperature' } } }, '/inputs/t/thing', 'unknown-input'],
    [{ ...AVG, operators: [{ ...AVG.operators[0], from: 'nope' }, AVG.operators[1]] }, '/operators/0/from', 'unknown-input'],
    [{ ...AVG, operators: [{ ...AVG.operators[0], from: 'w' }, AVG.operators[1]] }, '/operators/0/id', 'definition-cycle'],
    [{ ...AVG, operators: [{ ...AVG.operators[0], where: '$eval("1")' }, AVG.operators[1]] }, '/operators/0/where', 'expression-not-allowed'],
    [{ ...AVG, operators: [{ ...AVG.operators[0], where: '$count([1..100000000]) > 0' }, AVG.operators[1]] }, '/operators/0/where', 'expression-not-allowed'],
    [{ ...AVG, operators: [AVG.operators[0], { ...AVG.operators[1], aggregates: ['avg', 'mode'] }] }, '/operators/1/aggregates/1', 'invalid-definition'],
    [{ ...AVG, outputs: { average: { from: 'w', select: 'avg', colour: 'red' } } }, '/outputs/average/colour', 'invalid-definition'],
  ])('refuses a bad definition with a problem naming the member (%#)', async (definition, pointer, code) => {
    const res = await putVirtual(hub, 'bad', definition);
    expect(res.statusCode, res.body).toBe(422);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code, pointer, status: 422 });
    expect((await hub.app.inject({ url: '/virtual/bad' })).statusCode).toBe(404);
  });

  it('deploys a definition at runtime: a Thing in the directory whose live values and observations follow its inputs', async () => {
    const res = await putVirtual(hub, 'room-1-avg', AVG);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`${hub.config.baseUrl}/virtual/room-1-avg`);
    expect(res.json()).toMatchObject({ name: 'room-1-avg', kind: 'stream', thingId: VID });
    const td = (await hub.directory.get(VID)) as Record<string, any>;
    expect(td['@type']).toContain('hub:VirtualSensor');
    expect(td.properties.average).toMatchObject({ type: 'number', unit: 'qudt:DEG_C', readOnly: true });
    expect(td.events.averaged).toBeDefined();
    const temps = [20, 21, 22, 999, 23];
    for (const [i, t] of temps.entries()) await ingest(hub, SENSOR, { temperature: t, room: 'r1' }, `2026-03-01T10:0${i}:00Z`, `m${i}`);
    await hub.virtual.settled();
    // 999 is filtered out; the window holds 20..23 after the fourth valid sample
    expect(await until(() => readProperty(hub, VID, 'average'), (v) => v === 21.5)).toBe(21.5);
    expect(await readProperty(hub, VID, 'samples')).toBe(4);
    expect(await readProperty(hub, VID, 'spread')).toBe(3);
    const rows = await until(() => sparql(hub, `PREFIX sosa: <http://www.w3.org/ns/sosa/> PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX hub: <https://w3id.org/wot-hub#>
      SELECT ?o ?v ?proc ?w ?n (COUNT(?m) AS ?members) WHERE { GRAPH ?g { ?o sosa:madeBySensor <${hub.config.baseUrl}/things/${encodeURIComponent(VID)}> ;
        sosa:observedProperty <${hub.config.baseUrl}/things/${encodeURIComponent(VID)}/properties/average> ; sosa:hasSimpleResult ?v ; sosa:usedProcedure ?proc ; prov:wasDerivedFrom ?w .
        ?w a hub:Window ; hub:sampleCount ?n ; prov:hadMember ?m } } GROUP BY ?o ?v ?proc ?w ?n ORDER BY ?v`), (r) => r.length === 2);
    expect(rows.map((r) => Number(r.v!.value))).toEqual([21, 21.5]);
    expect(rows.every((r) => r.proc!.value === `${hub.config.baseUrl}/virtual/room-1-avg`)).toBe(true);
    expect(rows.map((r) => [Number(r.n!.value), Number(r.members!.value)])).toEqual([[3, 3], [4, 4]]);
    // the window's members are the input observations themselves (they exist in the store)
    const members = await sparql(hub, `PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX sosa: <http://www.w3.org/ns/sosa/>
      SELECT ?v WHERE { GRAPH ?g { ?w prov:hadMember ?m } GRAPH ?h { ?m sosa:hasSimpleResult ?v } FILTER(?w = <${rows[1]!.w!.value}>) } ORDER BY ?v`);
    expect(members.map((m) => Number(m.v!.value))).toEqual([20, 21, 22, 23]);
    const status = (await hub.app.inject({ url: '/virtual/room-1-avg' })).json();
    expect(status.counters).toMatchObject({ samples: 5, published: 2, errors: 0 });
  });

  it('takes a YAML definition and replaces a running sensor in place (200)', async () => {
    const yaml = `title: Room 1 maximum
inputs:
  t: { thing: "${SENSOR}", property: temperature }
operators:
  - { id: w, op: window, from: t, count: 2, aggregates: [max] }
outputs:
  maximum: { from: w, select: max, unit: "qudt:DEG_C" }
`;
    const res = await putVirtual(hub, 'room-1-avg', yaml, 'application/yaml');
    expect(res.statusCode, res.body).toBe(200);
    await ingest(hub, SENSOR, { temperature: 30, room: 'r1' }, '2026-03-01T10:06:00Z', 'm6');
    await hub.virtual.settled();
    expect(await until(() => readProperty(hub, VID, 'maximum'), (v) => v === 30)).toBe(30);
    const td = (await hub.directory.get(VID)) as Record<string, any>;
    expect(td.title).toBe('Room 1 maximum');
    expect(td.properties.maximum).toBeDefined();
    const bomb = `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n`;
    const refused = await putVirtual(hub, 'bomb', bomb, 'application/yaml');
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('definition-too-large');
  });

  it('is persisted: a restarted hub redeploys it; DELETE removes it from the directory and the disk', async () => {
    expect(existsSync(join(dataDir, 'virtual', 'room-1-avg.json'))).toBe(true);
    await hub.stop();
    hub = await startTestHub({}, { dataDir, keepDataDir: true });
    expect((await hub.app.inject({ url: '/virtual' })).json().sensors.map((s: { name: string }) => s.name)).toEqual(['room-1-avg']);
    await ingest(hub, SENSOR, { temperature: 31, room: 'r1' }, '2026-03-01T10:07:00Z', 'm7');
    await ingest(hub, SENSOR, { temperature: 25, room: 'r1' }, '2026-03-01T10:08:00Z', 'm8');
    await hub.virtual.settled();
    expect(await until(() => readProperty(hub, VID, 'maximum'), (v) => v === 31)).toBe(31);
    const del = await hub.app.inject({ method: 'DELETE', url: '/virtual/room-1-avg', headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBe(204);
    expect(await hub.directory.get(VID)).toBeUndefined();
    expect((await hub.app.inject({ url: `/wot/${encodeURIComponent(VID)}/properties/maximum` })).statusCode).toBe(404);
    expect((await hub.app.inject({ method: 'DELETE', url: '/virtual/room-1-avg', headers: { authorization: hub.bearer } })).statusCode).toBe(404);
    expect((await hub.app.inject({ url: '/virtual' })).json().sensors).toEqual([]);
    expect(existsSync(join(dataDir, 'virtual', 'room-1-avg.json'))).toBe(false);
  }, 120_000);
});
