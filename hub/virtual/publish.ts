// A virtual sensor's publication as a device message: the `{meta, payload}` envelope the virtual-output mapfile reads.
import type { MessageEnvelope } from '../routing/live-state.ts';
import { iriSafe } from '../mapping/iri.ts';
import type { Sample } from './operators.ts';

export const VIRTUAL_MAPPING = 'virtual-output';

/**
 * Most members a time or count window names one by one (prov:hadMember; a travel time's pairs are always named, up to
 * 64). A larger one is described by its inputs and bounds (hub:windowInput, the input properties; hub:windowStart/End;
 * hub:sampleCount), within which its members are the input observations the definition (sosa:usedProcedure) kept.
 * Before: a 60 s window published every second named 64 inputs per output (~80 quads), and the store took 827 outputs/s.
 */
export const MAX_LISTED_MEMBERS = 32;

/**
 * The input properties of a window's members (`things/{t}/observations/{m}/{p}` -> `things/{t}/properties/{p}`), by
 * index search (a window of 600 members is summarised once per second per sensor: a backtracking regex cost 4 % of the
 * hub's time in the virtual benchmark).
 */
export function inputProperties(members: readonly string[]): string[] {
  const out = new Set<string>();
  for (const m of members) {
    // ^(.*/things/[^/]+)/observations/[^/]+/([^/]+)$ read from the end: {p}, {m}, "/observations", {t}, "/things/".
    const last = m.lastIndexOf('/');
    const second = last > 0 ? m.lastIndexOf('/', last - 1) : -1;
    if (last === m.length - 1 || second < 0 || second === last - 1) continue;
    const thingEnd = second - 13; // '/observations'.length
    if (thingEnd <= 0 || !m.startsWith('/observations', thingEnd)) continue;
    const seg = m.lastIndexOf('/', thingEnd - 1);
    if (seg < 7 || seg === thingEnd - 1 || !m.startsWith('/things/', seg - 7)) continue;
    out.add(`${m.slice(0, thingEnd)}/properties/${m.slice(last + 1)}`);
  }
  return [...out];
}
const QUDT_UNIT = 'http://qudt.org/vocab/unit/';

/** A QUDT unit as an IRI: `qudt:SEC` / `unit:SEC` / `SEC` -> http://qudt.org/vocab/unit/SEC; absolute IRIs kept. */
export function unitIri(unit: string | undefined): string | undefined {
  if (!unit) return undefined;
  if (/^https?:\/\//.test(unit)) return unit;
  const local = unit.replace(/^(qudt|unit):/, '');
  return /^[A-Za-z0-9_-]+$/.test(local) ? QUDT_UNIT + local : undefined;
}

/**
 * The IRI of a Thing's observation as the shipped mapfiles write it (`things/{thingId}/observations/{messageId}/
 * {property}`), for one sensor's samples: the IRI-safe forms of Thing ids and property names are kept (at most 10,000
 * each; then started afresh), since only the message id differs from one sample to the next.
 */
export function observationIris(baseUrl: string): (thingId: string, messageId: string, property: string) => string {
  const things = new Map<string, string>();
  const properties = new Map<string, string>();
  return (thingId, messageId, property) => {
    let thing = things.get(thingId);
    if (thing === undefined) {
      if (things.size >= 10_000) things.clear();
      things.set(thingId, (thing = `${baseUrl}/things/${iriSafe(thingId)}/observations/`));
    }
    let prop = properties.get(property);
    if (prop === undefined) {
      if (properties.size >= 10_000) properties.clear();
      properties.set(property, (prop = iriSafe(property)));
    }
    return `${thing}${iriSafe(messageId)}/${prop}`;
  };
}

export interface OutputItem {
  value: unknown;
  unit?: string;
  /** Per-key results (SPARQL rows by key): one observation per key. */
  key?: string;
}

/**
 * The envelope of one publication: `payload.observations` (one per value, numbers and texts, each with the definition
 * as procedure and its provenance) and `payload.windows` (the window summarised, whose members are the inputs).
 */
export function outputEnvelope(o: {
  baseUrl: string;
  thingId: string;
  procedure: string;
  messageId: string;
  time: number;
  items: Array<[string, OutputItem]>;
  sample?: Pick<Sample, 'sources' | 'window'>;
}): MessageEnvelope {
  const observedAt = new Date(o.time).toISOString();
  const windowIri = o.sample?.window ? `${o.baseUrl}/things/${iriSafe(o.thingId)}/windows/${iriSafe(o.messageId)}` : undefined;
  const derivedFrom = windowIri ? [windowIri] : (o.sample?.sources ?? []);
  const observations = o.items.map(([property, item], i) => {
    const v = item.value;
    // A per-key number has its result as a QUDT quantity only (sosa:hasResult): a simple result would be read back as
    // the property's one value (hub/routing observedValues), and the property's value is the object of all keys.
    const value = typeof v === 'number' ? (item.key === undefined ? { number: v } : { keyedNumber: v }) : typeof v === 'boolean' ? { text: String(v) } : typeof v === 'string' ? { text: v } : { text: JSON.stringify(v) };
    const unit = typeof v === 'number' ? unitIri(item.unit) : undefined;
    return {
      thing: o.thingId,
      messageId: item.key === undefined ? o.messageId : `${o.messageId}.k${i}`,
      property,
      ...value,
      ...(unit ? { unit } : {}),
      ...(item.key !== undefined ? { key: item.key } : {}),
      observedAt,
      procedure: o.procedure,
      derivedFrom,
    };
  });
  const sources = o.sample?.sources ?? [];
  const listed = o.sample?.window?.pairs === true || sources.length <= MAX_LISTED_MEMBERS;
  const windows = o.sample?.window
    ? [{ thing: o.thingId, messageId: o.messageId, start: new Date(o.sample.window.start).toISOString(), end: new Date(o.sample.window.end).toISOString(), count: o.sample.window.count, ...(listed ? { members: sources } : { inputs: inputProperties(sources) }) }]
    : [];
  return {
    meta: { thingId: o.thingId, protocol: 'virtual', interface: 'virtual', receivedAt: new Date().toISOString(), messageId: o.messageId, observedAt },
    payload: { procedure: o.procedure, observations, windows },
  };
}
