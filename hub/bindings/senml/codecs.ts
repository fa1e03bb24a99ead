// SenML payload codecs (RFC 8428): `senml-json` (application/senml+json) and `senml-cbor` (application/senml+cbor, labels
// as integers, decoded with cbor-x). Pure; errors are DecodeErrors with the byte offset (syntax) or the record field.
import { Decoder } from 'cbor-x';
import { DecodeError } from '../../errors.ts';
import type { CodecContext, PayloadCodec } from '../types.ts';
import { resolvePack, senmlFields, type RawRecord, type SenmlRecord } from './resolve.ts';

/** Payload bytes accepted (LPWAN payloads are small; CoAP block-wise transfers of SenML stay far below). */
export const MAX_SENML_BYTES = 64 * 1024;

/** RFC 8428 §6 Table 4: CBOR labels. */
export const CBOR_LABELS: Readonly<Record<string, string>> = {
  '-1': 'bver', '-2': 'bn', '-3': 'bt', '-4': 'bu', '-5': 'bv', '-6': 'bs',
  '0': 'n', '1': 'u', '2': 'v', '3': 'vs', '4': 'vb', '5': 's', '6': 't', '7': 'ut', '8': 'vd',
};

function checkSize(bytes: Uint8Array): void {
  if (bytes.length > MAX_SENML_BYTES) throw new DecodeError(`SenML payload over ${MAX_SENML_BYTES} bytes`, { offset: MAX_SENML_BYTES }, 'senml-too-large');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses and resolves a SenML JSON pack. */
export function decodeSenmlJson(bytes: Uint8Array): SenmlRecord[] {
  checkSize(bytes);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new DecodeError('SenML JSON is not UTF-8', { offset: 0 }, 'senml-syntax');
  }
  let pack: unknown;
  try {
    pack = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    throw new DecodeError(`SenML JSON does not parse: ${(e as Error).message}`, { offset: m ? Number(m[1]) : undefined }, 'senml-syntax');
  }
  return resolvePack(pack);
}

const cbor = new Decoder({ useRecords: false, mapsAsObjects: true });

/** Parses and resolves a SenML CBOR pack (integer labels; text labels are accepted too, RFC 8428 §6). */
export function decodeSenmlCbor(bytes: Uint8Array): SenmlRecord[] {
  checkSize(bytes);
  let pack: unknown;
  try {
    pack = cbor.decode(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    // cbor-x does not say where it stopped, except that the input ended early.
    const incomplete = (e as { incomplete?: boolean }).incomplete === true;
    throw new DecodeError(`SenML CBOR does not decode: ${(e as Error).message}`, { offset: incomplete ? bytes.length : undefined }, 'senml-syntax');
  }
  if (!Array.isArray(pack)) throw new DecodeError('a SenML pack is an array of records', { offset: 0, field: 'pack' }, 'senml-invalid');
  const relabelled = pack.map((r): unknown => {
    if (r === null || typeof r !== 'object' || Array.isArray(r) || r instanceof Uint8Array) return r;
    // A map tagged 259 (cbor-x's own encoder does that) decodes as a Map; an untagged one as an object.
    const entries = r instanceof Map ? [...(r as Map<unknown, unknown>).entries()].map(([k, v]) => [String(k), v] as const) : Object.entries(r as Record<string, unknown>);
    const out: RawRecord = {};
    for (const [k, v] of entries) out[CBOR_LABELS[k] ?? k] = v;
    return out;
  });
  return resolvePack(relabelled);
}

export const senmlJsonCodec: PayloadCodec = {
  name: 'senml-json',
  decode(bytes: Uint8Array, _context: CodecContext) {
    return senmlFields(decodeSenmlJson(bytes));
  },
};

export const senmlCborCodec: PayloadCodec = {
  name: 'senml-cbor',
  decode(bytes: Uint8Array, _context: CodecContext) {
    return senmlFields(decodeSenmlCbor(bytes));
  },
};
