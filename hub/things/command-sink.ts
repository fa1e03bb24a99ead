// Where invoked WoT actions go: a CommandSink takes a validated action input and answers with a queued command.
import { randomUUID } from 'node:crypto';

/** Lifecycle of a command (ARCHITECTURE.md "downlink"); a sink only ever answers QUEUED on submit. */
export type CommandStatus = 'QUEUED' | 'SENT' | 'DELIVERED' | 'FAILED' | 'EXPIRED';

export interface Command {
  id: string;
  thingId: string;
  action: string;
  input: unknown;
  status: CommandStatus;
  /** ISO 8601 time the hub accepted the command. */
  submittedAt: string;
}

/**
 * Receives the input of a WoT `invokeaction` (W3C WoT TD 1.1 §5.3.1.5 ActionAffordance) after it was validated against
 * the action's `input` schema. The downlink queues implement this later; the hub answers the client with the returned
 * id and status.
 */
export interface CommandSink {
  submit(thingId: string, action: string, input: unknown): Promise<{ id: string; status: 'QUEUED' }>;
}

/** Default sink: keeps every command in memory, in order, so that tests and the UI can see what was asked. */
export class MemoryCommandSink implements CommandSink {
  private readonly recorded: Command[] = [];

  constructor(private readonly limit = 10_000) {}

  async submit(thingId: string, action: string, input: unknown): Promise<{ id: string; status: 'QUEUED' }> {
    const command: Command = {
      id: `urn:uuid:${randomUUID()}`,
      thingId,
      action,
      input,
      status: 'QUEUED',
      submittedAt: new Date().toISOString(),
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
}
