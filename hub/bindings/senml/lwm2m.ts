// Hand-rolled LwM2M 1.0 payloads (OMA-TS-LightweightM2M V1.0 §6.4.3 TLV and §6.4.4 OMA JSON), the formats LwM2M devices
// used before SenML: `lwm2m-tlv` and `lwm2m-json` codecs. Values are typed by the IPSO reusable resource table below.
import { DecodeError } from '../../errors.ts';
import type { CodecContext, PayloadCodec } from '../types.ts';

type ResourceType = 'float' | 'integer' | 'string' | 'boolean' | 'time' | 'opaque';

/** IPSO reusable resources (OMA LwM2M registry, 5xxx): name (as lwm2m-id spells it) and type. */
export const IPSO_RESOURCES: ReadonlyMap<number, { name: string; type: ResourceType }> = new Map([
  [5500, { name: 'dInState', type: 'boolean' as const }],
  [5501, { name: 'counter', type: 'integer' as const }],
  [5518, { name: 'timestamp', type: 'time' as const }],
  [5601, { name: 'minMeaValue', type: 'float' as const }],
  [5602, { name: 'maxMeaValue', type: 'float' as const }],
  [5603, { name: 'minRangeValue', type: 'float' as const }],
  [5604, { name: 'maxRangeValue', type: 'float' as const }],
  [5700, { name: 'sensorValue', type: 'float' as const }],
  [5701, { name: 'units', type: 'string' as const }],
  [5702, { name: 'xValue', type: 'float' as const }],
  [5703, { name: 'yValue', type: 'float' as const }],
  [5704, { name: 'zValue', type: 'float' as const }],
  [5705, { name: 'compassDir', type: 'float' as const }],
  [5750, { name: 'appType', type: 'string' as const }],
  [5800, { name: 'instActivePwr', type: 'float' as const }],
  [5805, { name: 'cumulActivePwr', type: 'float' as const }],
  [5820, { name: 'currentCalib', type: 'string' as const }],
  [5821, { name: 'currCalib', type: 'float' as const }],
  [5850, { name: 'onOff', type: 'boolean' as const }],
  [5851, { name: 'dimmer', type: 'integer' as const }],
]);

function typed(id: number, value: Uint8Array, at: number): unknown {
  const type = IPSO_RESOURCES.get(id)?.type ?? 'opaque';
  const view = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const bad = () => {
    throw new DecodeError(`resource ${id}: ${value.length} bytes is not a ${type}`, { offset: at, field: String(id) }, 'lwm2m-invalid');
  };
  switch (type) {
    case 'float':
      if (value.length === 4) return view.readFloatBE(0);
      if (value.length === 8) return view.readDoubleBE(0);
      return bad();
    case 'integer':
    case 'time':
      if (value.length === 1) return view.readInt8(0);
      if (value.length === 2) return view.readInt16BE(0);
      if (value.length === 4) return view.readInt32BE(0);
      if (value.length === 8) return Number(view.readBigInt64BE(0));
      return bad();
    case 'boolean':
      if (value.length === 1 && value[0]! <= 1) return value[0] === 1;
      return bad();
    case 'string':
      try {
        return new TextDecoder('utf-8', { fatal: true }).decode(value);
      } catch {
        return bad();
      }
    default:
      return view.toString('hex');
  }
}

interface Tlv {
  kind: 'instance' | 'resourceInstance' | 'multiple' | 'resource';
  id: number;
  value: Uint8Array;
  at: number;
}

const KINDS = ['instance', 'resourceInstance', 'multiple', 'resource'] as const;

function readTlvs(b: Uint8Array, base = 0, depth = 0): Tlv[] {
  if (depth > 3) throw new DecodeError('TLV nested deeper than object instance / resource / instance', { offset: base }, 'lwm2m-invalid');
  const out: Tlv[] = [];
  let i = 0;
  while (i < b.length) {
    const at = base + i;
    const h = b[i]!;
    const idLen = h & 0x20 ? 2 : 1;
    const lenType = (h >> 3) & 0x03;
    const headerLen = 1 + idLen + lenType;
    if (i + headerLen > b.length) throw new DecodeError('TLV header cut short', { offset: at, field: 'tlv' }, 'lwm2m-truncated');
    const id = idLen === 2 ? (b[i + 1]! << 8) | b[i + 2]! : b[i + 1]!;
    let len = h & 0x07;
    if (lenType > 0) {
      len = 0;
      for (let k = 0; k < lenType; k++) len = len * 256 + b[i + 1 + idLen + k]!;
    }
    const start = i + headerLen;
    if (start + len > b.length) throw new DecodeError(`TLV value of ${len} bytes runs past the end`, { offset: at, field: String(id) }, 'lwm2m-truncated');
    out.push({ kind: KINDS[h >> 6]!, id, value: b.subarray(start, start + len), at: base + start });
    i = start + len;
  }
  return out;
}

function resourcesOf(tlvs: Tlv[], depth: number): Record<string, unknown> {
  const byId: Record<string, unknown> = {};
  for (const t of tlvs) {
    if (t.kind === 'resource') byId[t.id] = typed(t.id, t.value, t.at);
    else if (t.kind === 'multiple') {
      const inst: Record<string, unknown> = {};
      for (const r of readTlvs(t.value, t.at, depth + 1)) {
        if (r.kind !== 'resourceInstance') throw new DecodeError('a multiple resource holds resource instances', { offset: r.at }, 'lwm2m-invalid');
        inst[r.id] = typed(t.id, r.value, r.at);
      }
      byId[t.id] = inst;
    } else throw new DecodeError(`unexpected ${t.kind} TLV`, { offset: t.at }, 'lwm2m-invalid');
  }
  return byId;
}

/** Decoded fields: IPSO names for known resources, `byId` for all; several object instances under `instances`. */
function fields(byId: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [id, v] of Object.entries(byId)) {
    const name = IPSO_RESOURCES.get(Number(id))?.name;
    if (name) out[name] = v;
  }
  return { ...out, byId };
}

/** Decodes an LwM2M TLV payload (object instances, or resources of one instance). */
export function decodeLwm2mTlv(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length > 64 * 1024) throw new DecodeError('LwM2M TLV over 64 KiB', { offset: 65536 }, 'lwm2m-too-large');
  const top = readTlvs(bytes);
  if (top.length > 0 && top.every((t) => t.kind === 'instance')) {
    if (top.length === 1) return fields(resourcesOf(readTlvs(top[0]!.value, top[0]!.at, 1), 1));
    return { instances: Object.fromEntries(top.map((t) => [t.id, fields(resourcesOf(readTlvs(t.value, t.at, 1), 1))])) };
  }
  return fields(resourcesOf(top, 0));
}

/** Decodes the LwM2M 1.0 OMA JSON format (application/vnd.oma.lwm2m+json: bn + e[] with n, v/sv/bv/ov, t). */
export function decodeLwm2mJson(bytes: Uint8Array): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (e) {
    const m = /position (\d+)/.exec(String((e as Error).message));
    throw new DecodeError('LwM2M JSON does not parse', { offset: m ? Number(m[1]) : 0 }, 'lwm2m-syntax');
  }
  const d = doc as { bn?: unknown; e?: unknown };
  if (d === null || typeof d !== 'object' || !Array.isArray(d.e)) throw new DecodeError('LwM2M JSON is {"bn", "e": [...]}', { field: 'e' }, 'lwm2m-invalid');
  const bn = typeof d.bn === 'string' ? d.bn : '';
  const byId: Record<string, unknown> = {};
  d.e.slice(0, 4096).forEach((entry: unknown, i: number) => {
    const r = entry as Record<string, unknown>;
    if (r === null || typeof r !== 'object') throw new DecodeError('an entry is an object', { field: `e[${i}]` }, 'lwm2m-invalid');
    const path = `${bn}${typeof r.n === 'string' ? r.n : ''}`.split('/').filter(Boolean);
    const value = r.v ?? r.sv ?? r.bv ?? r.ov;
    const ok = (typeof r.v === 'number' && Number.isFinite(r.v)) || typeof r.sv === 'string' || typeof r.bv === 'boolean' || typeof r.ov === 'string';
    if (!ok || path.length < 1 || !path.every((p) => /^\d{1,5}$/.test(p))) throw new DecodeError('an entry needs a numeric path and one of v, sv, bv, ov', { field: `e[${i}]` }, 'lwm2m-invalid');
    // Path /object/instance/resource[/resourceInstance]: the resource id is the third segment.
    const resource = path.length >= 3 ? path[2]! : path[path.length - 1]!;
    if (path.length >= 4) byId[resource] = { ...(byId[resource] as object | undefined), [path[3]!]: value };
    else byId[resource] = value;
  });
  return fields(byId);
}

export const lwm2mTlvCodec: PayloadCodec = {
  name: 'lwm2m-tlv',
  decode: (bytes: Uint8Array, _context: CodecContext) => decodeLwm2mTlv(bytes),
};

export const lwm2mJsonCodec: PayloadCodec = {
  name: 'lwm2m-json',
  decode: (bytes: Uint8Array, _context: CodecContext) => decodeLwm2mJson(bytes),
};
