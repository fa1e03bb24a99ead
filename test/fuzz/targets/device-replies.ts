// Fuzz target: what devices answer to the hub's OSC and Cookie commands (echo / ack / err matchers) and the action inputs those commands are built from.
import { toBuffer } from 'osc-min';
import { encodeCookieConfig, parseCookieReply } from '../../../hub/bindings/cookie/downlink.ts';
import { DEVICE_ID, decodeSerial } from '../../../hub/bindings/cookie/codec.ts';
import { echoOf, encodeOscAction, oscDatagram, parseHostPort, type OscOut } from '../../../hub/bindings/osc/downlink.ts';
import { decodeOscPacket } from '../../../hub/bindings/osc/packet.ts';
import { HubError } from '../../../hub/errors.ts';
import { answerConfig } from '../../../hub/simulators/cookie-road.ts';
import { enc } from '../corpus.ts';
import { OracleError, text, type FuzzTarget } from '../target.ts';

const SENT: OscOut[] = [
  { address: '/rate/sensors', args: [{ type: 'float', value: 50 }] },
  { address: '/identify', args: [] },
  { address: '/name', args: [{ type: 'string', value: 'NGIMU' }] },
];
const ROUTES = [
  { deviceKey: 'road-a/2', deviceDefinitions: { networkDefinitions: { sensorId: 2 } } },
  { deviceKey: 'road-a/3', deviceDefinitions: {} },
  { deviceKey: 'road-a', deviceDefinitions: { cookieConfigType: 'bt-config' } },
];
const view = (v: DataView) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
const typed = (f: () => unknown): unknown => {
  try {
    return f();
  } catch (e) {
    if (e instanceof HubError) return undefined;
    throw e;
  }
};

export const deviceRepliesTarget: FuzzTarget = {
  name: 'device-replies',
  description: 'Cookie ack/err lines -> parseCookieReply (header, seq, text bounds); OSC datagrams -> decodeOscPacket -> echoOf; JSON action inputs -> encodeOscAction / encodeCookieConfig (the set line reads back as its input)',
  tokens: [':ack:', ':err:', ':set:', '#', '\\:', '\\{', '\\}', '\\\\', '\\0', '{', '}', 'bt-config', 'radar-config', '/rate/', ',f\0\0', ',s\0\0', '"txPower"', '"euler"', '1e308', '-0', 'NaN'],
  seeds() {
    return [
      enc('road-a:2:bt-config:ack:17#5.12::-4'),
      enc('road-a:3:radar-config:err:9#noise\\: too high'),
      enc('road-a:2:bt-config:ack:4#\u0000'),
      enc('road-a:2:bt-config:set:4#1:2:3:4'),
      ...SENT.map((m) => new Uint8Array(oscDatagram(m))),
      view(toBuffer({ timetag: [3900000000, 1], elements: [{ address: '/rate/sensors', args: [{ type: 'float', value: 49.99999 }] }, { address: '/identify', args: [] }] })),
      enc(JSON.stringify({ sensors: 50, euler: 0 })),
      enc(JSON.stringify({ inquiryWindow: 5.12, txPower: -4 })),
      enc(JSON.stringify({ vehicleDirection: 'exiting', noiseThreshold: 20, ledNotification: true })),
    ];
  },
  run(input) {
    // Cookie: a reply names a well-formed command, its text bounded; answering never throws
    const r = parseCookieReply(input);
    if (r) {
      if (!DEVICE_ID.test(r.device) || !Number.isInteger(r.seq) || r.seq < 0 || r.seq > 0xffff_ffff || !Number.isInteger(r.sensor) || r.sensor < 1) throw new OracleError(`reply header ${JSON.stringify(r).slice(0, 120)}`);
      if ((r.error?.length ?? 0) > 512) throw new OracleError('err text over 512 characters');
      if ((r.action === 'err') !== (r.error !== undefined)) throw new OracleError('error text without err (or err without text)');
    }
    const s = text(input);
    const answer = answerConfig(s, new Set(['road-a']), new Map());
    if (answer !== undefined && !parseCookieReply(answer)) throw new OracleError(`the simulator's answer '${answer.slice(0, 80)}' is no reply`);
    // OSC: an echo matches only its own address
    const messages = typed(() => decodeOscPacket(input)) as ReturnType<typeof decodeOscPacket> | undefined;
    for (const m of messages ?? []) for (const sent of SENT) if (echoOf(sent, m) && m.address !== sent.address) throw new OracleError(`${m.address} taken for the echo of ${sent.address}`);
    parseHostPort(s);
    // Action inputs (JSON as a client posts them)
    let value: unknown;
    try {
      value = JSON.parse(s);
    } catch {
      return;
    }
    for (const action of ['setSendRates', 'setName', 'identify']) {
      const out = typed(() => encodeOscAction(action, value)) as OscOut[] | undefined;
      for (const m of out ?? []) {
        const back = decodeOscPacket(oscDatagram(m));
        if (back.length !== 1 || echoOf(m, back[0]!) !== 'same') throw new OracleError(`${m.address} does not read back as itself`);
      }
    }
    for (const route of ROUTES) {
      const set = typed(() => encodeCookieConfig('configure', value, route, 7)) as ReturnType<typeof encodeCookieConfig> | undefined;
      if (!set) continue;
      const back = decodeSerial(set.line);
      if (back.sensor === '*' || back.action !== 'set' || back.seq !== 7 || back.type !== set.type) throw new OracleError(`set line '${set.line.slice(0, 80)}' reads back wrong`);
      for (const [k, v] of Object.entries(back.payload)) if (JSON.stringify(v) !== JSON.stringify((value as Record<string, unknown>)[k])) throw new OracleError(`${k} read back as ${JSON.stringify(v)}`);
    }
  },
};
