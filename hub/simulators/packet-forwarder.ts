// A simulated LoRaWAN gateway speaking the Semtech UDP packet-forwarder protocol (v2) to the hub: ABP devices send
// Cayenne LPP readings as real PHYPayloads (encrypted FRMPayload, valid MIC), the gateway wraps them in PUSH_DATA rxpk
// and keeps a PULL_DATA keep-alive. For `npm run demo`, tests and benchmarks.
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { encodeUplink, type SessionKeys } from '../bindings/lorawan/uplink.ts';
import type { SimulatedDevice } from './formats.ts';
import { cayenneLpp, prng, SimulatedSensor } from './sensor.ts';

export interface AbpDevice extends SimulatedDevice {
  keys: SessionKeys;
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
}

export interface RunningGateway {
  readonly stats: { pushed: number; pushAcks: number; pullAcks: number };
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

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const socket: Socket = createSocket(options.host.includes(':') ? 'udp6' : 'udp4');
  const stats = { pushed: 0, pushAcks: 0, pullAcks: 0 };
  socket.on('message', (msg) => {
    if (msg.length >= 4 && msg[3] === 0x01) stats.pushAcks += 1;
    if (msg.length >= 4 && msg[3] === 0x04) stats.pullAcks += 1;
  });
  await new Promise<void>((resolve) => socket.bind(0, options.host.includes(':') ? '::1' : '127.0.0.1', () => resolve()));
  const send = (buf: Buffer) => socket.send(buf, options.port, options.host);
  const pull = () => send(header(0x02, options.gatewayEui).head);
  pull();
  const keepAlive = setInterval(pull, 10_000);
  const sensors = options.devices.map((_, i) => new SimulatedSensor((options.seed ?? 3) * 104729 + i));
  const fCnt = options.devices.map(() => 0);
  const random = prng(options.seed ?? 3);
  let next = 0;
  const started = performance.now();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
    while (stats.pushed < due) {
      const i = next++ % options.devices.length;
      const dev = options.devices[i]!;
      fCnt[i] = fCnt[i]! + 1;
      const phy = encodeUplink({ devAddr: dev.devAddr, fCnt: fCnt[i]!, fPort: options.fPort ?? 2, payload: cayenneLpp(sensors[i]!.read(Date.now())), keys: dev.keys });
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
      send(Buffer.concat([header(0x00, options.gatewayEui).head, Buffer.from(JSON.stringify({ rxpk: [rxpk] }))]));
      stats.pushed += 1;
    }
  }, 20);
  return {
    stats,
    async stop() {
      clearInterval(timer);
      clearInterval(keepAlive);
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}
