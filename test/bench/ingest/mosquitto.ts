// Debian's mosquitto on loopback for benchmarks and tests: a generated config on an ephemeral port, stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Mosquitto {
  port: number;
  url: string;
  pid: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts mosquitto on 127.0.0.1:port (anonymous allowed: loopback only), resolves once it accepts connections. */
export async function startMosquitto(port: number, extraConfig: string[] = []): Promise<Mosquitto> {
  const dir = mkdtempSync(join(tmpdir(), 'hub-mosquitto-'));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'max_queued_messages 1000000',
    'max_inflight_messages 0',
    'log_dest none',
    ...extraConfig,
    '',
  ].join('\n'));
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr.trim()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => (s.end(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error('mosquitto did not start within 10 s');
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    pid: child.pid!,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU ms (user+system) and RSS MiB of a process by pid, from /proc. */
export function procUsage(pid: number): { cpuMs: number; rssMb: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    const rssPages = Number(fields[21]);
    return { cpuMs: Math.round((ticks * 1000) / 100), rssMb: Math.round((rssPages * 4096) / 1048576) };
  } catch {
    return { cpuMs: -1, rssMb: -1 };
  }
}
