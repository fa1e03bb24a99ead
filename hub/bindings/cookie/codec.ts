// Cookie message codec (JSON map, vector and NUL-framed serial forms), hand-rolled: no public code of the format exists (see COOKIE.md).
//
// Serial grammar (COOKIE.md): `device:sensor:type:action:seq#item:item...` + NUL on a stream. An item is an atom or a
// `{...}` group (nested object or vector). In atoms `\:`, `\{`, `\}`, `\#`, `\\` stand for themselves and `\0` for NUL
// (the hub's choice: a raw NUL after a backslash would end the frame on the stream). An empty atom is an absent value.
// The type's definition (its example JSON message) fixes the order of the values and gives their JSON types back.
import { DecodeError } from '../../errors.ts';

export type CookieAction = 'data' | 'get' | 'set' | 'ack' | 'err';
export const ACTIONS: readonly CookieAction[] = ['data', 'get', 'set', 'ack', 'err'];

/** How one value of a type is written and read back. */
export type FieldDef =
  | { name: string; kind: 'string' | 'number' | 'integer' | 'boolean' | 'time' }
  | { name: string; kind: 'vector'; items: FieldDef; maxItems?: number }
  | { name: string; kind: 'object'; fields: FieldDef[] };

export interface TypeDef {
  /** The sensor id the type belongs to (1 = the device itself), when fixed. */
  sensor?: number;
  fields: FieldDef[];
}

/** One Cookie message in JSON form; `payload` keys in definition order, absent values left out. */
export interface CookieMessage {
  device: string;
  sensor: number;
  type: string;
  action: CookieAction;
  seq: number;
  payload: Record<string, unknown>;
}

/** A composite message: messages of several sensors of one device in one body (`sensor: "*"`, `type: "composite"`). */
export interface CookieComposite {
  device: string;
  sensor: '*';
  type: 'composite';
  action: CookieAction;
  seq: number;
  payload: Array<{ sensor: number; type: string; payload: Record<string, unknown> }>;
}

export type AnyCookieMessage = CookieMessage | CookieComposite;

const num = (name: string): FieldDef => ({ name, kind: 'number' });
const int = (name: string): FieldDef => ({ name, kind: 'integer' });
const str = (name: string): FieldDef => ({ name, kind: 'string' });

/** The types of COOKIE.md ("Types from the paper") plus the gateway's interface map. */
export const COOKIE_TYPES: Readonly<Record<string, TypeDef>> = {
  'bt-detection': { sensor: 2, fields: [{ name: 'time', kind: 'time' }, str('mac'), str('diac'), num('rssi')] },
  'radar-count': { sensor: 3, fields: [{ name: 'timestamp', kind: 'time' }, int('count'), { name: 'velocities', kind: 'vector', items: num('velocity'), maxItems: 10 }] },
  'weighted-travel-time': { fields: [int('minute'), str('link'), num('interval'), num('travelTime'), num('ci'), int('vehicles')] },
  'bt-config': { sensor: 2, fields: [num('inquiryWindow'), num('inquiryTriggerInterval'), num('txPower'), num('detectionDelay')] },
  'radar-config': { sensor: 3, fields: [str('vehicleDirection'), num('noiseThreshold'), { name: 'ledNotification', kind: 'boolean' }] },
  'device-status': { sensor: 1, fields: [num('battery'), str('firmware'), { name: 'sensors', kind: 'vector', items: int('sensor'), maxItems: 32 }] },
  // The hub's: a gateway's control sensor reports which of its interfaces carries which devices.
  'gateway-map': {
    sensor: 1,
    fields: [{ name: 'interfaces', kind: 'vector', maxItems: 32, items: { name: 'interface', kind: 'object', fields: [str('name'), { name: 'devices', kind: 'vector', items: str('device'), maxItems: 256 }] } }],
  },
};

/** Bounds on one message (a frame longer than this is refused before parsing). */
export const MAX_FRAME_BYTES = 8192;
const MAX_DEPTH = 8;
const MAX_ITEMS = 1024;
const MAX_ATOM = 1024;
export const DEVICE_ID = /^[A-Za-z0-9._~-]{1,64}$/;
const TYPE_NAME = /^[a-z][a-z0-9-]{0,63}$/;
const NUMBER = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const MAX_SEQ = 0xffff_ffff;
const MAX_SENSOR = 0xffff;

const err = (message: string, field: string, offset: number | undefined, code: string): DecodeError =>
  new DecodeError(message, offset === undefined ? { field } : { field, offset }, code);

// ---------------------------------------------------------------------------------------------------------------
// Serial form: text <-> item tree

/** A parsed body item: an atom (its text, unescaped) or a group; `at` is the character offset in the message. */
type Item = { atom: string; at: number } | { group: Item[]; at: number };

const SPECIAL = new Set([':', '{', '}', '#', '\\']);

export function escapeAtom(s: string): string {
  let out = '';
  for (const c of s) out += c === '\u0000' ? '\\0' : SPECIAL.has(c) ? `\\${c}` : c;
  return out;
}

/** Splits the header at unescaped ':' up to the first unescaped '#'. */
function parseItems(text: string, start: number, field: string): Item[] {
  const stack: Item[][] = [[]];
  const starts: number[] = [start];
  let atom = '';
  let atomAt = start;
  let pendingAtom = true; // an item is due (after ':' or '{' or at the start)
  let count = 0;
  const push = (item: Item): void => {
    if (++count > MAX_ITEMS) throw err(`More than ${MAX_ITEMS} items in the body`, field, item.at, 'cookie-too-many-items');
    stack[stack.length - 1]!.push(item);
  };
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) throw err('The message ends inside an escape', field, i, 'cookie-truncated');
      if (n === '0') atom += '\u0000';
      else if (SPECIAL.has(n)) atom += n;
      else throw err(`'\\${n}' is no escape (\\: \\{ \\} \\# \\\\ \\0)`, field, i, 'cookie-bad-escape');
      if (atom.length > MAX_ATOM) throw err(`A value longer than ${MAX_ATOM} characters`, field, atomAt, 'cookie-value-too-long');
      i++;
      continue;
    }
    if (c === '{') {
      if (atom !== '' || !pendingAtom) throw err("'{' inside a value", field, i, 'cookie-syntax');
      if (stack.length > MAX_DEPTH) throw err(`Groups nested deeper than ${MAX_DEPTH}`, field, i, 'cookie-too-deep');
      stack.push([]);
      starts.push(i);
      pendingAtom = true;
      atomAt = i + 1;
      continue;
    }
    if (c === '}') {
      if (stack.length === 1) throw err("'}' without '{'", field, i, 'cookie-syntax');
      if (pendingAtom && (atom !== '' || stack[stack.length - 1]!.length > 0)) push({ atom, at: atomAt });
      atom = '';
      const group = stack.pop()!;
      push({ group, at: starts.pop()! });
      pendingAtom = false;
      continue;
    }
    if (c === ':') {
      if (pendingAtom) push({ atom, at: atomAt });
      atom = '';
      atomAt = i + 1;
      pendingAtom = true;
      continue;
    }
    if (c === '#' || c === '\u0000') throw err(`Unescaped '${c === '#' ? '#' : '\\0'}' in the body`, field, i, 'cookie-syntax');
    if (!pendingAtom) throw err('A value right after a group (missing ":")', field, i, 'cookie-syntax');
    atom += c;
    if (atom.length > MAX_ATOM) throw err(`A value longer than ${MAX_ATOM} characters`, field, atomAt, 'cookie-value-too-long');
  }
  if (stack.length > 1) throw err("The message ends inside a '{' group", field, starts[starts.length - 1], 'cookie-truncated');
  if (pendingAtom) push({ atom, at: atomAt });
  return stack[0]!;
}

function writeItems(items: Array<string | unknown[]>): string {
  return items.map((it) => (Array.isArray(it) ? `{${writeItems(it as Array<string | unknown[]>)}}` : escapeAtom(it))).join(':');
}

// ---------------------------------------------------------------------------------------------------------------
// Values <-> vector form (definition order; an absent value is "")

function valueToVector(def: FieldDef, v: unknown, path: string): string | unknown[] {
  if (v === undefined || v === null || v === '') return '';
  switch (def.kind) {
    case 'string':
      if (typeof v !== 'string') throw err(`${path} is not a string`, path, undefined, 'cookie-wrong-type');
      return v;
    case 'number':
    case 'integer':
      if (typeof v !== 'number' || !Number.isFinite(v) || (def.kind === 'integer' && !Number.isSafeInteger(v))) {
        throw err(`${path} is not ${def.kind === 'integer' ? 'an integer' : 'a finite number'}`, path, undefined, 'cookie-wrong-type');
      }
      return String(v);
    case 'boolean':
      if (typeof v !== 'boolean') throw err(`${path} is not a boolean`, path, undefined, 'cookie-wrong-type');
      return v ? 'true' : 'false';
    case 'time':
      if (typeof v === 'number' && Number.isFinite(v)) return String(v);
      if (typeof v === 'string') return v;
      throw err(`${path} is no time (ISO 8601 text or epoch seconds)`, path, undefined, 'cookie-wrong-type');
    case 'vector': {
      if (!Array.isArray(v)) throw err(`${path} is not a vector`, path, undefined, 'cookie-wrong-type');
      if (def.maxItems !== undefined && v.length > def.maxItems) throw err(`${path} has more than ${def.maxItems} items`, path, undefined, 'cookie-too-many-items');
      return v.map((x, i) => {
        if (x === undefined || x === null || x === '') throw err(`${path}[${i}] is empty (a vector item must be a value)`, `${path}[${i}]`, undefined, 'cookie-wrong-type');
        return valueToVector(def.items, x, `${path}[${i}]`);
      });
    }
    case 'object': {
      if (typeof v !== 'object' || Array.isArray(v)) throw err(`${path} is not an object`, path, undefined, 'cookie-wrong-type');
      return objectToVector(def.fields, v as Record<string, unknown>, path);
    }
  }
}

function objectToVector(fields: FieldDef[], obj: Record<string, unknown>, path: string): Array<string | unknown[]> {
  for (const k of Object.keys(obj)) {
    if (!fields.some((f) => f.name === k)) throw err(`${path}.${k} is not a value of the type`, `${path}.${k}`, undefined, 'cookie-unknown-field');
  }
  return fields.map((f) => valueToVector(f, obj[f.name], `${path}.${f.name}`));
}

/** A vector item back to its JSON value; undefined for an absent one. */
function vectorToValue(def: FieldDef, v: unknown, path: string, at?: number): unknown {
  if (def.kind === 'vector' || def.kind === 'object') {
    if (v === '') return undefined;
    if (!Array.isArray(v)) throw err(`${path} should be a {...} group`, path, at, 'cookie-wrong-type');
    if (def.kind === 'object') return vectorToObject(def.fields, v, path);
    if (def.maxItems !== undefined && v.length > def.maxItems) throw err(`${path} has more than ${def.maxItems} items`, path, at, 'cookie-too-many-items');
    return v.map((x, i) => {
      const val = vectorToValue(def.items, x, `${path}[${i}]`, at);
      if (val === undefined) throw err(`${path}[${i}] is empty`, `${path}[${i}]`, at, 'cookie-wrong-type');
      return val;
    });
  }
  if (Array.isArray(v)) throw err(`${path} should be a single value, not a group`, path, at, 'cookie-wrong-type');
  if (typeof v !== 'string') throw err(`${path} is not text`, path, at, 'cookie-wrong-type');
  if (v === '') return undefined;
  switch (def.kind) {
    case 'string':
      return v;
    case 'number':
    case 'integer': {
      const n = NUMBER.test(v) ? Number(v) : NaN;
      if (!Number.isFinite(n) || (def.kind === 'integer' && !Number.isSafeInteger(n))) {
        throw err(`${path} '${v.slice(0, 32)}' is not ${def.kind === 'integer' ? 'an integer' : 'a number'}`, path, at, 'cookie-wrong-type');
      }
      return n;
    }
    case 'boolean':
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw err(`${path} '${v.slice(0, 32)}' is not true/false`, path, at, 'cookie-wrong-type');
    case 'time':
      return NUMBER.test(v) && Number.isFinite(Number(v)) ? Number(v) : v;
  }
}

function vectorToObject(fields: FieldDef[], vec: unknown[], path: string, at?: number): Record<string, unknown> {
  if (vec.length > fields.length) throw err(`${path} has ${vec.length} values; the type defines ${fields.length}`, path, at, 'cookie-too-many-values');
  const out: Record<string, unknown> = {};
  fields.forEach((f, i) => {
    const v = i < vec.length ? vectorToValue(f, vec[i], `${path}.${f.name}`, at) : undefined;
    if (v !== undefined) out[f.name] = v;
  });
  return out;
}

/** Vector form of a payload: values in definition order, absent ones "" (nested objects and vectors as arrays). */
export function toVector(type: string, payload: Record<string, unknown>, types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES): Array<string | unknown[]> {
  return objectToVector(typeDef(type, types, 'type').fields, payload, 'payload');
}

/** The JSON payload of a vector (the inverse of toVector); trailing values may be left out. */
export function fromVector(type: string, vector: unknown[], types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES): Record<string, unknown> {
  if (!Array.isArray(vector)) throw err('The vector is not an array', 'payload', undefined, 'cookie-wrong-type');
  return vectorToObject(typeDef(type, types, 'type').fields, vector, 'payload');
}

function typeDef(type: string, types: Readonly<Record<string, TypeDef>>, field: string, at?: number): TypeDef {
  const def = Object.hasOwn(types, type) ? types[type] : undefined;
  if (!def) throw err(`Unknown message type '${type.slice(0, 64)}'`, field, at, 'cookie-unknown-type');
  return def;
}

/** A tree of parsed items as plain vectors (atoms as strings, groups as arrays), keeping the first offset. */
function itemsToVector(items: Item[]): unknown[] {
  return items.map((it) => ('atom' in it ? it.atom : itemsToVector(it.group)));
}

// ---------------------------------------------------------------------------------------------------------------
// Whole messages

function headerNumber(text: string, field: string, at: number, max: number): number {
  if (!/^(0|[1-9][0-9]{0,9})$/.test(text) || Number(text) > max) throw err(`${field} '${text.slice(0, 16)}' is not an integer 0..${max}`, field, at, 'cookie-bad-header');
  return Number(text);
}

/** Parses one serial message (without its NUL). Throws DecodeError naming the field and the character offset. */
export function decodeSerial(input: string | Uint8Array, types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES): AnyCookieMessage {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    if (input.length > MAX_FRAME_BYTES) throw err(`A message longer than ${MAX_FRAME_BYTES} bytes`, 'message', MAX_FRAME_BYTES, 'cookie-too-long');
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw err('The message is not UTF-8 text', 'message', undefined, 'cookie-not-text');
    }
  }
  if (text.length > MAX_FRAME_BYTES) throw err(`A message longer than ${MAX_FRAME_BYTES} characters`, 'message', MAX_FRAME_BYTES, 'cookie-too-long');
  if (text.endsWith('\u0000')) text = text.slice(0, -1);
  const hash = text.indexOf('#');
  if (hash < 0) throw err("No '#' between header and body (truncated?)", 'header', text.length, 'cookie-truncated');
  const header = text.slice(0, hash).split(':');
  if (header.length !== 5) throw err(`The header has ${header.length} fields; device:sensor:type:action:seq`, 'header', 0, 'cookie-bad-header');
  const [device, sensorText, type, action, seqText] = header as [string, string, string, string, string];
  let at = 0;
  const offsets = header.map((h) => {
    const o = at;
    at += h.length + 1;
    return o;
  });
  if (!DEVICE_ID.test(device)) throw err(`device '${device.slice(0, 64)}' is not 1-64 of [A-Za-z0-9._~-]`, 'device', 0, 'cookie-bad-header');
  if (!TYPE_NAME.test(type)) throw err(`type '${type.slice(0, 64)}' is not a type name`, 'type', offsets[2], 'cookie-bad-header');
  if (!(ACTIONS as readonly string[]).includes(action)) throw err(`action '${action.slice(0, 16)}' is not one of ${ACTIONS.join(', ')}`, 'action', offsets[3], 'cookie-bad-header');
  const seq = headerNumber(seqText, 'seq', offsets[4]!, MAX_SEQ);
  const items = parseItems(text, hash + 1, 'body');
  if (sensorText === '*' || type === 'composite') {
    if (sensorText !== '*' || type !== 'composite') throw err("A composite message has sensor '*' and type 'composite'", sensorText === '*' ? 'type' : 'sensor', offsets[1], 'cookie-bad-header');
    const payload: CookieComposite['payload'] = [];
    for (const it of items) {
      if ('atom' in it) {
        if (it.atom === '' && items.length === 1) continue; // an empty composite
        throw err('A composite body item must be a {sensor:type:...} group', 'body', it.at, 'cookie-syntax');
      }
      const [s, t, ...rest] = it.group;
      if (!s || !('atom' in s) || !t || !('atom' in t)) throw err('A composite group starts with sensor:type', 'body', it.at, 'cookie-syntax');
      const sensor = headerNumber(s.atom, 'sensor', s.at, MAX_SENSOR);
      if (!TYPE_NAME.test(t.atom) || t.atom === 'composite') throw err(`type '${t.atom.slice(0, 64)}' is not a type name`, 'type', t.at, 'cookie-bad-header');
      const def = typeDef(t.atom, types, 'type', t.at);
      payload.push({ sensor, type: t.atom, payload: bodyOf(def, rest, `payload[${payload.length}].payload`) });
    }
    return { device, sensor: '*', type: 'composite', action: action as CookieAction, seq, payload };
  }
  const sensor = headerNumber(sensorText, 'sensor', offsets[1]!, MAX_SENSOR);
  if (sensor === 0) throw err('sensor 0 is no sensor (1 = the device itself)', 'sensor', offsets[1], 'cookie-bad-header');
  const def = typeDef(type, types, 'type', offsets[2]);
  return { device, sensor, type, action: action as CookieAction, seq, payload: bodyOf(def, items, 'payload') };
}

function bodyOf(def: TypeDef, items: Item[], path: string): Record<string, unknown> {
  // An empty body (`#` then nothing) is one empty atom: no values.
  const list = items.length === 1 && 'atom' in items[0]! && items[0].atom === '' ? [] : items;
  if (list.length > def.fields.length) throw err(`${list.length} values; the type defines ${def.fields.length}`, path, list[def.fields.length]!.at, 'cookie-too-many-values');
  const out: Record<string, unknown> = {};
  def.fields.forEach((f, i) => {
    const it = list[i];
    if (!it) return;
    const v = vectorToValue(f, 'atom' in it ? it.atom : itemsToVector(it.group), `${path}.${f.name}`, it.at);
    if (v !== undefined) out[f.name] = v;
  });
  return out;
}

/** Serial form of a message (without the NUL). Throws DecodeError for a message its type cannot carry. */
export function encodeSerial(message: AnyCookieMessage, types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES): string {
  const m = checkHeader(message);
  let body: string;
  if (m.sensor === '*') {
    const c = message as CookieComposite;
    if (!Array.isArray(c.payload)) throw err('A composite payload is a list of {sensor, type, payload}', 'payload', undefined, 'cookie-wrong-type');
    body = c.payload
      .map((g, i) => {
        if (!Number.isInteger(g?.sensor) || g.sensor < 0 || g.sensor > MAX_SENSOR) throw err(`payload[${i}].sensor is not a sensor id`, `payload[${i}].sensor`, undefined, 'cookie-bad-header');
        if (typeof g.type !== 'string' || !TYPE_NAME.test(g.type) || g.type === 'composite') throw err(`payload[${i}].type is not a type name`, `payload[${i}].type`, undefined, 'cookie-bad-header');
        const vec = objectToVector(typeDef(g.type, types, `payload[${i}].type`).fields, g.payload ?? {}, `payload[${i}].payload`);
        return `{${writeItems([String(g.sensor), g.type, ...trimTrailing(vec)])}}`;
      })
      .join(':');
  } else {
    body = writeItems(trimTrailing(toVector(m.type, (message as CookieMessage).payload ?? {}, types)));
  }
  return `${m.device}:${m.sensor}:${m.type}:${m.action}:${m.seq}#${body}`;
}

/** Absent values at the end of a vector are left out of the serial form (they read back as absent). */
function trimTrailing(vec: Array<string | unknown[]>): Array<string | unknown[]> {
  let n = vec.length;
  while (n > 0 && vec[n - 1] === '') n--;
  return vec.slice(0, n);
}

function checkHeader(m: AnyCookieMessage): AnyCookieMessage {
  if (typeof m !== 'object' || m === null) throw err('The message is not an object', 'message', undefined, 'cookie-wrong-type');
  if (typeof m.device !== 'string' || !DEVICE_ID.test(m.device)) throw err('device is not 1-64 of [A-Za-z0-9._~-]', 'device', undefined, 'cookie-bad-header');
  if (m.sensor !== '*' && (!Number.isInteger(m.sensor) || m.sensor < 1 || m.sensor > MAX_SENSOR)) throw err(`sensor is not '*' or an integer 1..${MAX_SENSOR}`, 'sensor', undefined, 'cookie-bad-header');
  if (typeof m.type !== 'string' || !TYPE_NAME.test(m.type)) throw err('type is not a type name', 'type', undefined, 'cookie-bad-header');
  if ((m.sensor === '*') !== (m.type === 'composite')) throw err("A composite message has sensor '*' and type 'composite'", 'type', undefined, 'cookie-bad-header');
  if (!(ACTIONS as readonly string[]).includes(m.action)) throw err(`action is not one of ${ACTIONS.join(', ')}`, 'action', undefined, 'cookie-bad-header');
  if (!Number.isInteger(m.seq) || m.seq < 0 || m.seq > MAX_SEQ) throw err(`seq is not an integer 0..${MAX_SEQ}`, 'seq', undefined, 'cookie-bad-header');
  return m;
}

/**
 * Reads the JSON form (an object already parsed from JSON): checks the header, reads the payload through its type (so
 * wrong types are refused as the serial form would), and returns it normalised: keys in definition order, absent
 * values (null, "") left out.
 */
export function decodeJson(body: unknown, types: Readonly<Record<string, TypeDef>> = COOKIE_TYPES): AnyCookieMessage {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw err('The message is not a JSON object', 'message', undefined, 'cookie-wrong-type');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['device', 'sensor', 'type', 'action', 'seq', 'payload'].includes(k)) throw err(`Unknown member '${k.slice(0, 32)}'`, k.slice(0, 32), undefined, 'cookie-unknown-field');
  const m = checkHeader(b as unknown as AnyCookieMessage);
  if (m.sensor === '*') {
    if (!Array.isArray(b.payload)) throw err('A composite payload is a list of {sensor, type, payload}', 'payload', undefined, 'cookie-wrong-type');
    if (b.payload.length > MAX_ITEMS) throw err(`More than ${MAX_ITEMS} groups`, 'payload', undefined, 'cookie-too-many-items');
    const payload = b.payload.map((g: unknown, i) => {
      const group = g as { sensor?: unknown; type?: unknown; payload?: unknown };
      if (typeof g !== 'object' || g === null) throw err(`payload[${i}] is not an object`, `payload[${i}]`, undefined, 'cookie-wrong-type');
      if (!Number.isInteger(group.sensor) || (group.sensor as number) < 0 || (group.sensor as number) > MAX_SENSOR) throw err(`payload[${i}].sensor is not a sensor id`, `payload[${i}].sensor`, undefined, 'cookie-bad-header');
      if (typeof group.type !== 'string' || !TYPE_NAME.test(group.type) || group.type === 'composite') throw err(`payload[${i}].type is not a type name`, `payload[${i}].type`, undefined, 'cookie-bad-header');
      return { sensor: group.sensor as number, type: group.type, payload: normalise(group.type, group.payload ?? {}, types, `payload[${i}].payload`) };
    });
    return { device: m.device, sensor: '*', type: 'composite', action: m.action, seq: m.seq, payload };
  }
  return { device: m.device, sensor: m.sensor, type: m.type, action: m.action, seq: m.seq, payload: normalise(m.type, b.payload ?? {}, types, 'payload') };
}

function normalise(type: string, payload: unknown, types: Readonly<Record<string, TypeDef>>, path: string): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw err(`${path} is not an object`, path, undefined, 'cookie-wrong-type');
  const def = typeDef(type, types, 'type');
  return vectorToObject(def.fields, objectToVector(def.fields, payload as Record<string, unknown>, path), path);
}

/** The type a JSON example message defines (COOKIE.md: the example is the definition; its key order fixes positions). */
export function typeFromExample(example: Record<string, unknown>, sensor?: number): TypeDef {
  const field = (name: string, v: unknown, depth: number): FieldDef => {
    if (depth > MAX_DEPTH) throw err('The example is nested too deeply', name, undefined, 'cookie-too-deep');
    if (typeof v === 'boolean') return { name, kind: 'boolean' };
    if (typeof v === 'number') return { name, kind: Number.isInteger(v) ? 'integer' : 'number' };
    if (typeof v === 'string') return { name, kind: 'string' };
    if (Array.isArray(v)) {
      if (v.length === 0) throw err(`${name}: an empty example vector defines no item type`, name, undefined, 'cookie-bad-example');
      return { name, kind: 'vector', items: field(name, v[0], depth + 1) };
    }
    if (typeof v === 'object' && v !== null) return { name, kind: 'object', fields: Object.entries(v).map(([k, x]) => field(k, x, depth + 1)) };
    throw err(`${name}: null defines no type`, name, undefined, 'cookie-bad-example');
  };
  return { ...(sensor !== undefined ? { sensor } : {}), fields: Object.entries(example).map(([k, v]) => field(k, v, 0)) };
}
