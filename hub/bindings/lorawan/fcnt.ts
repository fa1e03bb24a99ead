// 32-bit LoRaWAN frame counters from the 16 bits on the wire (rollover), replay and stale-frame checks (LoRaWAN 1.0.x §4.3.1.5).

/** LoRaWAN 1.0's MAX_FCNT_GAP: a counter further ahead than this from the last one seen is not accepted. */
export const MAX_FCNT_GAP = 16384;

export type FCntVerdict =
  | { ok: true; fCnt: number }
  /** The same counter again (a replay, or a copy from a gateway heard after the deduplication window). */
  | { ok: false; reason: 'replay'; fCnt: number }
  /** Behind the last counter, or too far ahead to be the next frame (MAX_FCNT_GAP). */
  | { ok: false; reason: 'stale'; fCnt: number };

/**
 * The 32-bit FCnt a 16-bit wire value stands for, given the last accepted 32-bit counter (undefined: none yet, the
 * first frame of a session). A wire value at or below the last one's low half is taken as the next rollover, then
 * judged by the gap. Pure.
 */
export function reconstructFCnt(fCnt16: number, last: number | undefined, maxGap = MAX_FCNT_GAP): FCntVerdict {
  if (last === undefined) return { ok: true, fCnt: fCnt16 };
  const high = last - (last % 0x10000);
  const low = last % 0x10000;
  if (fCnt16 === low) return { ok: false, reason: 'replay', fCnt: last };
  const candidate = fCnt16 > low ? high + fCnt16 : high + 0x10000 + fCnt16;
  if (candidate > 0xffffffff || candidate - last > maxGap) return { ok: false, reason: 'stale', fCnt: fCnt16 > low ? candidate : high + fCnt16 };
  return { ok: true, fCnt: candidate };
}
