// Crash test through the real hub process (issue 2 item 10): SPARQL Updates over HTTP, SIGKILL, restart, every update
// that was answered 204 must be there.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/hub.ts';
import { EX, SEQ_QUERY, messageGraph, messageTriples } from './fixtures/crash-messages.ts';
import { sameRdf } from './rdf-compare.ts';

const MAIN = join(import.meta.dirname, '..', '..', 'hub', 'main.ts');
const TOKEN = 'crash-test-admin-token-0123456789';
const children: ChildProcess[] = [];
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Starts `node --import tsx hub/main.ts --port <p> --data <dir>` and resolves with its base URL once it listens. */
async function startHub(dir: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, '--port', String(port), '--data', dir, '--log-level', 'warn'], {
    env: { ...process.env, HUB_ADMIN_TOKEN: TOKEN, HUB_COAP_PORT: '0', HUB_MQTT_PORT: '0', HUB_PACKET_FORWARDER_PORT: '0', HUB_OSC_PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hub did not start within 45 s: ${stderr}`)), 45_000);
    child.on('exit', (code) => reject(new Error(`hub exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/listening on/.test(line)) clearTimeout(timer), resolve(`http://127.0.0.1:${port}`);
    });
  });
  return { child, url: await listening };
}

const update = (i: number) => `INSERT DATA { GRAPH <${messageGraph(i)}> {\n${messageTriples(i)}} }`;

describe('crash test through the hub process', () => {
  it('keeps every SPARQL Update the hub acknowledged before a SIGKILL', { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-hub-'));
    dirs.push(dir);
    const first = await startHub(dir);
    const acked: number[] = [];
    let next = 0;
    let killed = false;
    const deadline = Date.now() + 60_000;
    const writer = async () => {
      while (!killed && Date.now() < deadline) {
        const i = next++;
        const res = await fetch(`${first.url}/sparql`, {
          method: 'POST',
          headers: { 'content-type': 'application/sparql-update', authorization: `Bearer ${TOKEN}` },
          body: update(i),
        }).catch(() => undefined);
        if (res?.status === 204) acked.push(i);
        else if (!killed) throw new Error(`update ${i} answered ${res?.status}: ${await res?.text()}`);
        if (acked.length >= 2000 && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 32 }, writer));
    expect(acked.length).toBeGreaterThanOrEqual(2000);
    await new Promise((r) => (first.child.exitCode !== null || first.child.signalCode !== null ? r(null) : first.child.once('exit', r)));

    const second = await startHub(dir);
    const res = await fetch(`${second.url}/sparql?query=${encodeURIComponent(SEQ_QUERY)}`, {
      headers: { accept: 'application/sparql-results+json', authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(200);
    const rows = ((await res.json()) as { results: { bindings: Array<{ seq: { value: string } }> } }).results.bindings;
    const present = new Set(rows.map((r) => Number(r.seq.value)));
    expect(acked.filter((i) => !present.has(i))).toEqual([]);
    for (const i of [acked[0]!, acked.at(-1)!, acked.find((k) => k % 10 === 0)!]) {
      const q = `CONSTRUCT { ?s ?p ?o } WHERE { GRAPH <${messageGraph(i)}> { ?s ?p ?o FILTER(?s = <${EX}obs/${i}>) } }`;
      const r = await fetch(`${second.url}/sparql?query=${encodeURIComponent(q)}`, {
        headers: { accept: 'application/n-triples', authorization: `Bearer ${TOKEN}` },
      });
      expect(sameRdf(await r.text(), messageTriples(i), 'application/n-triples')).toBe(true);
    }
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });
});
