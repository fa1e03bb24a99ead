// Resend safety: kill -9 between a downlink's MQTT publish and its SENT record (real mosquitto, a child process with the
// TTS and ChirpStack adapters): after the restart TTS is not sent twice (FAILED "unknown after restart", or down/replace
// by policy) and ChirpStack is resent with the same queue item id.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFrames } from '../../hub/downlink/log.ts';
import { freePort } from '../helpers/hub.ts';

const ROOT = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'hub-resend-'));
const procs: ChildProcess[] = [];
let port = 0;
const lines: string[] = [];

function child(mode: 'submit' | 'resume', env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, ['--import', 'tsx', 'test/downlink/resend.child.ts', String(port), dir, mode], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 150_000, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      resolve({ stdout: String(stdout), stderr: String(stderr), signal: p.signalCode, code: p.exitCode });
      void error;
    });
  });
}

const frames = (name: string) => readFrames(readFileSync(join(dir, name, 'downlink', 'commands.log'))).records;

beforeAll(async () => {
  port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  const broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
  procs.push(broker);
  // mosquitto_sub -v sees every downlink the children publish (topic + payload per line)
  for (let i = 0; i < 100; i++) {
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-v', '-t', 'v3/+/devices/+/down/+', '-t', 'application/+/device/+/command/down', '-t', 'probe'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let buf = '';
    sub.stdout!.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    await new Promise((r) => setTimeout(r, 200));
    if (sub.exitCode === null) {
      procs.push(sub);
      break;
    }
  }
  for (let i = 0; !lines.some((l) => l.startsWith('probe ')); i++) {
    if (i > 100) throw new Error('mosquitto_sub never subscribed');
    await new Promise<void>((r) => execFile('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'probe', '-m', 'x'], () => r()));
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) process.kill(p.pid!, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

type Command = { id: string; status: string; attempts: number; history: Array<{ status: string; evidence: string }> };

describe('kill -9 between the publish and the SENT record', () => {
  it('TTS is never pushed twice (FAILED unknown after restart; down/replace by policy); ChirpStack is resent with the same id', async () => {
    const first = await child('submit', { HUB_TEST_CRASH_AFTER_DOWNLINK_SEND: 'hold' });
    expect(first.signal, first.stderr).toBe('SIGKILL');
    const ids = (JSON.parse(first.stdout.trim().split('\n')[0]!) as string[]).map((id) => id.slice(9));
    const [ttsFail, ttsReplace, cs] = ids as [string, string, string];
    await new Promise((r) => setTimeout(r, 300));
    const pushes = (uuid: string, suffix: string) => lines.filter((l) => l.split(' ')[0]!.endsWith(suffix) && l.includes(uuid));
    // each went out once before the kill, and the log holds its intent but no SENT
    expect(pushes(ttsFail, '/down/push')).toHaveLength(1);
    expect(pushes(ttsReplace, '/down/push')).toHaveLength(1);
    expect(pushes(cs, '/command/down')).toHaveLength(1);
    for (const name of ['tts-fail', 'tts-replace', 'chirpstack']) {
      const recs = frames(name);
      expect(recs.map((r) => r.type)).toEqual([1, 3]); // the command, its intent (type 3), no transition
      expect(recs[1]!.value).toMatchObject({ attempt: 1, binding: name.startsWith('tts') ? 'tts' : 'chirpstack' });
    }

    const second = await child('resume');
    expect(second.code, second.stderr).toBe(0);
    const out = JSON.parse(second.stdout.trim().split('\n').at(-1)!) as Record<string, { commands: Command[]; stats: Record<string, number> }>;
    await new Promise((r) => setTimeout(r, 500));

    // TTS, policy fail: FAILED with the evidence, not pushed again; a later down/sent (it did reach TTS) sets ACCEPTED
    const failed = out['tts-fail']!.commands[0]!;
    expect(failed.history.map((h) => h.status)).toEqual(['QUEUED', 'FAILED', 'ACCEPTED']);
    expect(failed.history[1]!.evidence).toMatch(/^unknown after restart: the hub stopped while sending try 1 on tts .*not sent again \(downlink.inDoubt fail\)/);
    expect(failed.history[2]!.evidence).toMatch(/tts down\/sent/);
    expect(pushes(ttsFail, '/down/push')).toHaveLength(1);
    expect(pushes(ttsFail, '/down/replace')).toHaveLength(0);
    expect(out['tts-fail']!.stats.inDoubtFailed).toBe(1);

    // TTS, policy replace: sent again at once through down/replace (swapping the copy TTS may hold), never a second push
    const replaced = out['tts-replace']!.commands[0]!;
    expect(replaced.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    expect(replaced.history[1]!.evidence).toMatch(/down\/replace .*replacing the device's queue after a restart left try 1 unconfirmed/);
    expect(replaced.attempts).toBe(2);
    expect(pushes(ttsReplace, '/down/push')).toHaveLength(1);
    const [replace] = pushes(ttsReplace, '/down/replace');
    expect(replace!.split(' ')[0]).toBe('v3/app-resend/devices/tts-replace/down/replace');
    expect(JSON.parse(replace!.slice(replace!.indexOf(' ') + 1))).toEqual({ downlinks: [{ f_port: 7, decoded_payload: { setInterval: { seconds: 900 } }, confirmed: true, priority: 'NORMAL', correlation_ids: [`wot-hub:cmd:${ttsReplace}`] }] });

    // ChirpStack: the same queue item id again (it refuses an id it holds), SENT with the reason
    const resent = out.chirpstack!.commands[0]!;
    expect(resent.history.map((h) => h.status)).toEqual(['QUEUED', 'SENT']);
    expect(resent.history[1]!.evidence).toMatch(/sent again after a restart left try 1 unconfirmed \(chirpstack deduplicates it\)/);
    const cmds = pushes(cs, '/command/down').map((l) => JSON.parse(l.slice(l.indexOf(' ') + 1)) as { id: string });
    expect(cmds.map((c) => c.id)).toEqual([cs, cs]);

    // a third start finds nothing in doubt and sends nothing more
    const third = await child('resume');
    expect(third.code, third.stderr).toBe(0);
    await new Promise((r) => setTimeout(r, 300));
    const carrying = (uuid: string) => lines.filter((l) => !l.startsWith('probe ') && l.includes(uuid)).length;
    expect([carrying(ttsFail), carrying(ttsReplace), carrying(cs)], lines.join("\n")).toEqual([1, 2, 2]);
    const again = JSON.parse(third.stdout.trim().split('\n').at(-1)!) as Record<string, { commands: Command[]; stats: Record<string, number> }>;
    expect(Object.values(again).map((v) => v.stats.inDoubtFailed + v.stats.inDoubtResent)).toEqual([0, 0, 0]);
  }, 300_000);
});
