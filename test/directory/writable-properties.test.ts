// hub:writeAction / hub:writeInput: which properties the hub writes, and the directory refusing a TD whose terms name
// no action, an action without input, or an input member the action's schema lacks (400 naming the member).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writableProperties, writablePropertyProblems, writeActionInput, writeTarget } from '../../hub/directory/writable-properties.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const actions = {
  setRates: { input: { type: 'object', properties: { euler: { type: 'number' }, quaternion: { type: 'number' } } }, forms: [{ href: 'x' }] },
  setLevel: { input: { type: 'number' }, forms: [{ href: 'x' }] },
  identify: { forms: [{ href: 'x' }] },
};
const td = (properties: Record<string, unknown>) => ({
  '@context': ['https://www.w3.org/2022/wot/td/v1.1', { hub: 'https://w3id.org/wot-hub#' }],
  id: 'urn:dev:writable:1',
  title: 'writable',
  securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
  security: ['nosec_sc'],
  properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, { type: 'number', forms: [{ href: 'x' }], ...(v as object) }])),
  actions,
});

describe('writeTarget / writableProperties', () => {
  it('a property is writable only with hub:writeAction and not readOnly', () => {
    expect(writeTarget({ type: 'number', 'hub:writeAction': 'setRates', 'hub:writeInput': 'euler' })).toEqual({ action: 'setRates', input: 'euler' });
    expect(writeTarget({ type: 'number', readOnly: false, 'hub:writeAction': 'setLevel' })).toEqual({ action: 'setLevel' });
    expect(writeTarget({ type: 'number', readOnly: false })).toBeUndefined(); // TD 1.1's default is not enough
    expect(writeTarget({ type: 'number', readOnly: true, 'hub:writeAction': 'setLevel' })).toBeUndefined();
    expect(writeTarget({ 'hub:writeAction': 7 })).toBeUndefined();
    expect(writableProperties(td({ a: { 'hub:writeAction': 'setLevel' }, b: { readOnly: false }, c: { readOnly: true } }))).toEqual(['a']);
  });

  it('the value goes under hub:writeInput, or is the whole input', () => {
    expect(writeActionInput({ action: 'setRates', input: 'euler' }, 40)).toEqual({ euler: 40 });
    expect(writeActionInput({ action: 'setLevel' }, 3)).toBe(3);
  });
});

describe('writablePropertyProblems', () => {
  it('names each bad member by its JSON Pointer', () => {
    expect(writablePropertyProblems(td({
      ok: { 'hub:writeAction': 'setRates', 'hub:writeInput': 'euler' },
      whole: { 'hub:writeAction': 'setLevel' },
      plain: { readOnly: true },
      ghost: { 'hub:writeAction': 'launch' },
      noInput: { 'hub:writeAction': 'identify' },
      badMember: { 'hub:writeAction': 'setRates', 'hub:writeInput': 'matrix' },
      orphan: { 'hub:writeInput': 'euler' },
      locked: { readOnly: true, 'hub:writeAction': 'setLevel' },
      'a/b': { 'hub:writeAction': 7 },
    })).map((p) => p.field)).toEqual([
      '/properties/ghost/hub:writeAction',
      '/properties/noInput/hub:writeAction',
      '/properties/badMember/hub:writeInput',
      '/properties/orphan/hub:writeAction',
      '/properties/locked/readOnly',
      '/properties/a~1b/hub:writeAction',
    ]);
    expect(writablePropertyProblems(td({ badMember: { 'hub:writeAction': 'setRates', 'hub:writeInput': 'matrix' } }))[0]!.description).toBe("must name a property of the input of action 'setRates' (euler, quaternion)");
    expect(writablePropertyProblems({ properties: 'x' })).toEqual([]);
  });
});

describe('the directory validates the terms when a TD is put', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => {
    await hub?.stop();
  });
  const put = (body: unknown) => hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent('urn:dev:writable:1')}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: JSON.stringify(body) });

  it('a TD naming an unknown action or input member is 400 validation-failed with those members; nothing is stored', async () => {
    const res = await put(td({ rate: { 'hub:writeAction': 'setRates', 'hub:writeInput': 'matrix' }, level: { 'hub:writeAction': 'setLevl' } }));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json() as { code: string; validationErrors: Array<{ field: string; description: string }> };
    expect(problem.code).toBe('validation-failed');
    expect(problem.validationErrors.map((e) => e.field)).toEqual(['/properties/rate/hub:writeInput', '/properties/level/hub:writeAction']);
    expect(problem.validationErrors[1]!.description).toMatch(/names 'setLevl', which is not an action of this TD \(setRates, setLevel, identify\)/);
    expect(hub.directory.has('urn:dev:writable:1')).toBe(false);
  });

  it('a valid TD is stored and exposed with writeproperty forms on its writable properties only', async () => {
    const res = await put(td({ rate: { 'hub:writeAction': 'setRates', 'hub:writeInput': 'euler' }, level: { readOnly: false } }));
    expect(res.statusCode, res.body).toBe(201);
    for (let i = 0; i < 100 && !hub.things.hasThing('urn:dev:writable:1'); i++) await new Promise((r) => setTimeout(r, 20));
    const exposed = hub.things.thingDescription('urn:dev:writable:1') as { properties: Record<string, { forms: Array<{ op: string[] }> }> };
    const ops = (name: string) => exposed.properties[name]!.forms.flatMap((f) => f.op);
    expect(ops('rate')).toContain('writeproperty');
    expect(ops('level')).not.toContain('writeproperty');
  });

  it('the NGIMU Thing Model instantiates with its writable eulerRate (readproperty is not offered on a write-only property)', async () => {
    const res = await hub.app.inject({ method: 'POST', url: '/thing-models/ngimu-imu/instantiate', headers: { authorization: hub.bearer }, payload: { id: 'urn:dev:ngimu:tm', placeholders: { TITLE: 't', ADAPTER_ID: 'a', OSC_SOURCE: '127.0.0.1:9000', SEND_PORT: 8001, MAPPING: 'ngimu-osc' } } });
    expect(res.statusCode, res.body).toBe(200);
    const tmTd = res.json() as { properties: Record<string, { forms: Array<{ op: string[] }> }> };
    expect(tmTd.properties.eulerRate!.forms.map((f) => f.op)).toEqual([['writeproperty']]);
    expect(Object.entries(tmTd.properties).filter(([, p]) => p.forms.some((f) => [f.op].flat().includes('writeproperty'))).map(([n]) => n)).toEqual(['eulerRate']);
  });
});
