// Sigfox sequence numbers per device (12 bits on the radio, rollover at 4096): replayed and stale callbacks refused,
// the backend's retries and per-base-station copies (same seqNumber, same time) let through to the pipeline's dedup.
import { HubError } from '../../errors.ts';
import { SessionState } from '../lorawan/session-state.ts';

/** Sigfox's sequence number ring: 0..4095, then 0 again. */
export const SIGFOX_SEQUENCE_RING = 4096;
/** A number further ahead than this from the last one is taken as behind it (half the ring). */
export const MAX_SEQUENCE_GAP = SIGFOX_SEQUENCE_RING / 2 - 1;
/** The callback time is kept modulo 2^20 s (~12 days) next to the 12-bit number: one 32-bit value per device. */
const TIME_RING = 2 ** 20;

export class SequenceError extends HubError {
  override name = 'SequenceError';
  constructor(device: string, readonly reason: 'replay' | 'stale', sequence: number, last: number) {
    super(409, `sigfox-sequence-${reason}`, `seqNumber ${sequence} from Sigfox device ${device} is ${reason === 'replay' ? 'a replay' : 'stale'} (last accepted ${last})`, {
      extensions: { sequence, lastSequence: last },
    });
  }
}

export type SequenceVerdict = { ok: true } | { ok: false; reason: 'replay' | 'stale'; last: number };

/**
 * Judges a sequence number against the last accepted one of the device (pure): the same number at the same callback
 * time is a copy (retry, duplicates of other base stations) and passes; the same number at another time is a replay;
 * up to MAX_SEQUENCE_GAP ahead (modulo 4096) is new, anything else is stale. `time` is epoch seconds, when known.
 */
export function judgeSequence(sequence: number, time: number | undefined, last: { sequence: number; time?: number } | undefined, maxGap = MAX_SEQUENCE_GAP): SequenceVerdict {
  if (!last) return { ok: true };
  const ahead = (((sequence - last.sequence) % SIGFOX_SEQUENCE_RING) + SIGFOX_SEQUENCE_RING) % SIGFOX_SEQUENCE_RING;
  if (ahead === 0) {
    const sameTime = time === undefined || last.time === undefined || time % TIME_RING === last.time % TIME_RING;
    return sameTime ? { ok: true } : { ok: false, reason: 'replay', last: last.sequence };
  }
  return ahead <= maxGap ? { ok: true } : { ok: false, reason: 'stale', last: last.sequence };
}

/**
 * The last accepted sequence number (and callback time) per Sigfox device, bounded and persisted through the LoRaWAN
 * SessionState file format under <dataDir>/sigfox/ (value = time mod 2^20 * 4096 + sequence), so that a restarted
 * hub refuses replays too. Devices without a time in their callbacks are kept with time 0 (then only numbers count).
 */
export class SigfoxSequences {
  private readonly state: SessionState;
  private readonly untimed = new Set<string>();

  constructor(options: { dir?: string; maxDevices?: number; onError?: (e: unknown) => void } = {}) {
    try {
      this.state = new SessionState({ dir: options.dir, maxSessions: options.maxDevices, onError: options.onError });
    } catch (e) {
      // An unwritable directory: sequence numbers are still checked, in memory only.
      options.onError?.(e);
      this.state = new SessionState({ maxSessions: options.maxDevices });
    }
  }

  last(device: string): { sequence: number; time?: number } | undefined {
    const v = this.state.get(device);
    if (v === undefined) return undefined;
    return { sequence: v % SIGFOX_SEQUENCE_RING, ...(this.untimed.has(device) ? {} : { time: Math.floor(v / SIGFOX_SEQUENCE_RING) }) };
  }

  /** Throws SequenceError when the number is a replay or stale for this device (sequence 0..4095 as Sigfox sends it). */
  check(device: string, sequence: number, time: number | undefined, maxGap?: number): void {
    const verdict = judgeSequence(sequence % SIGFOX_SEQUENCE_RING, time, this.last(device), maxGap);
    if (!verdict.ok) throw new SequenceError(device, verdict.reason, sequence, verdict.last);
  }

  /** Records an accepted number (call after the pipeline took the frame, so unknown devices leave no state). */
  accept(device: string, sequence: number, time: number | undefined): void {
    const known = this.last(device);
    // A copy of the last message (same number) must not move the state backwards or forwards.
    if (known && known.sequence === sequence % SIGFOX_SEQUENCE_RING) return;
    if (time === undefined) this.untimed.add(device);
    else this.untimed.delete(device);
    this.state.set(device, ((time ?? 0) % TIME_RING) * SIGFOX_SEQUENCE_RING + (sequence % SIGFOX_SEQUENCE_RING));
  }

  get size(): number {
    return this.state.size;
  }

  close(): Promise<void> {
    return this.state.close();
  }
}
