// The robot loop benchmark's peers in their own process, as they are other machines in the fog paper: the simulated UR robot (URScript over TCP) and the 3D mouse sending /euler datagrams; both stamp with the shared monotonic clock, so the latency is measured here, not on the hub's event loop.
import { createSocket } from 'node:dgram';
import { toBuffer } from 'osc-min';
import { startRobot } from '../../hub/simulators/robot.ts';

/** Parent -> peer: send `hz` datagrams per second for `seconds` to the hub's OSC port, then report. */
export interface PeerRun {
  type: 'run';
  hz: number;
  seconds: number;
  oscPort: number;
}
/** Peer -> parent. */
export type PeerMessage =
  | { type: 'robot'; port: number }
  | {
      type: 'done';
      hz: number;
      sent: number;
      latenciesMs: number[];
      lateSends: number;
      /** Per datagram of the run, in send order: when it was sent (process.hrtime.bigint(), decimal). */
      sentNs: string[];
      /** Per movel at the robot, in arrival order: the index of its datagram in `sentNs` and when it arrived. */
      arrivals: Array<[index: number, atNs: string]>;
    };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const send = (m: PeerMessage) => process.send!(m);

/** Sequence numbers ride in the yaw (0.1 degree steps from -170): the rule's movel pose gives them back. */
const STEPS = 3400;
const yawOf = (seq: number) => -170 + seq * 0.1;

async function main(): Promise<void> {
  const sentAt = new Map<number, { at: bigint; index: number }>();
  let latencies: number[] = [];
  let sentNs: string[] = [];
  let arrivals: Array<[number, string]> = [];
  const robot = await startRobot({
    host: '127.0.0.1',
    port: 0,
    stateHz: 0,
    onCommand: (cmd, _line, at) => {
      if (cmd.kind !== 'movel') return;
      const yaw = (Math.atan2(cmd.pose[1]!, cmd.pose[0]!) * 180) / Math.PI;
      const seq = Math.round((yaw + 170) / 0.1);
      const t = sentAt.get(seq);
      if (t === undefined) return;
      latencies.push(Number(at - t.at) / 1e6);
      arrivals.push([t.index, String(at)]);
    },
  });
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  let seq = 0;
  process.on('message', async (m: PeerRun | { type: 'stop' }) => {
    if (m.type === 'stop') {
      sock.close();
      await robot.stop();
      process.exit(0);
    }
    latencies = [];
    sentNs = [];
    arrivals = [];
    const n = m.hz * m.seconds;
    let lateSends = 0;
    const start = performance.now();
    for (let k = 0; k < n; k++) {
      const due = start + (k * 1000) / m.hz;
      while (performance.now() < due) await sleep(Math.max(0, Math.min(1, due - performance.now())));
      if (performance.now() - due > 2) lateSends += 1;
      seq = (seq + 1) % STEPS;
      const v = toBuffer({ address: '/euler', args: [{ type: 'float', value: 0 }, { type: 'float', value: 0 }, { type: 'float', value: yawOf(seq) }] });
      const at = process.hrtime.bigint();
      sentAt.set(seq, { at, index: k });
      sentNs.push(String(at));
      sock.send(Buffer.from(v.buffer, v.byteOffset, v.byteLength), m.oscPort, '127.0.0.1');
    }
    await sleep(1000);
    send({ type: 'done', hz: m.hz, sent: n, latenciesMs: latencies, lateSends, sentNs, arrivals });
  });
  send({ type: 'robot', port: robot.port });
}

void main();
