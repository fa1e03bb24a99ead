// The device-key index: (keyType, canonical device key) -> the Thing interface (DeviceEntry) that claims it, in O(1).
import { canonicalKey, type DeviceEntry, type KeyType } from '../bindings/types.ts';
import { NETWORK_SERVER_CODECS } from '../bindings/codecs.ts';
import type { TdSource } from '../mapping/thing-mappings.ts';
import { adapterThingId } from './adapters.ts';

/**
 * The key type that names a Thing by its id (`hub/things/{thingId}/messages`): every registered TD answers to it,
 * through its own `keyType: "thingId"` interface when it declares one, else through the generic MQTT JSON adapter.
 */
export const THING_ID_KEY: KeyType = 'thingId';

/** deviceDefinitions members that are device keys themselves (FLINT's `mac`, a `devAddr` next to a `devEui`, ...). */
export const KEY_MEMBERS: readonly KeyType[] = ['devEui', 'devAddr', 'sigfoxId', 'mac', 'oscSource', 'vin', 'cookieDevice'];
const INTERFACE_TYPES = new Set(['continuous', 'uplink_triggered', 'beacon']);
/** Processing adapters of an uplink chain that name a payload codec: `urn:wot-hub:codec:<name>`. */
const CODEC_ADAPTER = 'urn:wot-hub:codec:';
/** Bounds on what one TD may claim (a TD is already capped at 5,000 JSON values by the directory). */
const MAX_INTERFACES = 64;
const MAX_KEY_LENGTH = 256;

export interface DeviceIndexCounters {
  /** Things with at least one indexed key. */
  things: number;
  /** Distinct device keys claimed. */
  keys: number;
  /** Claims refused because another Thing already holds the key (cumulative). */
  conflicts: number;
  /** ioAdapterDefinitions entries or keys skipped as malformed (cumulative). */
  skipped: number;
}

export interface DeviceIndexOptions {
  /** Told about a key another Thing already holds, and about skipped members; never throws into indexing. */
  log?: { warn(obj: object, msg: string): void };
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const member = (td: Json, name: string): unknown => td[name] ?? td[`hub:${name}`];
const slot = (keyType: string, key: string): string => `${keyType}\u0000${key}`;

/**
 * The interfaces a TD declares, one DeviceEntry per (interface, key). A malformed entry or key is skipped and counted
 * in `skipped`; nothing here throws on any TD.
 */
export function entriesOfTd(thingId: string, td: Json, skipped: { count: number } = { count: 0 }): DeviceEntry[] {
  const defs = member(td, 'ioAdapterDefinitions');
  if (defs === undefined) return [];
  if (!Array.isArray(defs)) {
    skipped.count += 1;
    return [];
  }
  const scheme = member(td, 'adapterScheme');
  const out: DeviceEntry[] = [];
  for (const def of defs.slice(0, MAX_INTERFACES)) {
    const adapterId = isObject(def) ? def.uuid : undefined;
    const dd = isObject(def) ? def.deviceDefinitions : undefined;
    if (typeof adapterId !== 'string' || adapterId === '' || !isObject(dd)) {
      skipped.count += 1;
      continue;
    }
    const interfaceType = [dd.interfaceType, dd.downlinkType].find((t): t is DeviceEntry['interfaceType'] => typeof t === 'string' && INTERFACE_TYPES.has(t)) ?? 'uplink_triggered';
    const codecs = uplinkCodecs(scheme, adapterId) ?? codecList(dd.payloadCodec);
    const keys = new Map<string, [KeyType, string]>();
    const add = (keyType: unknown, key: unknown): void => {
      if (typeof keyType !== 'string' || keyType === '' || (typeof key !== 'string' && typeof key !== 'number')) {
        skipped.count += 1;
        return;
      }
      const text = String(key);
      // An empty key is an unset one (e.g. a devAddr placeholder left blank for an OTAA device): not a claim.
      if (text.trim() === '') return;
      if (text.length > MAX_KEY_LENGTH) {
        skipped.count += 1;
        return;
      }
      const canonical = canonicalKey(keyType, text);
      keys.set(slot(keyType, canonical), [keyType, canonical]);
    };
    if (dd.keyType !== undefined || dd.deviceKey !== undefined) add(dd.keyType, dd.deviceKey);
    for (const name of KEY_MEMBERS) if (dd[name] !== undefined) add(name, dd[name]);
    for (const [keyType, deviceKey] of keys.values()) {
      out.push({ thingId, adapterId, keyType, deviceKey, interfaceType, deviceDefinitions: dd, codecs });
    }
  }
  return out;
}

/**
 * Payload codecs of the uplink chain that starts at this interface (adapterScheme: chains of shackles, a shackle a
 * list of adapter ids; the uplink chain's first shackle holds the I/O adapter): the `urn:wot-hub:codec:<name>`
 * processing adapters after it, in order. Undefined when the TD has no such chain or it names no codec.
 */
function uplinkCodecs(scheme: unknown, adapterId: string): string[] | undefined {
  if (!Array.isArray(scheme)) return undefined;
  for (const chain of scheme) {
    if (!Array.isArray(chain) || !Array.isArray(chain[0]) || !chain[0].includes(adapterId)) continue;
    const names: string[] = [];
    for (const shackle of chain.slice(1)) {
      if (!Array.isArray(shackle)) continue;
      for (const a of shackle) if (typeof a === 'string' && a.startsWith(CODEC_ADAPTER)) names.push(a.slice(CODEC_ADAPTER.length));
    }
    if (names.length) return names.filter((n) => !NETWORK_SERVER_CODECS.has(n));
  }
  return undefined;
}

function codecList(v: unknown): string[] {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  return list.map((s) => s.trim()).filter((n) => !NETWORK_SERVER_CODECS.has(n));
}

/** A decoded key or TD property name that propertyNames may use (no prototype keys, bounded length). */
const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_PROPERTY_NAMES = 256;
const renamesByDefinitions = new WeakMap<object, ReadonlyArray<readonly [string, string]>>();

/**
 * `deviceDefinitions.propertyNames`: decoded key -> the TD's property name (`{"temperature_1": "temperature"}`), so a
 * codec's names (Cayenne LPP's `<type>_<channel>`, a network server's formatter) become the Thing's own. Malformed
 * members are ignored; the parsed list is cached per deviceDefinitions object (the index keeps it per TD version).
 */
export function propertyNamesOf(dd: Record<string, unknown>): ReadonlyArray<readonly [string, string]> {
  let list = renamesByDefinitions.get(dd);
  if (list) return list;
  const raw = dd.propertyNames;
  const out: Array<[string, string]> = [];
  if (isObject(raw)) {
    for (const [from, to] of Object.entries(raw).slice(0, MAX_PROPERTY_NAMES)) {
      if (typeof to === 'string' && NAME.test(from) && NAME.test(to) && !RESERVED.has(from) && !RESERVED.has(to) && from !== to) out.push([from, to]);
    }
  }
  list = out;
  renamesByDefinitions.set(dd, list);
  return list;
}

/** The decoded fields under the TD's property names (propertyNamesOf); the same object when nothing is renamed. */
export function applyPropertyNames(decoded: Record<string, unknown>, dd: Record<string, unknown>): Record<string, unknown> {
  const renames = propertyNamesOf(dd);
  if (!renames.length || !renames.some(([from]) => Object.hasOwn(decoded, from))) return decoded;
  const out: Record<string, unknown> = { ...decoded };
  for (const [from] of renames) delete out[from];
  for (const [from, to] of renames) if (Object.hasOwn(decoded, from)) out[to] = decoded[from];
  return out;
}

/**
 * Maps device keys to Thing interfaces. Lookups are one Map read (a second one for FLINT TDs, whose LoRaWAN and
 * Sigfox keys are all `mac`). Two Things claiming one key: the one indexed first owns it, the later claim is refused
 * (logged, counted in `conflicts`) and waits; when the owner's TD drops the key, the next claimant takes it over.
 */
export class DeviceIndex {
  /** slot -> claimants in claim order; the first is the owner. */
  private readonly claims = new Map<string, DeviceEntry[]>();
  private readonly slotsByThing = new Map<string, string[]>();
  /** thingId -> the interface a message naming the Thing by id uses when its TD declares none (THING_ID_KEY). */
  private readonly byThingId = new Map<string, DeviceEntry>();
  private conflicts = 0;
  private readonly skipped = { count: 0 };

  constructor(private readonly options: DeviceIndexOptions = {}) {}

  /** Follows a directory: indexes every TD now, then tracks created/updated/deleted events. */
  async follow(directory: TdSource): Promise<void> {
    const track = (e: { id: string; td?: Record<string, unknown> }): void => this.put(e.id, e.td);
    directory.on('thing_created', track);
    directory.on('thing_updated', track);
    directory.on('thing_deleted', (e) => this.remove(e.id));
    for (const td of await directory.all()) if (typeof td.id === 'string') this.put(td.id, td);
  }

  /** (Re)indexes a Thing from its TD; keys it no longer claims are released. */
  put(thingId: string, td: Record<string, unknown> | undefined): void {
    this.remove(thingId);
    if (!isObject(td)) return;
    this.byThingId.set(thingId, { thingId, adapterId: adapterThingId('mqtt'), keyType: THING_ID_KEY, deviceKey: thingId, interfaceType: 'uplink_triggered', deviceDefinitions: {}, codecs: [] });
    const before = this.skipped.count;
    const entries = entriesOfTd(thingId, td, this.skipped);
    if (this.skipped.count > before) this.warn({ thingId, skipped: this.skipped.count - before }, 'ioAdapterDefinitions members skipped (malformed)');
    const slots: string[] = [];
    for (const entry of entries) {
      const s = slot(entry.keyType, entry.deviceKey);
      if (slots.includes(s)) continue; // one Thing, one claim per key (the first interface naming it)
      slots.push(s);
      const list = this.claims.get(s);
      if (!list) this.claims.set(s, [entry]);
      else {
        list.push(entry);
        this.conflicts += 1;
        this.warn({ thingId, keyType: entry.keyType, deviceKey: entry.deviceKey, owner: list[0]!.thingId }, 'device key already claimed by another Thing; refused');
      }
    }
    if (slots.length) this.slotsByThing.set(thingId, slots);
  }

  remove(thingId: string): void {
    this.byThingId.delete(thingId);
    const slots = this.slotsByThing.get(thingId);
    if (!slots) return;
    this.slotsByThing.delete(thingId);
    for (const s of slots) {
      const list = this.claims.get(s)?.filter((e) => e.thingId !== thingId);
      if (list?.length) this.claims.set(s, list);
      else this.claims.delete(s);
    }
  }

  /**
   * The interface that owns this key (the key in any spelling canonicalKey accepts), or undefined. Key type
   * `thingId` finds any registered Thing by its id (a declared `thingId` interface first).
   */
  lookup(keyType: KeyType, deviceKey: string): DeviceEntry | undefined {
    const key = canonicalKey(keyType, deviceKey);
    if (keyType === THING_ID_KEY) return this.claims.get(slot(keyType, key))?.[0] ?? this.byThingId.get(key);
    return this.claims.get(slot(keyType, key))?.[0] ?? (keyType !== 'mac' ? this.claims.get(slot('mac', key))?.[0] : undefined);
  }

  /** Every interface a Thing's TD put in the index (owned or waiting). */
  entriesOf(thingId: string): DeviceEntry[] {
    return (this.slotsByThing.get(thingId) ?? []).flatMap((s) => this.claims.get(s)?.filter((e) => e.thingId === thingId) ?? []);
  }

  /** The owning interface of every key of this type (e.g. every robot: `urscript`). */
  owners(keyType: KeyType): DeviceEntry[] {
    const out: DeviceEntry[] = [];
    for (const list of this.claims.values()) if (list[0]!.keyType === keyType) out.push(list[0]!);
    return out;
  }

  counters(): DeviceIndexCounters {
    return { things: this.slotsByThing.size, keys: this.claims.size, conflicts: this.conflicts, skipped: this.skipped.count };
  }

  private warn(obj: object, msg: string): void {
    try {
      this.options.log?.warn(obj, msg);
    } catch {
      // a failing logger must not break indexing
    }
  }
}
