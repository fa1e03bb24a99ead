// The UR-style robot over loopback TCP: the simulator's URScript parser and reports, and ur-robot actions through the downlink queue (urscript push adapter): SENT -> ACCEPTED -> DELIVERED on the robot's done report, FAILED on its refusal, 400 before queueing on out-of-range input; its state reports as the Thing's live values.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commandOf, parseUrScript, toUrScript } from '../../hub/bindings/urscript/script.ts';
import { forward, inverse, startRobot, type RunningRobot } from '../../hub/simulators/robot.ts';
import { startTestHub, type TestHub } from '../helpers/hub.ts';

const ROBOT = 'urn:dev:robot:ur5';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A raw TCP peer: sends lines, collects the robot's JSON reports. */
async function rawClient(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
  const reports: Array<Record<string, unknown>> = [];
  let buf = '';
  socket.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (let nl; (nl = buf.indexOf('\n')) >= 0; buf = buf.slice(nl + 1)) reports.push(JSON.parse(buf.slice(0, nl)));
  });
  return { socket, reports, send: (s: string) => socket.write(s) };
}

describe('URScript lines', () => {
  it('are built from range-checked numbers only and read back to the same command', () => {
    const c = commandOf('movej', { joints: [0, -1.5708, 1.5708, 0, 1.5708, 1e-12], velocity: 0.5 });
    const line = toUrScript(c);
    expect(line).toBe('movej([0,-1.5708,1.5708,0,1.5708,0],a=1.4,v=0.5)');
    expect(parseUrScript(line)).toEqual({ kind: 'movej', q: [0, -1.5708, 1.5708, 0, 1.5708, 0], a: 1.4, v: 0.5 });
    expect(parseUrScript('servoj([0,0,0,0,0,0], 0, 0, 0.004, 0.1, 300)')).toEqual({ kind: 'servoj', q: [0, 0, 0, 0, 0, 0], t: 0.004, lookahead: 0.1, gain: 300 });
    expect(() => commandOf('movej', { joints: [0, 0, 0, 0, 0, 'x'] })).toThrow(/out of range/);
    expect(() => commandOf('movel', { pose: [0, 0, 9, 0, 0, 0] })).toThrow(/out of range/);
    expect(() => commandOf('popup', {})).toThrow(/not a URScript command/);
    for (const bad of ['movej([0,0,0,0,0,0]);popup("x")', 'def f():', 'movej([0,0,0,0,0,0],a=1e999)', 'movel([0.3,0,0.4,0,0,0])', `movej([${'0,'.repeat(600)}0])`]) {
      expect(() => parseUrScript(bad), bad).toThrow();
    }
  });

  it('the simplified kinematics are consistent (inverse(forward(q)) = q for an elbow-up pose)', () => {
    const q = [0.3, 0.4, -0.9, 0.1, 0.2, 0.3];
    const back = inverse(forward(q))!;
    back.forEach((x, i) => expect(x).toBeCloseTo(q[i]!, 9));
    expect(inverse([2, 0, 0.1, 0, 0, 0])).toBeUndefined();
  });
});

describe('robot simulator and ur-robot Thing', () => {
  let robot: RunningRobot;
  let hub: TestHub;

  beforeAll(async () => {
    robot = await startRobot({ port: 0, stateHz: 20 });
    hub = await startTestHub();
    const reg = await hub.app.inject({
      method: 'POST', url: '/thing-models/ur-robot/instantiate?register=true', headers: { authorization: hub.bearer },
      payload: { id: ROBOT, placeholders: { TITLE: 'UR5 (simulated)', ADAPTER_ID: 'urn:wot-hub:adapter:urscript', ROBOT_ADDRESS: `127.0.0.1:${robot.port}`, DOMAIN: 'lab' } },
    });
    expect(reg.statusCode, reg.body).toBe(201);
  });
  afterAll(async () => {
    await hub?.stop();
    await robot?.stop();
  });

  it('reports ack, done, superseded and errors per line; a line over 1 KiB is refused and dropped', async () => {
    const c = await rawClient(robot.port);
    try {
      // movej and servoj in one write: the servoj must arrive while the movej still runs (two writes raced its done).
      c.send('# a comment\n\nmovej([0,-1.2,1.2,0,1.5708,0],a=2,v=3)\nservoj([0,-1.1,1.1,0,1.5708,0],t=0.05)\n');
      c.send('system("halt")\n');
      c.send(`${'x'.repeat(2000)}\nstopj(2)\n`);
      const hasState = () => c.reports.some((r) => r.type === 'state' && Array.isArray(r.q) && (r.q as number[]).length === 6);
      for (const end = Date.now() + 3000; (c.reports.filter((r) => r.type !== 'state').length < 7 || !hasState()) && Date.now() < end; ) await sleep(20);
      const reports = c.reports.filter((r) => r.type !== 'state');
      expect(reports.slice(0, 3)).toEqual([{ type: 'ack', seq: 1, command: 'movej' }, { type: 'superseded', seq: 1, by: 2 }, { type: 'ack', seq: 2, command: 'servoj' }]);
      expect(reports).toContainEqual({ type: 'error', seq: 3, message: expect.stringMatching(/unknown function system|number expected/) });
      expect(reports).toContainEqual({ type: 'error', seq: 4, message: expect.stringMatching(/longer than 1024/) });
      expect(reports).toContainEqual({ type: 'ack', seq: 5, command: 'stopj' });
      expect(hasState()).toBe(true);
    } finally {
      c.socket.destroy();
    }
  });

  it('movej through the queue: the robot receives the line; SENT -> ACCEPTED -> DELIVERED with its evidence; the joints follow', async () => {
    const target = [0.5, -1.0, 1.2, -0.3, 1.5708, 0.25];
    const res = await hub.app.inject({ method: 'POST', url: `/wot/${encodeURIComponent(ROBOT)}/actions/movej`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { joints: target, velocity: 3, acceleration: 20 } });
    expect(res.statusCode, res.body).toBe(201);
    const uuid = String(res.json().id).slice('urn:uuid:'.length);
    const cmd = () => hub.downlink.service.get(ROBOT, uuid);
    for (const end = Date.now() + 5000; cmd().status !== 'DELIVERED' && Date.now() < end; ) await sleep(20);
    expect(cmd().history.map((h) => h.status)).toEqual(['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED']);
    expect(cmd().history[1]!.evidence).toContain('movej([0.5,-1,1.2,-0.3,1.5708,0.25],a=20,v=3)');
    expect(cmd().history[3]!.evidence).toMatch(/motion done at q=\[0\.5,-1,1\.2,-0\.3,1\.5708,0\.25\]/);
    expect(robot.received.at(-1)!.line).toBe('movej([0.5,-1,1.2,-0.3,1.5708,0.25],a=20,v=3)');
    robot.joints().forEach((x, i) => expect(x).toBeCloseTo(target[i]!, 6));
    // the 20 Hz state reports are the Thing's live values
    for (const end = Date.now() + 2000; !(hub.liveState.property(ROBOT, 'moving') === false && (hub.liveState.property(ROBOT, 'joints') as number[] | undefined)?.[0] === 0.5) && Date.now() < end; ) await sleep(20);
    const joints = await hub.app.inject({ url: `/wot/${encodeURIComponent(ROBOT)}/properties/joints`, headers: { authorization: hub.bearer } });
    expect(joints.json()).toEqual(target);
  });

  it('an input out of range is a 400 naming the member before anything is queued; an unreachable pose is FAILED by the robot', async () => {
    const bad = await hub.app.inject({ method: 'POST', url: `/wot/${encodeURIComponent(ROBOT)}/actions/movej`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { joints: [0, 0, 0, 0, 0, 99] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('/joints/5');
    const before = robot.stats.lines;
    const far = await hub.app.inject({ method: 'POST', url: `/wot/${encodeURIComponent(ROBOT)}/actions/movel`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { pose: [1.4, 0, 1.2, 0, 3.14, 0] } });
    expect(far.statusCode, far.body).toBe(201);
    const uuid = String(far.json().id).slice('urn:uuid:'.length);
    const cmd = () => hub.downlink.service.get(ROBOT, uuid);
    for (const end = Date.now() + 5000; cmd().status === 'QUEUED' || cmd().status === 'SENT'; ) if (Date.now() > end) break; else await sleep(20);
    expect(cmd().status).toBe('FAILED');
    expect(cmd().history.at(-1)!.evidence).toMatch(/robot refused line \d+: pose .* out of reach/);
    expect(robot.stats.lines).toBe(before + 1);
  });
});

describe('robot connection kept from registration', () => {
  let hub: TestHub;
  let robot: RunningRobot | undefined;
  const ID = 'urn:dev:robot:kept';
  const until = async (what: string, ok: () => boolean, ms = 8000) => {
    for (const end = Date.now() + ms; !ok(); await sleep(20)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    hub = await startTestHub();
  });
  afterAll(async () => {
    await hub?.stop();
    await robot?.stop();
  });

  it('connects at registration (state before any command), reconnects after the robot restarts, closes when the Thing is deleted', async () => {
    robot = await startRobot({ port: 0, stateHz: 20, q: [0.1, -1, 1, 0, 1.5708, 0] });
    const port = robot.port;
    const reg = await hub.app.inject({
      method: 'POST', url: '/thing-models/ur-robot/instantiate?register=true', headers: { authorization: hub.bearer },
      payload: { id: ID, placeholders: { TITLE: 'UR5 kept', ADAPTER_ID: 'urn:wot-hub:adapter:urscript', ROBOT_ADDRESS: `127.0.0.1:${port}`, DOMAIN: 'lab' } },
    });
    expect(reg.statusCode, reg.body).toBe(201);
    // No command was sent: the joints come from the state the robot streams on the kept connection.
    await until('live joints', () => (hub.liveState.property(ID, 'joints') as number[] | undefined)?.[0] === 0.1);
    expect(robot.stats.lines).toBe(0);
    expect(robot.stats.connections).toBe(1);
    expect(hub.robots.keptRobots).toEqual({ kept: 1, connected: 1 });

    // The robot goes away and comes back on the same port: the hub connects again (1 s, then 2 s, ... backoff).
    await robot.stop();
    await until('the connection closed', () => hub.robots.keptRobots.connected === 0);
    robot = await startRobot({ port, stateHz: 20, q: [0.2, -1, 1, 0, 1.5708, 0] });
    await until('reconnected', () => hub.robots.keptRobots.connected === 1 && (hub.liveState.property(ID, 'joints') as number[] | undefined)?.[0] === 0.2);
    expect(hub.robots.counters.connects).toBeGreaterThanOrEqual(2);
    const res = await hub.app.inject({ method: 'POST', url: `/wot/${encodeURIComponent(ID)}/actions/movej`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { joints: [0.3, -1, 1, 0, 1.5708, 0], velocity: 3, acceleration: 20 } });
    expect(res.statusCode, res.body).toBe(201);
    const uuid = String(res.json().id).slice('urn:uuid:'.length);
    await until('DELIVERED', () => hub.downlink.service.get(ID, uuid).status === 'DELIVERED');
    expect(robot.stats.connections).toBe(1); // the command went over the kept connection

    const del = await hub.app.inject({ method: 'DELETE', url: `/things/${encodeURIComponent(ID)}`, headers: { authorization: hub.bearer } });
    expect(del.statusCode).toBe(204);
    await until('closed after delete', () => hub.robots.keptRobots.kept === 0 && hub.robots.keptRobots.connected === 0);
    await sleep(1500); // no reconnect once the Thing is gone
    expect(robot.stats.connections).toBe(1);
  }, 30_000);
});
