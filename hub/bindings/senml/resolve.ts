// SenML (RFC 8428) pack resolution: base name/time/unit/value/sum applied record by record, checked field types and names,
// shared by the JSON and CBOR representations (which differ only in labels and in `vd` being bytes or base64url).
import { DecodeError } from '../../errors.ts';

/** A resolved SenML record (RFC 8428 §4.6): absolute name, base values folded in. */
export interface SenmlRecord {
  n: string;
  u?: string;
  v?: number;
  vs?: string;
  vb?: boolean;
  /** Data value as base64url without padding (RFC 8428 §5; the CBOR form's bytes are converted to it). */
  vd?: string;
  s?: number;
  /** bt + t when either was given. Values below 2^28 are relative to the receiver's "now" (the codec has no clock). */
  t?: number;
  ut?: number;
}

/** Records a pack may hold (a LoRaWAN or CoAP payload holds a few dozen at most; bound for untrusted input). */
export const MAX_RECORDS = 4096;
// RFC 8428 §4.5.1 names, plus the LwM2M 1.1 SenML form (OMA-TS-LightweightM2M_Core 7.4.4), whose names are object
// paths that start with '/' and a digit ("bn": "/3303/0/"): LwM2M devices send them (the SCHC worked example does).
const NAME = /^(?:[A-Za-z0-9]|\/[0-9])[A-Za-z0-9\-:./_]*$/;
const KNOWN = new Set(['bn', 'bt', 'bu', 'bv', 'bs', 'bver', 'n', 'u', 'v', 'vs', 'vb', 'vd', 's', 't', 'ut']);

/** JSON-label record with vd as a string or bytes, as the representations deliver it. */
export type RawRecord = Record<string, unknown>;

function fail(message: string, index: number, field: string, code = 'senml-invalid'): never {
  throw new DecodeError(message, { field: `[${index}].${field}` }, code);
}

function num(r: RawRecord, key: string, i: number): number | undefined {
  const x = r[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'number' || !Number.isFinite(x)) fail(`${key} must be a finite number`, i, key);
  return x;
}

function str(r: RawRecord, key: string, i: number): string | undefined {
  const x = r[key];
  if (x === undefined) return undefined;
  if (typeof x !== 'string') fail(`${key} must be a string`, i, key);
  return x;
}

/** base64url (RFC 4648 §5) without padding from bytes. */
export function toBase64Url(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}

/**
 * Resolves a pack (RFC 8428 §4.6). Records with neither a value nor a sum (e.g. base-only records) yield nothing.
 * Unknown labels ending in `_` must be understood (§4.4), so they fail the pack; other unknown labels are ignored.
 */
export function resolvePack(pack: unknown): SenmlRecord[] {
  if (!Array.isArray(pack)) throw new DecodeError('a SenML pack is an array of records', { offset: 0, field: 'pack' }, 'senml-invalid');
  if (pack.length > MAX_RECORDS) throw new DecodeError(`a SenML pack of more than ${MAX_RECORDS} records`, { field: 'pack' }, 'senml-too-large');
  const out: SenmlRecord[] = [];
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  let bs = 0;
  let hasBt = false;
  for (let i = 0; i < pack.length; i++) {
    const r = pack[i] as RawRecord;
    if (r === null || typeof r !== 'object' || Array.isArray(r) || r instanceof Uint8Array) fail('a SenML record is an object', i, '');
    for (const key of Object.keys(r)) {
      if (!KNOWN.has(key) && key.endsWith('_')) fail(`unknown must-understand label ${key}`, i, key, 'senml-unsupported');
    }
    const bver = num(r, 'bver', i);
    if (bver !== undefined && (!Number.isInteger(bver) || bver < 1 || bver > 10)) fail('bver must be a version from 1 to 10', i, 'bver', 'senml-unsupported');
    const rbn = str(r, 'bn', i);
    if (rbn !== undefined) bn = rbn;
    const rbt = num(r, 'bt', i);
    if (rbt !== undefined) {
      bt = rbt;
      hasBt = true;
    }
    const rbu = str(r, 'bu', i);
    if (rbu !== undefined) bu = rbu;
    const rbv = num(r, 'bv', i);
    if (rbv !== undefined) bv = rbv;
    const rbs = num(r, 'bs', i);
    if (rbs !== undefined) bs = rbs;

    const v = num(r, 'v', i);
    const vs = str(r, 'vs', i);
    const vd = r.vd;
    const vb = r.vb;
    if (vb !== undefined && typeof vb !== 'boolean') fail('vb must be a boolean', i, 'vb');
    let vdText: string | undefined;
    if (vd !== undefined) {
      if (vd instanceof Uint8Array) vdText = toBase64Url(vd);
      else if (typeof vd === 'string' && /^[A-Za-z0-9_-]*={0,2}$/.test(vd)) vdText = vd.replace(/=+$/, '');
      else fail('vd must be base64url data', i, 'vd');
    }
    const s = num(r, 's', i);
    const values = [v, vs, vb, vdText].filter((x) => x !== undefined).length;
    if (values > 1) fail('a record carries at most one of v, vs, vb, vd', i, 'v');
    if (values === 0 && s === undefined) continue;

    const name = bn + (str(r, 'n', i) ?? '');
    if (name.length === 0 || name.length > 1024 || !NAME.test(name)) fail(`invalid SenML name "${name.slice(0, 64)}"`, i, 'n');
    const rec: SenmlRecord = { n: name };
    const u = str(r, 'u', i) ?? bu;
    if (u !== undefined) rec.u = u;
    if (v !== undefined) rec.v = bv + v;
    else if (vs !== undefined) rec.vs = vs;
    else if (vb !== undefined) rec.vb = vb as boolean;
    else if (vdText !== undefined) rec.vd = vdText;
    if (s !== undefined) rec.s = bs + s;
    const t = num(r, 't', i);
    if (t !== undefined || hasBt) rec.t = bt + (t ?? 0);
    const ut = num(r, 'ut', i);
    if (ut !== undefined) rec.ut = ut;
    out.push(rec);
  }
  return out;
}

/**
 * Decoded fields from resolved records: `records` (every record, in order, for time series) and `values` (the last value
 * of each name, for live state: v, vs, vb or vd, else the sum).
 */
export function senmlFields(records: SenmlRecord[]): { records: SenmlRecord[]; values: Record<string, unknown> } {
  const values: Record<string, unknown> = {};
  for (const r of records) values[r.n] = r.v ?? r.vs ?? r.vb ?? r.vd ?? r.s;
  return { records, values };
}
