// Drives a simulated fleet: each device sends Cayenne LPP readings through a network server format (TTS, ChirpStack,
// Sigfox) over MQTT or the hub's webhooks, at a configurable total rate. Used by `npm run demo`, tests and benchmarks.
import mqtt, { type MqttClient } from 'mqtt';
import { chirpstackUplink, fleet, sigfoxCallback, ttsUplink, type SimulatedDevice, type SimulatedUplink } from './formats.ts';
import { cayenneLpp, prng, SimulatedSensor } from './sensor.ts';

export type SimulatedNetwork = 'tts' | 'chirpstack' | 'sigfox';

export interface FleetOptions {
  network: SimulatedNetwork;
  /** 'mqtt' (TTS, ChirpStack topics) or 'http' (the hub's webhook routes). Sigfox is HTTP only. */
  transport: 'mqtt' | 'http';
  devices: SimulatedDevice[] | number;
  /** Messages per second over the whole fleet. */
  rate: number;
  /** Stop after this many messages in total (default: run until stop()). */
  limit?: number;
  mqttUrl?: string;
  /** The hub's base URL, for webhooks. */
  hubUrl?: string;
  /** A token with the write scope: the MQTT password (username `username`) and the webhooks' bearer token. */
  token: string;
  username?: string;
  /** TTS application id / ChirpStack application id in topics. */
  application?: string;
  tenant?: string;
  fPort?: number;
  seed?: number;
  onError?: (error: Error) => void;
}

export interface FleetStats {
  sent: number;
  acked: number;
  failed: number;
}

export interface RunningFleet {
  readonly devices: SimulatedDevice[];
  readonly stats: FleetStats;
  /** Resolves when `limit` messages were sent and acknowledged (or failed). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/** The MQTT topic a network server publishes a device's uplink on. */
export function uplinkTopic(network: 'tts' | 'chirpstack', dev: SimulatedDevice, application: string, tenant = 'hub'): string {
  return network === 'tts' ? `v3/${application}@${tenant}/devices/${dev.name}/up` : `application/${application}/device/${dev.devEui.toLowerCase()}/event/up`;
}

/** The hub's webhook path for a network. */
export function webhookPath(network: SimulatedNetwork): string {
  return network === 'tts' ? '/bindings/tts/uplink' : network === 'chirpstack' ? '/bindings/chirpstack/uplink?event=up' : '/bindings/sigfox/callback';
}

export async function startFleet(options: FleetOptions): Promise<RunningFleet> {
  const devices = typeof options.devices === 'number' ? fleet(options.devices) : options.devices;
  if (devices.length === 0) throw new Error('a fleet needs at least one device');
  if (options.network === 'sigfox' && options.transport === 'mqtt') throw new Error('Sigfox callbacks are HTTP only');
  const application = options.application ?? (options.network === 'chirpstack' ? '00000000-0000-4000-8000-000000000001' : 'hub-demo');
  const sensors = devices.map((_, i) => new SimulatedSensor((options.seed ?? 1) * 7919 + i));
  const fCnt = devices.map(() => 0);
  const random = prng(options.seed ?? 1);
  const stats: FleetStats = { sent: 0, acked: 0, failed: 0 };
  let client: MqttClient | undefined;
  if (options.transport === 'mqtt') {
    if (!options.mqttUrl) throw new Error('mqttUrl is required for the MQTT transport');
    client = await mqtt.connectAsync(options.mqttUrl, {
      username: options.username ?? 'simulator',
      password: options.token,
      clientId: `hub-sim-${options.network}-${process.pid}-${Math.floor(random() * 1e9)}`,
      reconnectPeriod: 1000,
      connectTimeout: 5000,
    });
  } else if (!options.hubUrl) throw new Error('hubUrl is required for webhooks');

  let next = 0;
  let stopped = false;
  let inFlight = 0;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const finished = () => options.limit !== undefined && stats.acked + stats.failed >= options.limit;

  const sendOne = async (): Promise<void> => {
    const i = next++ % devices.length;
    const dev = devices[i]!;
    fCnt[i] = (fCnt[i]! + 1) >>> 0;
    const at = Date.now();
    const up: SimulatedUplink = {
      fCnt: fCnt[i]!,
      fPort: options.fPort ?? 2,
      payload: cayenneLpp(sensors[i]!.read(at)),
      at,
      gateways: [{ eui: '00800000A0000001', rssi: -60 - Math.round(random() * 50), snr: Math.round((random() * 20 - 5) * 10) / 10 }],
    };
    const body = options.network === 'tts' ? ttsUplink(dev, up, application) : options.network === 'chirpstack' ? chirpstackUplink(dev, up, application) : sigfoxCallback(dev, up);
    stats.sent += 1;
    inFlight += 1;
    try {
      if (client) {
        await client.publishAsync(uplinkTopic(options.network as 'tts' | 'chirpstack', dev, application, options.tenant), JSON.stringify(body), { qos: 1 });
      } else {
        const res = await fetch(`${options.hubUrl}${webhookPath(options.network)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${options.token}` },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`webhook answered ${res.status}`);
      }
      stats.acked += 1;
    } catch (e) {
      stats.failed += 1;
      options.onError?.(e as Error);
    } finally {
      inFlight -= 1;
      if (finished()) resolveDone();
    }
  };

  // Paced by elapsed time: every tick sends what the rate allows since the start (bounded in-flight, so a slow hub
  // slows the simulator instead of piling up requests).
  const started = performance.now();
  const maxInFlight = Math.max(64, Math.ceil(options.rate / 10));
  const timer = setInterval(() => {
    if (stopped) return;
    const due = Math.floor(((performance.now() - started) / 1000) * options.rate);
    while (stats.sent < due && inFlight < maxInFlight && (options.limit === undefined || stats.sent < options.limit)) void sendOne();
  }, 20);
  timer.unref?.();

  return {
    devices,
    stats,
    done,
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      for (let t0 = Date.now(); inFlight > 0 && Date.now() - t0 < 5000; ) await new Promise((r) => setTimeout(r, 20));
      if (client) await client.endAsync(true).catch(() => undefined);
      resolveDone();
    },
  };
}
