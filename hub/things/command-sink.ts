// Where invoked WoT actions go: a CommandSink takes a validated action input and answers with a queued command.
import { randomUUID } from 'node:crypto';

/**
 * Lifecycle of a command (hub/downlink/types.ts): QUEUED -> SENT -> ACCEPTED -> DELIVERED, or FAILED / EXPIRED /
 * CANCELLED. A sink only ever answers QUEUED on submit.
 */
export type CommandStatus = 'QUEUED' | 'SENT' | 'ACCEPTED' | 'DELIVERED' | 'FAILED' | 'EXPIRED' | 'CANCELLED';

export interface Command {
  id: string;
  thingId: string;
  action: string;
  input: unknown;
  status: CommandStatus;
  /** ISO 8601 time the hub accepted the command. */
  submittedAt: string;
  /** Each state with its time and evidence (the durable sink keeps them; the memory sink has the first only). */
  history?: Array<{ status: CommandStatus; at: string; evidence: string }>;
}

/** What the WoT front-end knows of an invocation besides the input. */
export interface SubmitOptions {
  /** Who asked: a token fingerprint (`token:<12 hex of its SHA-256>`), never the token. */
  requester?: string;
  /** The action's queue policy (TD action member `downlinkPolicy`): every command, only the latest, or only the latest in memory (`stream`). */
  policy?: 'fifo' | 'latest-only' | 'stream';
  /** The action's time to live (TD action member `ttlSeconds`); else the hub's downlink.ttlSeconds. */
  ttlSeconds?: number;
}

/**
 * Receives the input of a WoT `invokeaction` (W3C WoT TD 1.1 §5.3.1.5 ActionAffordance) after it was validated against
 * the action's `input` schema; the hub answers 201 with the command's status resource (queryaction, cancelaction).
 * hub/downlink's DownlinkService is the hub's sink; get/list/cancel are optional for simpler sinks.
 */
export interface CommandSink {
  submit(thingId: string, action: string, input: unknown, options?: SubmitOptions): Promise<{ id: string; status: 'QUEUED' }>;
  /** The command (404 HubError when unknown). */
  get?(thingId: string, uuid: string): Command;
  list?(thingId: string): Command[];
  /** Cancels a QUEUED command (409 HubError otherwise). */
  cancel?(thingId: string, uuid: string, requester?: string): Promise<Command>;
  /** A device asks for its downlink in its own request (Sigfox BIDIR): the command's bytes as hex, marked SENT; else undefined. */
  answer?(binding: string, keyType: string, deviceKey: string, evidence: string): Promise<{ id: string; hex: string } | undefined>;
}

/** A sink that keeps every command in memory, in order, QUEUED forever (runtime tests, benchmarks). */
export class MemoryCommandSink implements CommandSink {
  private readonly recorded: Command[] = [];

  constructor(private readonly limit = 10_000) {}

  async submit(thingId: string, action: string, input: unknown): Promise<{ id: string; status: 'QUEUED' }> {
    const submittedAt = new Date().toISOString();
    const command: Command = {
      id: `urn:uuid:${randomUUID()}`,
      thingId,
      action,
      input,
      status: 'QUEUED',
      submittedAt,
      history: [{ status: 'QUEUED', at: submittedAt, evidence: 'kept in memory' }],
    };
    this.recorded.push(command);
    // Bounded: the oldest commands fall off so a chatty client cannot grow memory without limit.
    if (this.recorded.length > this.limit) this.recorded.splice(0, this.recorded.length - this.limit);
    return { id: command.id, status: 'QUEUED' };
  }

  /** Commands received so far, oldest first (optionally for one Thing). */
  commands(thingId?: string): Command[] {
    return thingId === undefined ? [...this.recorded] : this.recorded.filter((c) => c.thingId === thingId);
  }

  list(thingId: string): Command[] {
    return this.commands(thingId);
  }
}
