// Crash test of the lazy insert backlog (issue 9 item 5): a writer with 2 replicas and 8,192 inserts in flight is
// SIGKILLed while its workers hold thousands of acknowledged, not yet applied inserts; a fresh process finds them all.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { messageTriples } from './fixtures/crash-messages.ts';
import { sameRdf } from './rdf-compare.ts';

const WRITER = join(import.meta.dirname, 'fixtures', 'hot-crash-writer.ts');
const VERIFY = join(import.meta.dirname, 'fixtures', 'crash-writer.ts');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('crash test: SIGKILL with a backlog of acknowledged, unapplied inserts', () => {
  it('keeps every acknowledged message; messages were visible right after their ack meanwhile', { timeout: 150_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hot-crash-'));
    dirs.push(dir);
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const acks = new Set<number>();
    let maxPending = 0;
    let pendingAtKill = 0;
    let visible = 0;
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    for await (const line of createInterface({ input: child.stdout })) {
      const [kind, n] = line.split(' ');
      if (kind === 'ack') acks.add(Number(n));
      else if (kind === 'pending') maxPending = Math.max(maxPending, Number(n));
      else if (kind === 'visible') visible++;
      // Kill once enough is acknowledged while the backlog is deep (the workers are behind the log).
      if (!child.killed && acks.size >= 20_000 && kind === 'pending' && Number(n) >= 2_000) {
        pendingAtKill = Number(n);
        child.kill('SIGKILL');
      }
    }
    await closed;
    clearTimeout(timer);
    if (!pendingAtKill) throw new Error(`no deep backlog seen: ${acks.size} acks, max pending ${maxPending}: ${stderr}`);
    expect(visible).toBeGreaterThan(0);

    const ids = [...acks].sort((a, b) => a - b);
    const sample = [ids[0]!, ids[Math.floor(ids.length / 2)]!, ids.at(-1)!, ids.find((i) => i % 10 === 0)!];
    const verify = spawn(process.execPath, ['--import', 'tsx', VERIFY, 'verify', dir, sample.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    verify.stdout.on('data', (d) => (out += d));
    verify.stderr.on('data', (d) => (err += d));
    const code = await new Promise<number | null>((resolve) => verify.on('close', resolve));
    if (code !== 0) throw new Error(`verify failed (${code}): ${err}`);
    const found = JSON.parse(out.trim().split('\n').at(-1)!) as { seqs: number[]; triples: Record<string, string>; stats: Record<string, number> };
    const present = new Set(found.seqs);
    expect(ids.filter((i) => !present.has(i))).toEqual([]);
    expect(found.stats.quads).toBe(found.seqs.length * 8);
    for (const i of sample) expect(sameRdf(found.triples[i]!, messageTriples(i), 'application/n-triples')).toBe(true);
  });
});
