// Rules over HTTP: deploy/replace/remove at runtime (write scope before the body), definitions refused with the member named, domains, cycles, triggers (property, event, 1 s timer), conditions, the saturating accumulator, actions (a queued command, an output, an event), isolation of a failing rule, the rule Thing (enable/disable through the queue, counters) and persistence.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const READER = 'reader-token-0123456789abcdef';
const TEMP = 'urn:dev:rules:temp';
const HEATER = 'urn:dev:rules:heater';
const OTHER = 'urn:dev:rules:plant-valve';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const td = (id: string, domain: string | undefined, extra: Record<string, unknown> = {}) => ({
  '@context': ['https://www.w3.org/2022/wot/td/v1.1', { hub: 'https://w3id.org/wot-hub#' }],
  id,
  title: id,
  ...(domain ? { 'hub:domain': domain } : {}),
  securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
  security: ['nosec_sc'],
  properties: { temperature: { type: 'number', readOnly: true, observable: true, forms: [{ href: 'x' }] } },
  ...extra,
});
const heaterActions = { actions: { setPower: { input: { type: 'object', required: ['percent'], properties: { percent: { type: 'number', minimum: 0, maximum: 100 } } }, forms: [{ href: 'x' }] } } };

describe('rules', () => {
  let hub: TestHub;
  let dataDir: string;
  const put = (name: string, body: unknown, token = hub.bearer) => hub.app.inject({ method: 'PUT', url: `/rules/${name}`, headers: { authorization: token, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
  const get = (url: string) => hub.app.inject({ url, headers: { authorization: hub.bearer } });
  const temp = (value: number, extra: Record<string, unknown> = {}) => hub.liveState.publish({ meta: { thingId: TEMP, protocol: 'test', receivedAt: new Date().toISOString() }, payload: { temperature: value, ...extra } });
  const until = async (f: () => boolean | Promise<boolean>, ms = 5000) => {
    for (const end = Date.now() + ms; !(await f()) && Date.now() < end; ) await sleep(20);
    return f();
  };
  const status = async (name: string) => (await get(`/rules/${name}`)).json().status;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hub-rules-'));
    hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }] }, { dataDir });
    for (const [id, domain, extra] of [[TEMP, 'lab', {}], [HEATER, 'lab', heaterActions], [OTHER, 'plant', heaterActions]] as const) {
      const res = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(id)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td(id, domain, extra) });
      expect(res.statusCode, res.body).toBe(201);
    }
  });
  afterAll(async () => {
    await hub?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const heat = {
    title: 'Heat when cold',
    domain: 'lab',
    things: { t: TEMP, heater: HEATER },
    triggers: [{ thing: 't', property: 'temperature' }],
    condition: 'value < 18',
    accumulator: { initial: 0, min: 0, max: 3, update: 'state + 1' },
    actions: [
      { invoke: 'setPower', thing: 'heater', input: '{"percent": $min([100, (18 - value) * 20])}' },
      { write: 'lastCold', value: 'value' },
      { emit: 'cold', data: '{"temperature": value, "count": state}' },
    ],
  };

  it('writes need the write scope, checked before the body is read (401 without a token, 403 with a read token)', async () => {
    const anon = await hub.app.inject({ method: 'PUT', url: '/rules/heat', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    expect(anon.statusCode).toBe(401);
    const reader = await put('heat', '{not json', `Bearer ${READER}`);
    expect(reader.statusCode).toBe(403);
    expect(reader.headers['content-type']).toMatch(/application\/problem\+json/);
  });

  it('a bad definition is refused with a problem naming the member', async () => {
    const cases: Array<[unknown, number, string, string]> = [
      [{ ...heat, triggers: [{ thing: 'nope', property: 'temperature' }] }, 422, 'invalid-rule', '/triggers/0/thing'],
      [{ ...heat, condition: 'value <' }, 422, 'invalid-rule', '/condition'],
      [{ ...heat, condition: '$match(message, /(a+)+$/)' }, 422, 'invalid-rule', '/condition'],
      [{ ...heat, condition: '$count([1..10000000]) > 0' }, 422, 'invalid-rule', '/condition'],
      [{ ...heat, triggers: [{ every: 0.5 }] }, 422, 'invalid-rule', '/triggers/0/every'],
      [{ ...heat, accumulator: { initial: 5, min: 0, max: 3, update: 'state' } }, 422, 'invalid-rule', '/accumulator/initial'],
      [{ ...heat, actions: [{ write: 'x', thing: 'heater', value: '1' }] }, 422, 'rule-property-not-writable', '/actions/0/write'],
      [{ ...heat, actions: [{ launch: 'x' }] }, 422, 'invalid-rule', '/actions/0'],
      [{ ...heat, eval: 'process.exit()' }, 422, 'invalid-rule', '/eval'],
      [{ ...heat, things: { ...heat.things, ghost: 'urn:dev:rules:none' } }, 422, 'rule-unknown-thing', '/things/ghost'],
      [{ ...heat, things: { ...heat.things, valve: OTHER } }, 403, 'rule-outside-domain', '/things/valve'],
      [{ ...heat, triggers: [{ virtual: 'no-such-sensor' }] }, 422, 'rule-unknown-thing', '/triggers/0/virtual'],
    ];
    for (const [body, status, code, member] of cases) {
      const res = await put('bad', body);
      expect(res.statusCode, res.body).toBe(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json()).toMatchObject({ code, member });
    }
    expect((await put('Bad_Name', heat)).statusCode).toBe(400);
    expect((await get('/rules/bad')).statusCode).toBe(404);
    expect(hub.directory.has('urn:wot-hub:rule:bad')).toBe(false);
  });

  it('a rule outside its domain: the problem names the member and both domains', async () => {
    const res = await put('plant-from-lab', { ...heat, things: { t: TEMP, heater: OTHER } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'rule-outside-domain', member: '/things/heater', thingDomain: 'plant', ruleDomain: 'lab' });
  });

  it('deploys at runtime as a Thing; a property change runs it: a queued command, an output, an event, a saturating accumulator', async () => {
    const res = await put('heat', heat);
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toMatch(/\/rules\/heat$/);
    expect(res.json()).toMatchObject({ name: 'heat', thing: 'urn:wot-hub:rule:heat', domain: 'lab', status: { enabled: true, runs: 0, failures: 0, state: 0 } });
    const thing = await get(`/things/${encodeURIComponent('urn:wot-hub:rule:heat')}`);
    expect(thing.statusCode).toBe(200);
    expect(thing.json()).toMatchObject({ 'hub:domain': 'lab', actions: { enable: {}, disable: {} }, events: { emitted: {} } });

    const events: unknown[] = [];
    const stop = hub.liveState.subscribe('urn:wot-hub:rule:heat', (m) => m.payload.cold !== undefined && events.push(m.payload.cold));
    temp(21); // condition false
    await until(async () => (await status('heat')).skipped === 1);
    for (const [i, v] of [17, 16, 15, 14, 13].entries()) {
      temp(v);
      await until(async () => (await status('heat')).runs === i + 1);
    }
    temp(13); // not a change: no run
    await sleep(100);
    stop();
    const s = await status('heat');
    expect(s).toMatchObject({ runs: 5, failures: 0, skipped: 1, state: 3, outputs: { lastCold: 13 } });
    // the accumulator saturates at max 3 (it would be 5)
    expect(events).toEqual([{ temperature: 17, count: 1 }, { temperature: 16, count: 2 }, { temperature: 15, count: 3 }, { temperature: 14, count: 3 }, { temperature: 13, count: 3 }]);
    const commands = hub.downlink.service.list(HEATER);
    expect(commands.map((c) => [c.action, c.input, c.requester])).toEqual([17, 16, 15, 14, 13].map((v) => ['setPower', { percent: Math.min(100, (18 - v) * 20) }, 'rule:heat']));
    const runs = await hub.app.inject({ url: `/wot/${encodeURIComponent('urn:wot-hub:rule:heat')}/properties/runs`, headers: { authorization: hub.bearer } });
    expect(runs.json()).toBe(5);
  });

  it('a failing rule is isolated and counted; ingestion and the other rules go on', async () => {
    expect((await put('broken', { domain: 'lab', things: { t: TEMP }, triggers: [{ thing: 't', property: 'temperature' }], actions: [{ emit: 'x', data: '$error("boom " & $string(value))' }] })).statusCode).toBe(201);
    expect((await put('bad-input', { domain: 'lab', things: { t: TEMP, h: HEATER }, triggers: [{ thing: 't', property: 'temperature' }], actions: [{ invoke: 'setPower', thing: 'h', input: '{"percent": 500}' }] })).statusCode).toBe(201);
    const before = (await status('heat')).runs;
    expect(() => temp(12)).not.toThrow();
    await until(async () => (await status('broken')).failures === 1 && (await status('bad-input')).failures === 1 && (await status('heat')).runs === before + 1);
    expect(await status('broken')).toMatchObject({ failures: 1, runs: 0, lastError: expect.stringContaining('boom 12') });
    // the action's input schema (maximum 100) is checked as for any client: nothing was queued
    expect((await status('bad-input')).lastError).toMatch(/percent|maximum|100/);
    expect(hub.downlink.service.list(HEATER).filter((c) => (c.input as { percent: number }).percent === 500)).toHaveLength(0);
    expect((await status('heat')).runs).toBe(before + 1);
    expect(hub.liveState.property(TEMP, 'temperature')).toBe(12);
    for (const n of ['broken', 'bad-input']) expect((await hub.app.inject({ method: 'DELETE', url: `/rules/${n}`, headers: { authorization: hub.bearer } })).statusCode).toBe(204);
  });

  it('timer triggers at 1 s granularity; events of one rule trigger another; a cycle is refused', async () => {
    expect((await put('tick', { domain: 'lab', triggers: [{ every: 1 }], accumulator: { update: 'state + 1', max: 1000 }, actions: [{ emit: 'tock', data: 'state' }] })).statusCode).toBe(201);
    expect((await put('listen', { domain: 'lab', things: { tick: 'urn:wot-hub:rule:tick' }, triggers: [{ thing: 'tick', event: 'tock' }], actions: [{ write: 'heard', value: 'value' }] })).statusCode).toBe(201);
    expect(await until(async () => (await status('tick')).runs >= 1, 3000)).toBe(true);
    const t1 = Date.now();
    expect(await until(async () => (await status('tick')).runs >= 3, 5000)).toBe(true);
    // two more ticks: about 2 s (the first observation may lag its tick by a poll)
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1000);
    await until(async () => (await status('listen')).runs >= 2);
    expect((await status('listen')).outputs.heard).toBeGreaterThanOrEqual(2);
    const cycle = await put('tick', { domain: 'lab', things: { l: 'urn:wot-hub:rule:listen' }, triggers: [{ thing: 'l', property: 'outputs' }], actions: [{ emit: 'tock', data: '1' }] });
    expect(cycle.statusCode).toBe(422);
    expect(cycle.json()).toMatchObject({ code: 'rule-cycle', member: '/triggers/0' });
    // the running rule was left as it was
    expect((await get('/rules/tick')).json().definition.triggers).toEqual([{ every: 1 }]);
    for (const n of ['listen', 'tick']) {
      const del = await hub.app.inject({ method: 'DELETE', url: `/rules/${n}`, headers: { authorization: hub.bearer } });
      expect(del.statusCode, del.body).toBe(204);
    }
  });

  it('disable and enable are actions of the rule Thing, through the downlink queue (DELIVERED when applied)', async () => {
    const id = encodeURIComponent('urn:wot-hub:rule:heat');
    const res = await hub.app.inject({ method: 'POST', url: `/wot/${id}/actions/disable`, headers: { authorization: hub.bearer } });
    expect(res.statusCode, res.body).toBe(201);
    const uuid = String(res.json().id).slice('urn:uuid:'.length);
    await until(() => hub.downlink.service.get('urn:wot-hub:rule:heat', uuid).status === 'DELIVERED');
    expect(hub.downlink.service.get('urn:wot-hub:rule:heat', uuid).history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect((await status('heat')).enabled).toBe(false);
    const runs = (await status('heat')).runs;
    temp(5);
    await sleep(100);
    expect((await status('heat')).runs).toBe(runs);
    expect((await get('/rules/heat')).json().definition.enabled).toBe(false);
  });

  it('rules are persisted: a restarted hub runs them (disabled stays disabled); DELETE removes the rule and its Thing', async () => {
    const before = await status('heat');
    expect(before).toMatchObject({ state: 3, outputs: { lastCold: expect.any(Number) } });
    // Saved within a second of the change, without waiting for a clean stop (a kill -9 loses at most that second).
    const snapshot = join(dataDir, 'rules', '_state.json');
    await until(() => existsSync(snapshot) && JSON.parse(readFileSync(snapshot, 'utf8')).heat?.state === 3, 3000);
    await hub.stop();
    hub = await startTestHub({}, { dataDir });
    expect(hub.rules.list().map((r) => r.name)).toEqual(['heat']);
    expect(hub.rules.list()).toEqual([{ name: 'heat', title: 'Heat when cold', thing: 'urn:wot-hub:rule:heat', domain: 'lab', enabled: false }]);
    // Its memory came back: the saturated accumulator and the outputs it wrote (counters start again with the process).
    expect(await status('heat')).toMatchObject({ state: 3, outputs: before.outputs, runs: 0 });
    const id = encodeURIComponent('urn:wot-hub:rule:heat');
    const res = await hub.app.inject({ method: 'POST', url: `/wot/${id}/actions/enable`, headers: { authorization: hub.bearer } });
    expect(res.statusCode).toBe(201);
    await until(async () => (await status('heat')).enabled === true);
    temp(10);
    await until(async () => (await status('heat')).runs === 1);
    expect((await status('heat')).runs).toBe(1);
    // A new definition starts afresh.
    expect((await put('heat', { ...heat, enabled: true })).statusCode).toBe(200);
    expect(await status('heat')).toMatchObject({ state: 0, outputs: {} });
    const del = await hub.app.inject({ method: 'DELETE', url: '/rules/heat', headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBe(204);
    expect((await get('/rules/heat')).statusCode).toBe(404);
    expect((await get(`/things/${id}`)).statusCode).toBe(404);
    expect((await hub.app.inject({ method: 'DELETE', url: '/rules/heat', headers: { authorization: hub.bearer } })).statusCode).toBe(404);
  });
});
