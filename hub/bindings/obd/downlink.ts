// OBD-II actions as downlinks (hand-rolled, SAE J1979 modes 03/07, 04, 09 PID 02, 01): the `obd` push adapter and its pure reply reader.
//
// readDtcs (03 + 07), readDiagnosticCodes (03), clearDtcs (04, only with `{"confirm": true}`), readVin (0902) and
// pollPid (01 + PID the car's bitmap lists) go through the vehicle's ELM327 session: queued while it is not connected,
// written between two poll requests (one request on the line at a time), SENT when written, then DELIVERED with the
// decoded reply as the command's `output`, or FAILED with the adapter's text (NO DATA, ?, CAN ERROR, a timeout, a
// negative response 7F).
import { BadRequestError, DecodeError, HubError, ServiceUnavailableError, ValidationError } from '../../errors.ts';
import type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute, SendReceipt } from '../../downlink/types.ts';
import type { ElmStatusKind, ObdMessage } from './elm327.ts';
import { BITMAP_PIDS, decodeDtcs, decodeMode01, decodeVin, mode01Request, pidOf } from './pids.ts';
import type { Elm327Session, ElmExchange } from './session.ts';

export const OBD_ACTIONS: ReadonlySet<string> = new Set(['readDtcs', 'readDiagnosticCodes', 'clearDtcs', 'readVin', 'pollPid']);

/** ELM327 statuses that mean the request got no answer (the command FAILED with that text). */
const FAILURES: ReadonlySet<ElmStatusKind> = new Set([
  'no-data', 'unknown-command', 'unable-to-connect', 'can-error', 'bus-init-error', 'bus-busy', 'bus-error', 'data-error',
  'stopped', 'buffer-full', 'fb-error', 'lv-reset', 'act-alert', 'rx-error',
]);

/** ISO 14229 / J1979 negative response codes (`7F <mode> <NRC>`). */
const NRC: Record<number, string> = {
  0x10: 'generalReject', 0x11: 'serviceNotSupported', 0x12: 'subFunctionNotSupported', 0x13: 'incorrectMessageLength',
  0x21: 'busyRepeatRequest', 0x22: 'conditionsNotCorrect', 0x31: 'requestOutOfRange', 0x78: 'responsePending',
};

const MAX_EVIDENCE = 400;
const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const round = (v: number): number => Math.round(v * 10_000) / 10_000;

/** Where the vehicle sessions come from: set once the OBD transport runs (hub start), unset while it does not. */
export interface ObdSessionSlot {
  session?: (thingId: string) => Elm327Session | undefined;
}

/** Reports a command's outcome to the queue (DownlinkService.evidence). */
export type ObdReport = (command: CommandRecord, status: CommandStatus, evidence: string, retryable: boolean, output?: unknown) => Promise<void>;

export interface ObdOutcome {
  status: 'DELIVERED' | 'FAILED';
  evidence: string;
  output?: unknown;
}

/** The PID of a pollPid input (`"0C"`, `"0x0c"`, `12`, `"rpm"`), or a 400 naming /pid. */
export function pidInput(input: unknown): number {
  const pid = isObject(input) ? pidOf(input.pid) : undefined;
  if (pid === undefined) throw new ValidationError("pollPid needs a mode 01 PID", [{ field: '/pid', description: 'a PID as two hex digits ("0C") or a property name ("rpm")' }]);
  return pid;
}

/** The ELM327 requests of an action, in order. */
export function requestsOf(action: string, input: unknown): string[] {
  switch (action) {
    case 'readDtcs': return ['03', '07'];
    case 'readDiagnosticCodes': return ['03'];
    case 'clearDtcs': return ['04'];
    case 'readVin': return ['0902'];
    case 'pollPid': return [mode01Request(pidInput(input))];
    default: throw new BadRequestError(`'${action.slice(0, 64)}' is not an OBD-II action (readDtcs, clearDtcs, readVin, pollPid)`, {}, 'obd-unsupported-action');
  }
}

/** 400 before queueing: clearDtcs only with `{"confirm": true}`, pollPid only with a PID the car's bitmap lists (once known). */
export function validateObdInput(action: string, input: unknown, supported?: ReadonlySet<number>): void {
  if (action === 'clearDtcs' && !(isObject(input) && input.confirm === true)) {
    throw new ValidationError('clearDtcs erases the stored DTCs and freeze frames: it needs the input {"confirm": true}', [
      { field: '/confirm', description: 'must be true' },
    ]);
  }
  requestsOf(action, input);
  if (action === 'pollPid') checkSupported(pidInput(input), supported);
}

function checkSupported(pid: number, supported?: ReadonlySet<number>): void {
  // The bitmap is read when the session initialises; before the first connection it is not known yet.
  if (!supported || supported.size === 0 || pid === 0 || supported.has(pid)) return;
  throw new HubError(422, 'obd-pid-unsupported', `PID ${hex2(pid)} is not in the car's supported-PID bitmap`, {
    extensions: { pid: hex2(pid), supportedPids: [...supported].sort((a, b) => a - b).map(hex2) },
  });
}

/** One line of evidence per request: `03 -> 7E8 04 43 01 01 33`, bounded. */
function transcript(exchanges: readonly ElmExchange[]): string {
  // Linear on any input: cut first, then lines trimmed and joined (no backtracking regex over the reply).
  const compact = (text: string): string =>
    text.slice(0, MAX_EVIDENCE).split(/[\r\n]/).map((l) => l.replace(/[^\x20-\x7e]/g, '').trim()).filter((l) => l !== '').join(' | ') || '(empty)';
  const parts = exchanges.map((x) => `${x.request} -> ${compact(x.text)}`);
  const s = parts.join('; ');
  return s.length > MAX_EVIDENCE ? `${s.slice(0, MAX_EVIDENCE)}...` : s;
}

/** Why a request got no positive reply: a negative response, the ELM's status text, or nothing. */
function whyNot(x: ElmExchange, mode: number): string {
  const neg = x.reply.messages.find((m) => m.data[0] === 0x7f && m.data[1] === mode);
  if (neg) {
    const code = neg.data[2];
    return `negative response 7F ${hex2(mode)} ${code === undefined ? '' : `${hex2(code)}${NRC[code] ? ` (${NRC[code]})` : ''}`}${neg.ecu ? ` from ${neg.ecu}` : ''}`.trim();
  }
  const failed = x.reply.statuses.filter((s) => FAILURES.has(s.kind)).map((s) => s.text);
  if (failed.length) return [...new Set(failed)].join(', ').slice(0, 120);
  if (x.reply.invalid.length) return `invalid frames only (${x.reply.invalid[0]!.reason})`;
  return `no mode ${hex2(mode + 0x40)} reply`;
}

const positive = (x: ElmExchange | undefined, mode: number): ObdMessage[] => x?.reply.messages.filter((m) => m.data[0] === mode + 0x40) ?? [];

/** DTCs of every ECU that answered `x` (mode 03 or 07), sorted; undefined when none decodes. */
function dtcsOfReply(x: ElmExchange | undefined, mode: number): { dtcs?: string[]; error?: string } {
  const dtcs = new Set<string>();
  let answered = false;
  let error: string | undefined;
  for (const m of positive(x, mode)) {
    try {
      for (const d of decodeDtcs(m.data).dtcs) dtcs.add(d);
      answered = true;
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      error ??= e.message;
    }
  }
  return answered ? { dtcs: [...dtcs].sort() } : { error };
}

/**
 * Pure: what the car's replies to an action's requests say. DELIVERED with the decoded output (readDtcs
 * `{dtcs, dtcCount, pendingDtcs?}`, readDiagnosticCodes `[...]`, clearDtcs `{cleared: true, ecus}`, readVin `{vin}`,
 * pollPid `{pid, name, value, unit}` / `{pid, supported}` / `{pid, bytes}`), else FAILED naming why.
 */
export function outcomeOf(action: string, input: unknown, exchanges: readonly ElmExchange[]): ObdOutcome {
  const said = transcript(exchanges);
  const fail = (why: string): ObdOutcome => ({ status: 'FAILED', evidence: `${why.slice(0, 200)} (${said})` });
  const ok = (output: unknown): ObdOutcome => ({ status: 'DELIVERED', evidence: `ELM327 replied: ${said}`, output });
  const [first, second] = exchanges;
  if (!first) return fail('no reply');
  switch (action) {
    case 'readDtcs':
    case 'readDiagnosticCodes': {
      const stored = dtcsOfReply(first, 0x03);
      if (!stored.dtcs) return fail(stored.error ?? whyNot(first, 0x03));
      if (action === 'readDiagnosticCodes') return ok(stored.dtcs);
      // Mode 07 is optional (older ECUs answer NO DATA): the stored codes are the answer, pending ones when given.
      const pending = dtcsOfReply(second, 0x07);
      return ok({ dtcs: stored.dtcs, dtcCount: stored.dtcs.length, ...(pending.dtcs ? { pendingDtcs: pending.dtcs } : {}) });
    }
    case 'clearDtcs': {
      const acks = positive(first, 0x04);
      if (!acks.length) return fail(whyNot(first, 0x04));
      return ok({ cleared: true, ecus: acks.map((m) => m.ecu).filter((e): e is string => e !== undefined) });
    }
    case 'readVin': {
      let error: string | undefined;
      for (const m of first.reply.messages) {
        if (m.data[0] !== 0x49 || m.data[1] !== 0x02) continue;
        try {
          return ok({ vin: decodeVin(m.data) });
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          error ??= e.message;
        }
      }
      return fail(error ?? whyNot(first, 0x09));
    }
    case 'pollPid': {
      const pid = pidOf(isObject(input) ? input.pid : undefined);
      if (pid === undefined) return fail('no PID in the input');
      let error: string | undefined;
      // Several ECUs may answer; the engine (lowest CAN id, first after parsing) that decodes wins.
      for (const m of positive(first, 0x01)) {
        if (m.data[1] !== pid) continue;
        try {
          const r = decodeMode01(m.data);
          if ('supported' in r) return ok({ pid: hex2(pid), supported: r.supported.map(hex2) });
          return ok({ pid: hex2(pid), name: r.name, value: round(r.value), unit: r.unit });
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          // A PID the hub has no formula for is answered with its data bytes.
          if (e.code === 'obd-unknown-pid' && !BITMAP_PIDS.includes(pid)) return ok({ pid: hex2(pid), bytes: [...m.data.subarray(2)].map(hex2).join('') });
          error ??= e.message;
        }
      }
      return fail(error ?? whyNot(first, 0x01));
    }
    default:
      return fail(`'${action.slice(0, 64)}' is not an OBD-II action`);
  }
}

/** `written` is set by Elm327Session.exchange on its rejections. */
const wasWritten = (e: unknown): boolean => (e as { written?: boolean } | undefined)?.written === true;

/**
 * The `obd` push adapter: serves `vin` interfaces whose deviceDefinitions name an ELM327, ready while the vehicle's
 * session is connected and initialised, and reports each reply with `report` (DownlinkService.evidence).
 */
export function obdDownlinkAdapter(slot: ObdSessionSlot, report: ObdReport): DownlinkAdapter {
  const sessionOf = (route: DownlinkRoute): Elm327Session | undefined => slot.session?.(route.thingId);
  return {
    binding: 'obd',
    mode: 'push',
    serves: (route) => route.keyType === 'vin' && isObject(route.deviceDefinitions.elm327),
    ready: (route) => sessionOf(route)?.ready === true,
    validate: (action, input, route) => validateObdInput(action, input, sessionOf(route)?.supported),
    send(command: CommandRecord, route: DownlinkRoute): Promise<SendReceipt> {
      const session = sessionOf(route);
      if (!session?.ready) return Promise.reject(new ServiceUnavailableError(`The ELM327 session of '${route.thingId}' is not connected`, {}, 'obd-not-connected'));
      let cmds: string[];
      try {
        validateObdInput(command.action, command.input, session.supported);
        cmds = requestsOf(command.action, command.input);
      } catch (e) {
        return Promise.reject(e);
      }
      const remote = `${session.config.host}:${session.config.port}`;
      return new Promise<SendReceipt>((resolve, reject) => {
        let written = false;
        // The queue sets SENT when send() resolves: a reply is applied only after that (a later macrotask).
        const settle = (status: CommandStatus, evidence: string, retryable: boolean, output?: unknown): void => {
          setImmediate(() => {
            report(command, status, evidence, retryable, output).catch(() => {});
          });
        };
        session
          .exchange(cmds, () => {
            written = true;
            resolve({ evidence: `wrote ${cmds.join(' then ')} to the ELM327 at ${remote}` });
          })
          .then(
            (exchanges) => {
              const o = outcomeOf(command.action, command.input, exchanges);
              settle(o.status, o.evidence, false, o.output);
            },
            (e: unknown) => {
              const why = e instanceof Error ? e.message : String(e);
              if (!written && !wasWritten(e)) return reject(new ServiceUnavailableError(`not written: ${why}`, {}, 'obd-not-connected'));
              // A timeout or a lost connection after the request went out: the retry policy may try again.
              settle('FAILED', `${cmds.join(' then ')}: ${why}`.slice(0, MAX_EVIDENCE), true);
            },
          );
      });
    },
  };
}
