// queryaction over HTTP for tests: a command's status document, and polling it until a condition holds.
import { expect } from 'vitest';
import { TEST_ADMIN_TOKEN } from './hub.ts';

/** The queryaction document of a command (GET on its Location). */
export type CommandStatus = { id: string; thingId?: string; status: string; action?: string; input?: unknown; history: Array<{ status: string; at: string; evidence: string }> };

const TERMINAL = ['DELIVERED', 'FAILED', 'EXPIRED'];

export async function commandStatus(location: string): Promise<CommandStatus> {
  const res = await fetch(location, { headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` } });
  expect(res.status).toBe(200);
  return res.json() as Promise<CommandStatus>;
}

/** Polls the command every 40 ms until `done` (default: a terminal state); throws with its history after `ms`. */
export async function settleCommand(location: string, done: (s: CommandStatus) => boolean = (s) => TERMINAL.includes(s.status), ms = 10_000): Promise<CommandStatus> {
  const end = Date.now() + ms;
  for (;;) {
    const s = await commandStatus(location);
    if (done(s)) return s;
    if (Date.now() > end) throw new Error(`command still ${s.status}: ${JSON.stringify(s.history)}`);
    await new Promise((r) => setTimeout(r, 40));
  }
}
