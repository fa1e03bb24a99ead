// The ingest benchmark's ceiling: a raw MQTT -> UDP forwarder (QoS 1 subscription, no decoding, no semantic work),
// what FLINT measured. argv: JSON {url, topic, udpPort}. Prints {forwarded, cpuMs, rssMb} on SIGTERM.
import { createSocket } from 'node:dgram';
import mqtt from 'mqtt';

const args = JSON.parse(process.argv[2] ?? '{}') as { url: string; topic: string; udpPort: number };
const socket = createSocket('udp4');
let forwarded = 0;
const client = await mqtt.connectAsync(args.url, { clientId: `bench-fwd-${process.pid}`, reconnectPeriod: 500, clean: true });
client.on('message', (_topic, payload) => {
  socket.send(payload, args.udpPort, '127.0.0.1');
  forwarded += 1;
});
await client.subscribeAsync(args.topic, { qos: 1 });
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ forwarded, cpuMs: Math.round((cpu.user + cpu.system) / 1000), rssMb: Math.round(process.memoryUsage().rss / 1048576) })}\n`);
  void client.endAsync(true).finally(() => process.exit(0));
});
