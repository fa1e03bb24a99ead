// Benchmark of the Thing runtime: RSS per exposed Thing (1,000 and 5,000 Things) and property read latency over HTTP and CoAP.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { TokenAuth } from '../../hub/http/auth.ts';
import { LiveState } from '../../hub/routing/live-state.ts';
import { MemoryCommandSink } from '../../hub/things/command-sink.ts';
import { ThingRuntime } from '../../hub/things/thing-runtime.ts';
import { baseUrlOf, startTestHub } from '../helpers/hub.ts';
import { coapRequest, pathOptions } from '../things/coap-peers.ts';
import { DEVICE_ID, deviceTd, uplink } from '../things/fixtures.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function settle(): { rss: number; heap: number } {
  for (let i = 0; i < 4; i++) gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

/** Exposes `count` device Things on a fresh runtime; bytes of RSS and of heap per Thing. */
async function memoryPerThing(count: number): Promise<{ count: number; rssPerThingBytes: number; heapPerThingBytes: number; exposeMs: number }> {
  const config = { host: '127.0.0.1', coapPort: 0, baseUrl: 'http://127.0.0.1:8080' };
  const auth = new TokenAuth({ tokens: [], readsOpen: 'loopback', host: '127.0.0.1' }, 'bench-admin-token-0123456789');
  const liveState = new LiveState();
  const runtime = new ThingRuntime({ config, auth, liveState, commands: new MemoryCommandSink() });
  await runtime.start();
  const tds = Array.from({ length: count }, (_, i) => deviceTd(`urn:dev:bench:${i.toString(16).padStart(8, '0')}`));
  const before = settle();
  const started = performance.now();
  for (const td of tds) await runtime.exposeDevice(td);
  const exposeMs = performance.now() - started;
  const after = settle();
  if (runtime.size !== count) throw new Error(`exposed ${runtime.size} of ${count}`);
  await runtime.stop();
  return {
    count,
    rssPerThingBytes: Math.round((after.rss - before.rss) / count),
    heapPerThingBytes: Math.round((after.heap - before.heap) / count),
    exposeMs: Math.round(exposeMs),
  };
}

function percentiles(samples: number[]): { p50: number; p95: number; p99: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3));
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: Number((s.reduce((a, b) => a + b, 0) / s.length).toFixed(3)) };
}

async function readLatency(requests: number): Promise<{ http: ReturnType<typeof percentiles>; coap: ReturnType<typeof percentiles> }> {
  const hub = await startTestHub({ logLevel: 'silent' }, { listen: true });
  try {
    await hub.directory.put(DEVICE_ID, deviceTd());
    while (!hub.things.hasThing(DEVICE_ID)) await new Promise((r) => setTimeout(r, 10));
    hub.liveState.publish(uplink(DEVICE_ID, { temperature: 21.5 }));
    const url = `${baseUrlOf(hub)}/wot/${encodeURIComponent(DEVICE_ID)}/properties/temperature`;
    const http: number[] = [];
    for (let i = 0; i < requests + 50; i++) {
      const t = performance.now();
      const res = await fetch(url);
      if ((await res.json()) !== 21.5) throw new Error('bad HTTP read');
      if (i >= 50) http.push(performance.now() - t); // the first 50 warm up JIT and the connection
    }
    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const coap: number[] = [];
    try {
      const options = pathOptions(['wot', DEVICE_ID, 'properties', 'temperature'], false);
      for (let i = 0; i < requests + 50; i++) {
        const id = i & 0xffff;
        const t = performance.now();
        const reply = await new Promise<Buffer>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('CoAP read timed out')), 2000);
          socket.once('message', (msg) => {
            clearTimeout(timer);
            resolve(msg);
          });
          socket.send(coapRequest(1, id, Buffer.from([id >> 8, id & 0xff]), options), hub.things.coapPort, '127.0.0.1');
        });
        if (reply[1] !== 0x45) throw new Error(`CoAP read answered code ${reply[1]}`);
        if (i >= 50) coap.push(performance.now() - t);
      }
    } finally {
      socket.close();
    }
    return { http: percentiles(http), coap: percentiles(coap) };
  } finally {
    await hub.stop();
  }
}

const memory = [await memoryPerThing(1000), await memoryPerThing(5000)];
for (const m of memory) {
  console.log(
    `expose ${m.count} Things: ${(m.rssPerThingBytes / 1024).toFixed(1)} KB RSS/Thing, ${(m.heapPerThingBytes / 1024).toFixed(1)} KB heap/Thing, ${m.exposeMs} ms (${Math.round((m.count / m.exposeMs) * 1000)} Things/s)`,
  );
}
const latency = await readLatency(2000);
console.log(`property read over HTTP (ms): ${JSON.stringify(latency.http)}`);
console.log(`property read over CoAP (ms): ${JSON.stringify(latency.coap)}`);
const targetKb = 20;
const worst = Math.max(...memory.map((m) => m.rssPerThingBytes)) / 1024;
console.log(`target <= ${targetKb} KB per Thing: ${worst <= targetKb ? 'met' : 'NOT met'} (worst ${worst.toFixed(1)} KB)`);

const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(
  join(dir, 'things.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, memory, readLatencyMs: latency, targetKbPerThing: targetKb, worstKbPerThing: Number(worst.toFixed(2)) }, null, 2)}\n`,
);
process.exit(0);
