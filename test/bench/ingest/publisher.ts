// One MQTT publisher process of the ingest benchmark: TTS v3 uplinks of a fixed size at a fixed rate, QoS 1.
// argv: JSON {url, username, password, devices: [{name, devEui, devAddr}], rate, seconds, bytes, application, tenant, seed}
// Prints one JSON line at the end: {sent, acked, failed, unacked, cpuMs, rssMb, pubackP50Ms, pubackP99Ms, complete}; also on
// SIGTERM and when the send deadline (seconds + 10 s) passes with messages still held back by the broker's flow control.
import mqtt from 'mqtt';
import { ttsUplink, type SimulatedDevice } from '../../../hub/simulators/formats.ts';
import { cayenneLpp, SimulatedSensor } from '../../../hub/simulators/sensor.ts';

const args = JSON.parse(process.argv[2] ?? '{}') as {
  url: string; username: string; password: string; devices: SimulatedDevice[]; rate: number; seconds: number; bytes: number;
  application: string; tenant: string; seed: number; startAt?: number;
};

/** A TTS uplink body padded to exactly `bytes` bytes (FLINT's 513-byte messages) with a correlation id of filler. */
export function sizedUplink(dev: SimulatedDevice, fCnt: number, at: number, sensor: SimulatedSensor, bytes: number, application: string): string {
  const body = ttsUplink(dev, { fCnt, fPort: 2, payload: cayenneLpp(sensor.read(at)), at, gateways: [{ eui: '00800000A0000001', rssi: -80, snr: 7.5 }] }, application);
  const base = JSON.stringify({ ...body, correlation_ids: [''] });
  const pad = Math.max(0, bytes - Buffer.byteLength(base));
  return JSON.stringify({ ...body, correlation_ids: ['x'.repeat(pad)] });
}

async function main(): Promise<void> {
  const client = await mqtt.connectAsync(args.url, { username: args.username, password: args.password, clientId: `bench-pub-${process.pid}`, reconnectPeriod: 500, connectTimeout: 10_000 });
  const sensors = args.devices.map((_, i) => new SimulatedSensor(args.seed * 1000 + i));
  const fCnt = args.devices.map(() => 0);
  const total = Math.round(args.rate * args.seconds);
  const latencies: number[] = [];
  let sent = 0, acked = 0, failed = 0, inFlight = 0;
  const maxInFlight = 2000;
  let reported = false;
  const report = (complete: boolean) => {
    if (reported) return;
    reported = true;
    latencies.sort((a, b) => a - b);
    const q = (p: number) => (latencies.length ? Math.round(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]! * 100) / 100 : -1);
    const cpu = process.cpuUsage();
    process.stdout.write(`${JSON.stringify({ sent, acked, failed, unacked: inFlight, cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssMb: Math.round(process.memoryUsage().rss / 1048576), pubackP50Ms: q(0.5), pubackP99Ms: q(0.99), complete })}\n`);
  };
  process.once('SIGTERM', () => {
    report(false);
    process.exit(0);
  });
  if (args.startAt) await new Promise((r) => setTimeout(r, Math.max(0, args.startAt! - Date.now())));
  const started = performance.now();
  // The send phase ends at the planned duration plus 10 s of grace: a hub applying back-pressure (no PUBACKs) keeps
  // inFlight at the cap, and the unsent rest counts as not sent rather than stalling the benchmark.
  const sendDeadline = started + (args.seconds + 10) * 1000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * args.rate));
      while (sent < due && inFlight < maxInFlight) {
        const i = sent % args.devices.length;
        fCnt[i] = fCnt[i]! + 1;
        const at = Date.now();
        const text = sizedUplink(args.devices[i]!, fCnt[i]!, at, sensors[i]!, args.bytes, args.application);
        const topic = `v3/${args.application}@${args.tenant}/devices/${args.devices[i]!.name}/up`;
        sent += 1;
        inFlight += 1;
        const t0 = performance.now();
        client.publish(topic, text, { qos: 1 }, (err) => {
          inFlight -= 1;
          if (err) failed += 1;
          else {
            acked += 1;
            if (latencies.length < 200_000) latencies.push(performance.now() - t0);
          }
        });
      }
      if (sent >= total || performance.now() > sendDeadline) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  for (const t0 = Date.now(); inFlight > 0 && Date.now() - t0 < 20_000; ) await new Promise((r) => setTimeout(r, 20));
  const complete = sent >= total && inFlight === 0;
  report(complete);
  await Promise.race([client.endAsync(true).catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  main().catch((e) => {
    process.stderr.write(`publisher: ${(e as Error).message}\n`);
    process.exit(1);
  });
}
