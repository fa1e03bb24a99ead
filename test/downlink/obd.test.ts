// OBD-II actions through the ELM327 session with the vehicle simulator over real TCP: readDtcs, clearDtcs (confirm
// only), readVin, pollPid, interleaved with the poll schedule; FAILED on NO DATA / ? / CAN ERROR / a timeout (then
// retried); offline waits, expiry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Elm327Session } from '../../hub/bindings/obd/session.ts';
import { startVehicleSimulator, type VehicleSimulator } from '../../hub/simulators/vehicle.ts';
import { freePort, startTestHub, type TestHub } from '../helpers/hub.ts';

const VIN = '1D4GP00R55B123456';
const ID = `urn:dev:vehicle:${VIN}`;
const VIN2 = 'WVWZZZ1JZXW000001';
const ID2 = `urn:dev:vehicle:${VIN2}`;
const READER = 'obd-reader-token-0123456789abcdef';
const T0 = Date.parse('2026-06-01T08:00:00Z');

type Status = { id: string; status: string; action: string; output?: unknown; attempts: number; history: Array<{ status: string; at: string; evidence: string }> };

const until = async <T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, ms = 20_000): Promise<T> => {
  for (const end = Date.now() + ms; ; await new Promise((r) => setTimeout(r, 25))) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
};

let hub: TestHub;
let sim: VehicleSimulator;
let simNow = T0;

async function registerVehicle(id: string, vin: string, extra: Record<string, unknown>, actions: Record<string, Record<string, unknown>> = {}): Promise<void> {
  const auth = { authorization: hub.bearer };
  const reg = await hub.app.inject({ method: 'POST', url: '/thing-models/obd-vehicle/instantiate?register=true', headers: auth, payload: { id, placeholders: { TITLE: `Car ${vin}`, ADAPTER_ID: 'urn:wot-hub:adapter:obd', VIN: vin, MAPPING: 'obd-pid' } } });
  expect(reg.statusCode, reg.body).toBe(201);
  const url = `/things/${encodeURIComponent(id)}`;
  const td = (await hub.app.inject({ url, headers: auth })).json();
  Object.assign(td['hub:ioAdapterDefinitions'][0].deviceDefinitions, extra);
  for (const [name, members] of Object.entries(actions)) Object.assign(td.actions[name], members);
  const upd = await hub.app.inject({ method: 'PUT', url, headers: { ...auth, 'content-type': 'application/td+json' }, payload: td });
  expect(upd.statusCode, upd.body).toBeLessThan(300);
}

const session = (id: string): Elm327Session | undefined => (hub.transports.find((t) => t.name === 'obd') as unknown as { session(id: string): Elm327Session | undefined }).session(id);

async function invoke(id: string, action: string, input?: unknown, token = hub.bearer) {
  const res = await hub.app.inject({
    method: 'POST',
    url: `/wot/${encodeURIComponent(id)}/actions/${action}`,
    headers: { authorization: token, ...(input === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(input === undefined ? {} : { payload: JSON.stringify(input) }),
  });
  return { status: res.statusCode, location: res.headers.location as string | undefined, body: res.json() as Record<string, unknown> & { validationErrors?: Array<{ field: string }> } };
}

async function status(location: string): Promise<Status> {
  const res = await hub.app.inject({ url: new URL(location).pathname, headers: { authorization: hub.bearer } });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Invokes and waits for a final state (DELIVERED / FAILED / EXPIRED). */
async function run(id: string, action: string, input?: unknown): Promise<Status> {
  const r = await invoke(id, action, input);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return until(`${action} finished`, async () => {
    const s = await status(r.location!);
    return ['DELIVERED', 'FAILED', 'EXPIRED'].includes(s.status) ? s : undefined;
  });
}

const commandsOf = async (id: string): Promise<Status[]> => (await hub.app.inject({ url: `/wot/${encodeURIComponent(id)}/commands`, headers: { authorization: hub.bearer } })).json();

beforeAll(async () => {
  hub = await startTestHub({ tokens: [{ token: READER, scopes: ['read'] }], downlink: { retryDelayMs: 0 } }, { listen: true });
  // The drive's clock is the test's: 25 s in, P0133 is stored (dtcAfterMs 20 s); the car cruises (speed, rpm fixed).
  sim = await startVehicleSimulator({ now: () => simNow, dtcAfterMs: 20_000, gpsPort: -1 });
  simNow = T0 + 25_000;
  await registerVehicle(ID, sim.vin, {
    elm327: { host: sim.host, port: sim.port, headers: true, spaces: true, timeoutMs: 1500 },
    pollSchedule: [{ pids: ['0D', '0C', '05'], intervalMs: 100 }],
    dtcIntervalMs: 300,
  });
  await until('the ELM327 session is ready', () => session(ID)?.ready, 60_000);
}, 90_000); // generous: a hub start on a loaded shared machine
afterAll(async () => {
  await hub?.stop();
  await sim?.stop();
});

describe('OBD-II actions over the ELM327 session', () => {
  it('need the act scope: a read token is 403, none 401; nothing is queued', async () => {
    expect((await invoke(ID, 'readVin', undefined, `Bearer ${READER}`)).status).toBe(403);
    expect((await invoke(ID, 'clearDtcs', { confirm: true }, '')).status).toBe(401);
    expect(await commandsOf(ID)).toEqual([]);
  });

  it('clearDtcs without {"confirm": true} is 400 naming /confirm, before queueing: mode 04 never sent', async () => {
    for (const input of [undefined, {}, { confirm: false }, { confirm: 'true' }, { confirm: 1 }, { confirm: null }, true, 'confirm', [true], null]) {
      const r = await invoke(ID, 'clearDtcs', input);
      expect(r.status, JSON.stringify(input)).toBe(400);
      expect(r.body.code).toBe('validation-failed');
      expect(r.body.validationErrors!.map((e) => e.field), JSON.stringify(input)).toContain('/confirm');
    }
    expect(await commandsOf(ID)).toEqual([]);
    expect(sim.requests.get('04')).toBeUndefined();
    expect(sim.state().dtcs).toEqual(['P0133']);
  });

  it('readDtcs reads modes 03 and 07: the stored P0133 is the output', async () => {
    const s = await run(ID, 'readDtcs');
    expect(s.status, JSON.stringify(s.history)).toBe('DELIVERED');
    expect(s.output).toEqual({ dtcs: ['P0133'], dtcCount: 1, pendingDtcs: [] });
    expect(s.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    expect(s.history[1]!.evidence).toMatch(/wrote 03 then 07 to the ELM327 at 127\.0\.0\.1:\d+/);
    expect(s.history[2]!.evidence).toContain('43 01 01 33');
  });

  it('clearDtcs with {"confirm": true} clears the simulator\'s DTCs; the next readDtcs returns none', async () => {
    const s = await run(ID, 'clearDtcs', { confirm: true });
    expect(s.status, JSON.stringify(s.history)).toBe('DELIVERED');
    expect(s.output).toEqual({ cleared: true, ecus: ['7E8', '7E9'] });
    expect(sim.clears).toBe(1);
    expect(sim.requests.get('04')).toBe(1);
    expect(sim.state().dtcs).toEqual([]);
    const after = await run(ID, 'readDtcs');
    expect(after.output).toEqual({ dtcs: [], dtcCount: 0, pendingDtcs: [] });
    // The poll schedule's own mode 03 read sees it too: the Thing's dtcs property is empty.
    await until('dtcs property cleared', async () => {
      const res = await hub.app.inject({ url: `/wot/${encodeURIComponent(ID)}/properties/dtcs`, headers: { authorization: hub.bearer } });
      return res.statusCode === 200 && Array.isArray(res.json()) && res.json().length === 0;
    });
  });

  it('readVin returns the simulator\'s VIN (mode 09 PID 02, multi-frame)', async () => {
    const s = await run(ID, 'readVin');
    expect(s.status).toBe('DELIVERED');
    expect(s.output).toEqual({ vin: sim.vin });
  });

  it('pollPid 0C returns the rpm now (and 0D by name); a PID outside the bitmap is 422 naming it, a bad one 400 /pid', async () => {
    const rpm = await run(ID, 'pollPid', { pid: '0C' });
    expect(rpm.status).toBe('DELIVERED');
    expect(rpm.output).toEqual({ pid: '0C', name: 'rpm', value: sim.state().rpm, unit: 'rpm' });
    expect(sim.state().rpm).toBeGreaterThan(2000);
    const speed = await run(ID, 'pollPid', { pid: 'speed' });
    expect(speed.output).toEqual({ pid: '0D', name: 'speed', value: sim.state().speed, unit: 'km/h' });
    const unsupported = await invoke(ID, 'pollPid', { pid: '0B' });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body).toMatchObject({ code: 'obd-pid-unsupported', pid: '0B' });
    expect(String(unsupported.body.detail ?? unsupported.body.title)).toContain('0B');
    const bad = await invoke(ID, 'pollPid', { pid: 'zz' });
    expect(bad.status).toBe(400);
    expect(bad.body.validationErrors!.map((e) => e.field)).toContain('/pid');
    expect(sim.requests.get('010B')).toBeUndefined();
  });

  it('FAILED with the adapter\'s text: NO DATA (PID 5C), CAN ERROR, ?', async () => {
    const oil = await run(ID, 'pollPid', { pid: '5C' });
    expect(oil.status).toBe('FAILED');
    expect(oil.history.at(-1)!.evidence).toMatch(/^NO DATA/);
    sim.answerNext('0902', ['CAN ERROR']);
    const can = await run(ID, 'readVin');
    expect(can.status).toBe('FAILED');
    expect(can.history.at(-1)!.evidence).toMatch(/^CAN ERROR/);
    sim.answerNext('0902', ['?']);
    const unknown = await run(ID, 'readVin');
    expect(unknown.status).toBe('FAILED');
    expect(unknown.history.at(-1)!.evidence).toMatch(/^\?/);
    // A definite answer is not retried.
    expect([oil, can, unknown].map((c) => c.attempts)).toEqual([1, 1, 1]);
  });

  it('a reply that never comes is FAILED with the timeout; the retry policy sends it again once the session is back', async () => {
    const connects = session(ID)!.counters.connects;
    sim.ignoreNext('0902');
    const r = await invoke(ID, 'readVin');
    expect(r.status).toBe(201);
    const s = await until('readVin DELIVERED on the retry', async () => {
      const c = await status(r.location!);
      return c.status === 'DELIVERED' ? c : undefined;
    }, 30_000);
    expect(s.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'FAILED', 'QUEUED', 'SENT', 'DELIVERED']);
    expect(s.history[2]!.evidence).toMatch(/^0902: no prompt within 1500 ms after 0902/);
    expect(s.attempts).toBe(2);
    expect(s.output).toEqual({ vin: VIN });
    // The adapter that missed a prompt was dropped and the session started over.
    expect(session(ID)!.counters.connects).toBe(connects + 1);
    await until('session ready again', () => session(ID)?.ready);
  }, 60_000);

  it('actions interleave with the poll schedule without corrupting it: each reply goes to its own request', async () => {
    const s = session(ID)!;
    const before = { ...s.counters };
    const pids = ['0C', '0D', '05', '04', '2F', '0C', '0D', '11'];
    const results = await Promise.all([...pids.map((pid) => run(ID, 'pollPid', { pid })), run(ID, 'readVin'), run(ID, 'readDtcs')]);
    const d = sim.state();
    const expected: Record<string, number> = { '0C': d.rpm, '0D': d.speed, '05': d.coolant };
    for (const [i, pid] of pids.entries()) {
      const out = results[i]!.output as { pid: string; value: number };
      expect(results[i]!.status).toBe('DELIVERED');
      expect(out.pid).toBe(pid);
      if (expected[pid] !== undefined) expect(out.value).toBe(expected[pid]);
    }
    expect(results[pids.length]!.output).toEqual({ vin: VIN });
    expect((results[pids.length + 1]!.output as { dtcCount: number }).dtcCount).toBe(0);
    // The poll went on meanwhile, with no timeout, no reconnect, no invalid frame.
    await until('two more poll cycles', () => s.counters.frames >= before.frames + 2);
    expect(s.counters.timeouts).toBe(before.timeouts);
    expect(s.counters.connects).toBe(before.connects);
    expect(s.counters.invalidFrames).toBe(before.invalidFrames);
    const live = await hub.app.inject({ url: `/wot/${encodeURIComponent(ID)}/properties/rpm`, headers: { authorization: hub.bearer } });
    expect(live.json()).toBe(d.rpm);
  });
});

describe('a vehicle that is offline', () => {
  let port: number;
  let sim2: VehicleSimulator | undefined;
  afterAll(() => sim2?.stop());

  it('holds a command until its session connects, then delivers it; one whose TTL ran out is never sent', async () => {
    port = await freePort();
    await registerVehicle(ID2, VIN2, { elm327: { host: '127.0.0.1', port, timeoutMs: 1500 }, pollSchedule: [{ pids: ['0D'], intervalMs: 200 }], dtcIntervalMs: 0 }, { clearDtcs: { 'hub:ttlSeconds': 1 } });
    const vin = await invoke(ID2, 'readVin');
    expect(vin.status).toBe(201);
    const clear = await invoke(ID2, 'clearDtcs', { confirm: true });
    expect(clear.status).toBe(201);
    // clearDtcs (TTL 1 s) expires while the car is away; readVin (TTL 300 s) keeps waiting.
    const expired = await until('clearDtcs EXPIRED', async () => {
      const s = await status(clear.location!);
      return s.status === 'EXPIRED' ? s : undefined;
    }, 5000);
    expect(expired.history.map((h) => h.status)).toEqual(['QUEUED', 'EXPIRED']);
    expect(expired.attempts).toBe(0);
    const waiting = await status(vin.location!);
    expect(waiting.status).toBe('QUEUED');
    expect(waiting.history).toHaveLength(1);
    expect(session(ID2)?.ready).toBe(false);

    let now2 = T0;
    sim2 = await startVehicleSimulator({ port, vin: VIN2, gpsPort: -1, now: () => now2, dtcAfterMs: 20_000 });
    now2 = T0 + 25_000; // P0133 stored
    const delivered = await until('readVin DELIVERED after the car connected', async () => {
      const s = await status(vin.location!);
      return s.status === 'DELIVERED' ? s : undefined;
    }, 40_000);
    expect(delivered.output).toEqual({ vin: VIN2 });
    expect(delivered.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'DELIVERED']);
    // 0902 twice: the session's init, then the action; the expired clear never reached the car.
    expect(sim2.requests.get('0902')).toBe(2);
    expect(sim2.requests.get('04')).toBeUndefined();
    expect(sim2.clears).toBe(0);
    expect(sim2.state().dtcs).toEqual(['P0133']);
  }, 90_000);
});
