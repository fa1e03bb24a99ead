// mosquitto_sub as a test peer: its `-v` output ("topic payload") collected line by line, and a probe loop that waits until it is subscribed.
import { spawn, type ChildProcess } from 'node:child_process';

/** Starts `mosquitto_sub -v` on the hub's broker for `topics`; each complete output line is pushed onto `lines`. */
export function mosquittoSubLines(port: number, password: string, topics: string[], lines: string[]): ChildProcess {
  const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'test', '-P', password, '-v', ...topics.flatMap((t) => ['-t', t])], { stdio: ['ignore', 'pipe', 'ignore'] });
  let buf = '';
  sub.stdout!.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return sub;
}

/** Publishes probes on `topic` (one of the subscriber's filters) every 100 ms until one comes back in `lines`. */
export async function untilSubscribed(publish: (topic: string, body: unknown) => Promise<unknown>, topic: string, lines: readonly string[]): Promise<void> {
  for (let i = 0; !lines.some((l) => l.startsWith(topic)); i++) {
    if (i > 100) throw new Error('mosquitto_sub never subscribed');
    await publish(topic, { probe: i });
    await new Promise((r) => setTimeout(r, 100));
  }
}
