// Downlink command records, states, evidence and the adapter interface each network binding implements (issue 12).

/**
 * Lifecycle of a command. QUEUED -> SENT (handed to the network or the gateway) -> ACCEPTED (the network took it) ->
 * DELIVERED (the device confirmed it); FAILED / EXPIRED / CANCELLED end it. A state is set only by its evidence.
 */
export type CommandStatus = 'QUEUED' | 'SENT' | 'ACCEPTED' | 'DELIVERED' | 'FAILED' | 'EXPIRED' | 'CANCELLED';

export const COMMAND_STATUSES: readonly CommandStatus[] = ['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED'];
export const TERMINAL: ReadonlySet<CommandStatus> = new Set(['DELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED']);

/** One state a command entered: when, and what said so (an event name, a callback, the hub's own clock). */
export interface HistoryEntry {
  status: CommandStatus;
  /** ISO 8601. */
  at: string;
  evidence: string;
}

/**
 * fifo: every command in order; latest-only: a newer command of an action cancels the queued older one; stream: latest-only
 * and kept in memory only (set points of a servo loop: fsyncs would cost the loop its latency, and a stale set point
 * sent again after a restart would move the machine to where it should no longer go).
 */
export type QueuePolicy = 'fifo' | 'latest-only' | 'stream';
export type InterfaceType = 'continuous' | 'uplink_triggered' | 'beacon';

/** A command as stored and served by its status resource (`GET /wot/{id}/commands/{uuid}`). */
export interface CommandRecord {
  /** `urn:uuid:<uuid>`. */
  id: string;
  thingId: string;
  action: string;
  input: unknown;
  status: CommandStatus;
  history: HistoryEntry[];
  /** ISO 8601 time the hub accepted the command. */
  submittedAt: string;
  /** ISO 8601 time after which a command not yet sent is EXPIRED (never sent). */
  expiresAt: string;
  /** Who asked (a token fingerprint, never the token). */
  requester?: string;
  /** Interface (ioAdapterDefinitions uuid) chosen at submit time, and its binding. */
  interface?: string;
  binding?: string;
  /** Sends tried so far (retries after FAILED count). */
  attempts: number;
  /** Earliest time (ms) of the next try after a failure. */
  retryAt?: number;
  /** false for a `stream` command: never written to the log, gone after a restart. */
  durable?: false;
  /** What the device answered, decoded (e.g. an OBD read's DTCs, VIN or PID value), set with the state it proved. */
  output?: unknown;
}

/** Where a command goes: one interface of the Thing, as the device-key index knows it. */
export interface DownlinkRoute {
  thingId: string;
  adapterId: string;
  keyType: string;
  deviceKey: string;
  interfaceType: InterfaceType;
  deviceDefinitions: Readonly<Record<string, unknown>>;
  codecs: readonly string[];
  /** The latest uplink on this interface since the hub started: its binding and MQTT topic (network-server routes). */
  lastUplink?: { binding: string; topic?: string; at: number };
}

/** What an adapter hands back when it sent a command: evidence text (topic, request) for the SENT entry. */
export interface SendReceipt {
  evidence: string;
}

/**
 * A network binding's downlink side. `push` adapters send on their own (MQTT publish to a network server, a UDP
 * datagram, a serial line): the queue calls send() when the interface's schedule says so. `answer` adapters can only
 * reply to the device's own request (a Sigfox BIDIR callback, a class A receive window): the binding asks the queue
 * with `DownlinkService.answer()` and the queue marks the taken command SENT.
 *
 * OSC, Cookie and OBD plug in as `push` adapters: `binding` is their adapter kind, `send()` writes the encoded message
 * (OSC address + args to the device's UDP source, a Cookie serial configuration line, an ELM327 request) and the binding
 * reports the device's echo / ack / err / reply through `DownlinkService.evidence(binding, match, status, evidence)`.
 */
export interface DownlinkAdapter {
  readonly binding: string;
  readonly mode: 'push' | 'answer';
  /** Whether this adapter serves the route (its key type, its settings); the queue picks the first that does. */
  serves(route: DownlinkRoute): boolean;
  /** push: sends one command; throws a HubError when it cannot (the queue counts a try and retries). */
  send?(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt>;
  /** push: whether it can send now (e.g. its session is connected); while not, commands wait QUEUED within their TTL. */
  ready?(route: DownlinkRoute): boolean;
  /** Checked on submit, before the command is queued: throws a 4xx HubError for an input the device cannot take. */
  validate?(action: string, input: unknown, route: DownlinkRoute): void;
  /**
   * push: what a send is worth that the hub may or may not have made (it stopped after the intent record, before SENT).
   * `idempotent`: sending it again cannot reach the device twice (ChirpStack: the queue item id); `replace`: replace()
   * can send it so that it replaces what the network holds for the device (TTS down/replace), used when
   * downlink.inDoubt is `replace`; absent: never sent again, FAILED "unknown after restart".
   */
  readonly inDoubt?: 'idempotent' | 'replace';
  /** push, `inDoubt: 'replace'`: sends the command replacing the device's queue on the network server. */
  replace?(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt>;
}
