// Crash test (issue 2 item 10): a writer process is SIGKILLed mid-stream; a fresh process must find every acknowledged
// message, with its exact triples.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { messageTriples } from './fixtures/crash-messages.ts';
import { sameRdf } from './rdf-compare.ts';

const FIXTURE = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Runs the writer until it has acknowledged `minAcks` messages, SIGKILLs it, and returns every ack it printed. */
async function writeUntilKilled(dir: string, minAcks: number, timeoutMs: number, env: Record<string, string> = {}, minRunaways = 0): Promise<Set<number>> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'write', dir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let runaways = 0;
  const acks = new Set<number>();
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  for await (const line of createInterface({ input: child.stdout })) {
    const m = /^ack (\d+)$/.exec(line);
    if (m) acks.add(Number(m[1]));
    else if (line === 'runaway ended') runaways++;
    if (acks.size >= minAcks && runaways >= minRunaways && !child.killed) child.kill('SIGKILL');
  }
  await closed;
  clearTimeout(timer);
  if (acks.size < minAcks || runaways < minRunaways) throw new Error(`writer acknowledged only ${acks.size} messages (${runaways} runaways ended): ${stderr}`);
  return acks; // lines read after the kill were printed before it: they are acknowledged too
}

async function verify(dir: string, sample: number[]): Promise<{ seqs: number[]; triples: Record<string, string>; stats: Record<string, number> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'verify', dir, sample.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`verify failed (${code}): ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('crash test: SIGKILL during writes', () => {
  it('keeps every acknowledged message after a SIGKILL', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-store-'));
    dirs.push(dir);
    const acked = await writeUntilKilled(dir, 2000, 60_000);
    const ids = [...acked].sort((a, b) => a - b);
    const sample = [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids.at(-1)!, ids.find((i) => i % 10 === 0)!];
    const found = await verify(dir, sample);
    const present = new Set(found.seqs);
    const missing = ids.filter((i) => !present.has(i));
    expect(missing).toEqual([]);
    expect(found.seqs.length).toBeGreaterThanOrEqual(acked.size); // unacknowledged writes may also have landed
    expect(found.stats.quads).toBe(found.seqs.length * 8);
    for (const i of sample) expect(sameRdf(found.triples[i]!, messageTriples(i), 'application/n-triples')).toBe(true);

    // a second crash on top of the recovered store
    const more = await writeUntilKilled(dir, 2000, 60_000);
    const again = await verify(dir, []);
    const present2 = new Set(again.seqs);
    expect([...acked, ...more].filter((i) => !present2.has(i))).toEqual([]);
  });

  it('keeps every acknowledged message after a SIGKILL at full rate, 2 replicas, members ended and rejoining meanwhile', { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crash-store-fast-'));
    dirs.push(dir);
    // 4,096 in flight, 256 KiB segments (rotations and snapshots during the run), a 300 ms runaway every 0.6 s.
    const env = { CRASH_REPLICAS: '2', CRASH_IN_FLIGHT: '4096', CRASH_SNAPSHOT_BYTES: String(256 * 1024), CRASH_RUNAWAY_MS: '300' };
    const acked = await writeUntilKilled(dir, 10_000, 60_000, env, 2);
    const ids = [...acked].sort((a, b) => a - b);
    const sample = [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids.at(-1)!];
    const found = await verify(dir, sample);
    const present = new Set(found.seqs);
    expect(ids.filter((i) => !present.has(i))).toEqual([]);
    expect(found.stats.quads).toBe(found.seqs.length * 8);
    for (const i of sample) expect(sameRdf(found.triples[i]!, messageTriples(i), 'application/n-triples')).toBe(true);
  });
});
