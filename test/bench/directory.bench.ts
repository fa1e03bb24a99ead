// Benchmark of the Thing Description Directory: register N TDs over HTTP, then time listing pages, SPARQL and JSONPath search.
// Run: node --import tsx test/bench/directory.bench.ts [count]   (default 10,000; results in test/bench/results/directory.json)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { validateConfig } from '../../hub/config.ts';
import { Directory } from '../../hub/directory/directory.ts';
import { directoryPlugin } from '../../hub/directory/plugin.ts';
import { TokenAuth } from '../../hub/http/auth.ts';
import type { HubDeps } from '../../hub/http/deps.ts';
import { installProblemHandlers } from '../../hub/http/problem.ts';
import { MemoryQuadStore } from '../../hub/store/memory-quad-store.ts';

const COUNT = Number(process.argv[2] ?? 10_000);
const TOKEN = 'bench-admin-token-0123456789abcdef';
const TYPES = ['saref:TemperatureSensor', 'saref:LightSwitch', 'saref:Meter', 'saref:Actuator'];

function td(i: number): Record<string, unknown> {
  const id = `urn:bench:device:${String(i).padStart(6, '0')}`;
  return {
    '@context': ['https://www.w3.org/2022/wot/td/v1.1', { saref: 'https://saref.etsi.org/core/', hub: 'https://w3id.org/wot-hub#' }],
    id,
    '@type': TYPES[i % TYPES.length],
    title: `Device ${i}`,
    description: `Benchmark device number ${i}`,
    'hub:mapping': `mappings/bench-${i % 10}.rml.ttl`,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: {
      temperature: { type: 'number', unit: 'qudt:DEG_C', readOnly: true, observable: true, forms: [{ href: `http://127.0.0.1/wot/${encodeURIComponent(id)}/properties/temperature` }] },
      battery: { type: 'number', minimum: 0, maximum: 100, readOnly: true, forms: [{ href: `http://127.0.0.1/wot/${encodeURIComponent(id)}/properties/battery` }] },
    },
    actions: { reboot: { forms: [{ href: `http://127.0.0.1/wot/${encodeURIComponent(id)}/actions/reboot` }] } },
  };
}

function stats(samples: number[]): { median: number; p95: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  const r = (x: number) => Math.round(x * 100) / 100;
  return { median: r(at(0.5)), p95: r(at(0.95)), max: r(s[s.length - 1]!), n: s.length };
}

const dataDir = mkdtempSync(join(tmpdir(), 'hub-bench-dir-'));
const config = validateConfig({ host: '127.0.0.1', httpPort: 0, dataDir, adminToken: TOKEN, logLevel: 'silent' });
const store = new MemoryQuadStore();
const directory = new Directory({ store, baseUrl: config.baseUrl, dataDir });
await directory.open();
const app = Fastify({ logger: false, bodyLimit: config.bodyLimit });
installProblemHandlers(app, config.baseUrl);
const deps = { config, store, auth: new TokenAuth(config, TOKEN), directory } as unknown as HubDeps;
await app.register(async (child) => directoryPlugin(child, deps));
await app.ready();

async function timed(url: string, method: 'GET' | 'POST' = 'GET'): Promise<number> {
  const t0 = performance.now();
  const res = await app.inject({ method, url });
  const ms = performance.now() - t0;
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body.slice(0, 300)}`);
  return ms;
}

try {
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/td+json' };
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i++) {
    const body = td(i);
    const res = await app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(body.id as string)}`, headers, payload: JSON.stringify(body) });
    if (res.statusCode !== 201) throw new Error(`PUT ${i}: ${res.statusCode} ${res.body.slice(0, 300)}`);
    if ((i + 1) % 2000 === 0) process.stdout.write(`  registered ${i + 1} (${Math.round((i + 1) / ((performance.now() - t0) / 1000))}/s)\n`);
  }
  const registerSeconds = (performance.now() - t0) / 1000;

  const page: number[] = [];
  for (let i = 0; i < 200; i++) page.push(await timed(`/things?limit=100&offset=${Math.floor(Math.random() * (COUNT - 100))}`));
  const one: number[] = [];
  for (let i = 0; i < 200; i++) one.push(await timed(`/things/${encodeURIComponent(`urn:bench:device:${String(Math.floor(Math.random() * COUNT)).padStart(6, '0')}`)}`));

  const q = (s: string) => `/search/sparql?query=${encodeURIComponent(s)}`;
  const TD = 'https://www.w3.org/2019/wot/td#';
  const sparqlQueries = {
    byTitle: (i: number) => q(`SELECT ?id WHERE { ?id <${TD}title> "Device ${i}"@en }`),
    byTypeAndProperty: () => q(`SELECT ?id WHERE { ?id a <https://saref.etsi.org/core/Meter> ; <${TD}hasPropertyAffordance> ?p . ?p <${TD}name> "battery" } LIMIT 50`),
    countByType: () => q(`SELECT ?type (COUNT(?id) AS ?n) WHERE { ?id a ?type } GROUP BY ?type`),
  };
  const sparql: Record<string, ReturnType<typeof stats>> = {};
  for (const [name, make] of Object.entries(sparqlQueries)) {
    const samples: number[] = [];
    for (let i = 0; i < 20; i++) samples.push(await timed(make(Math.floor(Math.random() * COUNT))));
    sparql[name] = stats(samples);
  }
  const jp: number[] = [];
  for (let i = 0; i < 20; i++) {
    jp.push(await timed(`/search/jsonpath?query=${encodeURIComponent(`$[?(@.title=='Device ${Math.floor(Math.random() * COUNT)}')].id`)}`));
  }

  // Restart: a fresh in-memory store and a new Directory on the same dataDir (files + saved N-Triples, one insert).
  await directory.close();
  const store2 = new MemoryQuadStore();
  const reopened = new Directory({ store: store2, baseUrl: config.baseUrl, dataDir });
  const r0 = performance.now();
  await reopened.open();
  const reopenMs = Math.round(performance.now() - r0);
  if (reopened.size !== COUNT) throw new Error(`reopened ${reopened.size} of ${COUNT} TDs`);
  const reopenQuads = (await store2.stats()).quads;
  await reopened.close();

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    tds: COUNT,
    store: 'MemoryQuadStore (Oxigraph in-process) + TD files in dataDir',
    registration: { seconds: Math.round(registerSeconds * 10) / 10, perSecond: Math.round(COUNT / registerSeconds), via: 'HTTP PUT (fastify inject), sequential' },
    listingPage100Ms: stats(page),
    retrieveOneMs: stats(one),
    sparqlMs: sparql,
    jsonpathMs: stats(jp),
    storeQuads: (await store.stats()).quads,
    restart: { ms: reopenMs, tds: COUNT, quadsRestored: reopenQuads },
    targets: { pageMs: 50, sparqlMs: 200 },
    rssMB: Math.round(process.memoryUsage().rss / 1024 / 1024),
  };
  process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  const out = join(import.meta.dirname, 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'directory.json'), `${JSON.stringify(results, null, 2)}\n`);
} finally {
  await app.close();
  await directory.close();
  await store.close();
  rmSync(dataDir, { recursive: true, force: true });
}
