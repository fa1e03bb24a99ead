// A simulated LoRaWAN gateway speaking the Semtech UDP packet-forwarder protocol (v2) to the hub: ABP devices send
// Cayenne LPP readings as real PHYPayloads (encrypted FRMPayload, valid MIC), the gateway wraps them in PUSH_DATA rxpk
// and keeps a PULL_DATA keep-alive; it answers PULL_RESP with TX_ACK, and its devices open the downlinks and join-accepts
// they receive (OTAA devices join first). For `npm run demo`, tests and benchmarks.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { openDownlink } from '../bindings/lorawan/downlink.ts';
import { encodeJoinRequest, openJoinAccept } from '../bindings/lorawan/join.ts';
import { encodeUplink, type SessionKeys } from '../bindings/lorawan/uplink.ts';
import type { SimulatedDevice } from './formats.ts';
import { cayenneLpp, prng, SimulatedSensor } from './sensor.ts';

export interface AbpDevice extends SimulatedDevice {
  keys: SessionKeys;
}

/** An OTAA device: joins with its AppKey, then sends like an ABP device with the derived session keys. */
export interface OtaaDevice extends SimulatedDevice {
  joinEui: string;
  appKey: Uint8Array;
}

/** A downlink a simulated device opened (MIC verified with its keys, FRMPayload decrypted). */
export interface ReceivedDownlink {
  devEui: string;
  kind: 'data' | 'join-accept';
  fCnt?: number;
  fPort?: number;
  /** Decrypted FRMPayload, hex. */
  payloadHex?: string;
  confirmed?: boolean;
  ack?: boolean;
  fPending?: boolean;
  txpk: Record<string, unknown>;
  /** ms from the PUSH_DATA of the device's last uplink / join-request to this PULL_RESP. */
  latencyMs: number;
  /** The rxpk tmst of that uplink / join-request (the txpk's tmst is this plus the receive delay). */
  uplinkTmst: number;
  /** TX_ACK error the gateway answered (NONE when it took it). */
  txAckError: string;
}

export interface GatewayOptions {
  host: string;
  port: number;
  /** Gateway EUI, 16 hex digits. */
  gatewayEui: string;
  devices: AbpDevice[];
  /** Uplinks per second over all devices. */
  rate: number;
  fPort?: number;
  seed?: number;
  /** OTAA devices; they send nothing on the timer until joined (join() sends their join-request). */
  otaa?: OtaaDevice[];
  /** TX_ACK error answered to a PULL_RESP (default NONE); e.g. () => 'TOO_LATE'. */
  txAckError?: (txpk: Record<string, unknown>) => string;
}

export interface RunningGateway {
  readonly stats: { pushed: number; pushAcks: number; pullAcks: number; pullResps: number; txAcks: number; undecodable: number };
  /** Downlinks and join-accepts the devices opened, in arrival order. */
  readonly downlinks: ReceivedDownlink[];
  /** One uplink of a device (ABP, or OTAA once joined) now; the ACK bit is set when a confirmed downlink awaits it. */
  uplink(devEui: string, options?: { payload?: Uint8Array; fPort?: number; confirmed?: boolean; /** overrides the ACK bit (false: a device that missed the downlink) */ ack?: boolean }): number;
  /** An OTAA device's join-request (a fresh DevNonce unless one is given); returns the DevNonce. */
  join(devEui: string, devNonce?: string): string;
  /** A PULL_DATA now (the keep-alive runs every 10 s; a restarted server learns the gateway's address from it). */
  pull(): void;
  /** A device's session as the device sees it (undefined: OTAA not joined). */
  session(devEui: string): { devAddr: string; keys: SessionKeys; fCnt: number } | undefined;
  stop(): Promise<void>;
}

/** Session keys derived from the device's EUI (deterministic, for simulations only). */
export function simulatedKeys(devEui: string): SessionKeys {
  const seed = Buffer.from(devEui.padStart(16, '0'), 'hex');
  return { nwkSKey: Buffer.concat([seed, Buffer.from('4e574b534b455921', 'hex')]), appSKey: Buffer.concat([seed, Buffer.from('415050534b455921', 'hex')]) };
}

function header(type: number, gatewayEui: string): { head: Buffer; token: number } {
  const token = randomBytes(2).readUInt16BE(0);
  const head = Buffer.alloc(12);
  head[0] = 2;
  head.writeUInt16BE(token, 1);
  head[3] = type;
  Buffer.from(gatewayEui, 'hex').copy(head, 4);
  return { head, token };
}

interface DeviceState {
  devEui: string;
  devAddr?: string;
  keys?: SessionKeys;
  fCnt: number;
  lastFCntDown?: number;
  ackNext: boolean;
  lastPushAt: number;
  lastTmst?: number;
  otaa?: OtaaDevice;
  devNonce?: string;
}

function rxpkOf(phy: Buffer, random: () => number): Record<string, unknown> {
  return {
    time: new Date().toISOString(),
    tmst: Math.floor(performance.now() * 1000) >>> 0,
    chan: 0,
    rfch: 0,
    freq: 868.1,
    stat: 1,
    modu: 'LORA',
    datr: 'SF7BW125',
    codr: '4/5',
    rssi: -50 - Math.round(random() * 60),
    lsnr: Math.round((random() * 18 - 6) * 10) / 10,
    size: phy.length,
    data: phy.toString('base64'),
  };
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const socket: Socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  const stats = { pushed: 0, pushAcks: 0, pullAcks: 0, pullResps: 0, txAcks: 0, undecodable: 0 };
  const downlinks: ReceivedDownlink[] = [];
  const states = new Map<string, DeviceState>();
  for (const d of options.devices) states.set(d.devEui.toUpperCase(), { devEui: d.devEui.toUpperCase(), devAddr: d.devAddr, keys: d.keys, fCnt: 0, ackNext: false, lastPushAt: 0 });
  for (const d of options.otaa ?? []) states.set(d.devEui.toUpperCase(), { devEui: d.devEui.toUpperCase(), fCnt: 0, ackNext: false, lastPushAt: 0, otaa: d });
  const send = (buf: Buffer) => socket.send(buf, options.port, options.host);
  const onPullResp = (msg: Buffer) => {
    stats.pullResps += 1;
    let txpk: Record<string, unknown> = {};
    try {
      txpk = (JSON.parse(msg.subarray(4).toString('utf8')) as { txpk?: Record<string, unknown> }).txpk ?? {};
    } catch {
      // answered below with an error like a real forwarder would
    }
    const error = typeof txpk.data === 'string' ? (options.txAckError?.(txpk) ?? 'NONE') : 'TX_FREQ';
    // TX_ACK (protocol 2): the PULL_RESP's token, the gateway EUI, {"txpk_ack":{"error":...}}.
    const ack = Buffer.concat([Buffer.from([2, msg[1]!, msg[2]!, 0x05]), Buffer.from(options.gatewayEui, 'hex'), Buffer.from(JSON.stringify({ txpk_ack: { error } }))]);
    send(ack);
    stats.txAcks += 1;
    if (typeof txpk.data !== 'string' || error !== 'NONE') return;
    const phy = Buffer.from(txpk.data, 'base64');
    const now = performance.now();
    if (phy[0]! >> 5 === 1) {
      for (const st of states.values()) {
        if (!st.otaa || !st.devNonce) continue;
        try {
          const ja = openJoinAccept(phy, st.otaa.appKey, st.devNonce);
          st.devAddr = ja.devAddr.toString(16).toUpperCase().padStart(8, '0');
          st.keys = ja.keys;
          st.fCnt = 0;
          st.lastFCntDown = undefined;
          st.devNonce = undefined;
          downlinks.push({ devEui: st.devEui, kind: 'join-accept', txpk, latencyMs: now - st.lastPushAt, uplinkTmst: st.lastTmst ?? 0, txAckError: error });
          return;
        } catch {
          // not this device's
        }
      }
      stats.undecodable += 1;
      return;
    }
    for (const st of states.values()) {
      if (!st.keys || !st.devAddr) continue;
      if (phy.length < 5 || phy.readUInt32LE(1) !== (Number.parseInt(st.devAddr, 16) >>> 0)) continue;
      try {
        const opened = openDownlink(phy, st.keys, st.lastFCntDown);
        st.lastFCntDown = opened.fCnt;
        if (opened.frame.confirmed) st.ackNext = true;
        downlinks.push({
          devEui: st.devEui,
          kind: 'data',
          fCnt: opened.fCnt,
          ...(opened.frame.fPort !== undefined ? { fPort: opened.frame.fPort, payloadHex: opened.payload.toString('hex') } : {}),
          confirmed: opened.frame.confirmed,
          ack: opened.frame.fCtrl.ack,
          fPending: opened.frame.fCtrl.classBOrFPending,
          txpk,
          latencyMs: now - st.lastPushAt,
          uplinkTmst: st.lastTmst ?? 0,
          txAckError: error,
        });
        return;
      } catch {
        // another device with this DevAddr, or a bad frame
      }
    }
    stats.undecodable += 1;
  };
  socket.on('message', (msg) => {
    if (msg.length >= 4 && msg[3] === 0x01) stats.pushAcks += 1;
    if (msg.length >= 4 && msg[3] === 0x04) stats.pullAcks += 1;
    if (msg.length >= 4 && msg[3] === 0x03) onPullResp(msg);
  });
  await new Promise<void>((resolve) => socket.bind(0, options.host.includes(':') ? '::1' : '127.0.0.1', () => resolve()));
  const pull = () => send(header(0x02, options.gatewayEui).head);
  pull();
  const keepAlive = setInterval(pull, 10_000);
  const sensors = options.devices.map((_, i) => new SimulatedSensor((options.seed ?? 3) * 104729 + i));
  const fCnt = options.devices.map(() => 0);
  const random = prng(options.seed ?? 3);
  let next = 0;
  const started = performance.now();
  const push = (st: DeviceState, phy: Buffer) => {
    st.lastPushAt = performance.now();
    const rxpk = rxpkOf(phy, random);
    st.lastTmst = rxpk.tmst as number;
    send(Buffer.concat([header(0x00, options.gatewayEui).head, Buffer.from(JSON.stringify({ rxpk: [rxpk] }))]));
    stats.pushed += 1;
  };
  const stateOf = (devEui: string): DeviceState => {
    const st = states.get(devEui.toUpperCase());
    if (!st) throw new Error(`no simulated device ${devEui}`);
    return st;
  };
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
    while (options.devices.length > 0 && stats.pushed < due) {
      const i = next++ % options.devices.length;
      const dev = options.devices[i]!;
      const st = states.get(dev.devEui.toUpperCase())!;
      fCnt[i] = fCnt[i]! + 1;
      st.fCnt = fCnt[i]!;
      const phy = encodeUplink({ devAddr: dev.devAddr, fCnt: fCnt[i]!, fPort: options.fPort ?? 2, payload: cayenneLpp(sensors[i]!.read(Date.now())), keys: dev.keys, ack: st.ackNext });
      st.ackNext = false;
      st.lastPushAt = performance.now();
      const rxpk = {
        time: new Date().toISOString(),
        tmst: Math.floor(performance.now() * 1000) >>> 0,
        chan: 0,
        rfch: 0,
        freq: 868.1,
        stat: 1,
        modu: 'LORA',
        datr: 'SF7BW125',
        codr: '4/5',
        rssi: -50 - Math.round(random() * 60),
        lsnr: Math.round((random() * 18 - 6) * 10) / 10,
        size: phy.length,
        data: phy.toString('base64'),
      };
      st.lastTmst = rxpk.tmst;
      send(Buffer.concat([header(0x00, options.gatewayEui).head, Buffer.from(JSON.stringify({ rxpk: [rxpk] }))]));
      stats.pushed += 1;
    }
  }, 20);
  return {
    stats,
    downlinks,
    uplink(devEui, o = {}) {
      const st = stateOf(devEui);
      if (!st.keys || !st.devAddr) throw new Error(`${devEui} has not joined`);
      const ai = options.devices.findIndex((d) => d.devEui.toUpperCase() === st.devEui);
      st.fCnt = ai >= 0 ? (fCnt[ai] = fCnt[ai]! + 1) : st.fCnt + 1;
      const payload = o.payload ?? cayenneLpp((sensors[ai] ?? new SimulatedSensor(st.fCnt)).read(Date.now()));
      const phy = encodeUplink({ devAddr: st.devAddr, fCnt: st.fCnt, fPort: o.fPort ?? options.fPort ?? 2, payload, keys: st.keys, confirmed: o.confirmed, ack: o.ack ?? st.ackNext });
      st.ackNext = false;
      push(st, phy);
      return st.fCnt;
    },
    join(devEui, devNonce) {
      const st = stateOf(devEui);
      if (!st.otaa) throw new Error(`${devEui} is not an OTAA device`);
      st.devNonce = devNonce ?? randomBytes(2).toString('hex').toUpperCase();
      push(st, encodeJoinRequest({ joinEui: st.otaa.joinEui, devEui: st.devEui, devNonce: st.devNonce, appKey: st.otaa.appKey }));
      return st.devNonce;
    },
    pull,
    session(devEui) {
      const st = stateOf(devEui);
      return st.keys && st.devAddr ? { devAddr: st.devAddr, keys: st.keys, fCnt: st.fCnt } : undefined;
    },
    async stop() {
      clearInterval(timer);
      clearInterval(keepAlive);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
