// Thing Models (thing-models/*.tm.jsonld) and their instantiation into TDs: tm:extends, tm:ref, {{PLACEHOLDERS}}, tm:optional.
import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { ThingDescription } from './registration.ts';
import type { TdValidator } from './validator.ts';
import { writeTarget } from './writable-properties.ts';

export const THING_MODELS_DIR = fileURLToPath(new URL('../../thing-models/', import.meta.url));
const SUFFIX = '.tm.jsonld';
const AFFORDANCES = ['properties', 'actions', 'events'] as const;
/** Most tm:extends / tm:ref hops followed; deeper chains are cycles or abuse. */
const MAX_HOPS = 16;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge for tm:extends (TD 1.1 §10.3.2.1): the extending model's members win, objects merge recursively. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return structuredClone(over);
  const out: Json = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : structuredClone(v);
  return out;
}

function pointer(doc: unknown, ptr: string): unknown {
  if (ptr === '' || ptr === '/') return doc;
  let node = doc;
  for (const raw of ptr.replace(/^\//, '').split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Json)[key];
  }
  return node;
}

/** Name of a local TM from a reference such as `lorawan-sensor.tm.jsonld` or `./lorawan-sensor.tm.jsonld#/properties/x`. */
function localName(href: string): string | undefined {
  const file = href.split('#')[0]!.split('/').pop() ?? '';
  return file.endsWith(SUFFIX) ? file.slice(0, -SUFFIX.length) : undefined;
}

export interface InstantiateRequest {
  placeholders: Record<string, unknown>;
  /** Pointers of tm:optional affordances to keep (e.g. `/actions/reboot`); the others are left out. */
  include?: string[];
  /** The id of the new Thing; a urn:uuid v4 when absent. */
  id?: string;
}

/**
 * The hub's Thing Models (W3C WoT TD 1.1 §10 Thing Model). Models live in thing-models/ and are loaded once; the
 * catalog turns one into a TD for a concrete device, with forms on the hub's own origin (`/wot/{id}/...`).
 */
export class ThingModelCatalog {
  private readonly models = new Map<string, Json>();

  constructor(private readonly baseUrl: string, private readonly validator: TdValidator, dir = THING_MODELS_DIR) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith(SUFFIX)).sort()) {
      this.models.set(file.slice(0, -SUFFIX.length), JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json);
    }
  }

  names(): string[] {
    return [...this.models.keys()];
  }

  list(): Array<{ name: string; title: unknown; description: unknown; href: string }> {
    return this.names().map((name) => {
      const tm = this.models.get(name)!;
      return { name, title: tm.title, description: tm.description, href: `${this.baseUrl}/thing-models/${name}` };
    });
  }

  get(name: string): Json {
    const tm = this.models.get(name);
    if (!tm) throw new NotFoundError(`No Thing Model named '${name}'`);
    return structuredClone(tm);
  }

  /** The model with tm:extends and tm:ref resolved (still a TM: placeholders and tm:optional remain). */
  resolve(name: string, hops = 0): Json {
    if (hops > MAX_HOPS) throw new ValidationError('Thing Model references are nested too deeply', [{ field: '/links', description: `more than ${MAX_HOPS} tm:extends/tm:ref hops` }]);
    let tm = this.get(name);
    const links = Array.isArray(tm.links) ? (tm.links as Json[]) : [];
    for (const link of links.filter((l) => l.rel === 'tm:extends')) {
      const base = localName(String(link.href));
      if (!base) throw new ValidationError('Only local Thing Models can be extended', [{ field: '/links', description: `unknown model ${String(link.href)}` }]);
      tm = deepMerge(this.resolve(base, hops + 1), tm) as Json;
    }
    const kept = links.filter((l) => l.rel !== 'tm:extends');
    if (kept.length) tm.links = kept;
    else delete tm.links;
    return this.resolveRefs(tm, hops) as Json;
  }

  private resolveRefs(node: unknown, hops: number): unknown {
    if (Array.isArray(node)) return node.map((n) => this.resolveRefs(n, hops));
    if (!isObject(node)) return node;
    let out: Json = {};
    if (typeof node['tm:ref'] === 'string') {
      const ref = node['tm:ref'];
      const target = localName(ref);
      const hash = ref.includes('#') ? ref.slice(ref.indexOf('#') + 1) : '';
      const doc = target ? this.resolve(target, hops + 1) : undefined;
      const value = doc === undefined ? undefined : pointer(doc, hash);
      if (!isObject(value)) throw new ValidationError('A tm:ref does not resolve', [{ field: '/tm:ref', description: `cannot resolve ${ref}` }]);
      out = structuredClone(value);
    }
    for (const [k, v] of Object.entries(node)) if (k !== 'tm:ref') out[k] = this.resolveRefs(v, hops);
    return out;
  }

  /** TD 1.1 §10.4 Thing Model instantiation; the result is validated as a TD (ValidationError lists every problem). */
  instantiate(name: string, request: InstantiateRequest): ThingDescription {
    const tm = this.resolve(name);
    const include = new Set(request.include ?? []);
    for (const ptr of Array.isArray(tm['tm:optional']) ? (tm['tm:optional'] as string[]) : []) {
      if (include.has(ptr)) continue;
      const [, kind, affordance] = ptr.split('/');
      const group = kind ? tm[kind] : undefined;
      if (isObject(group) && affordance) delete group[decodeURIComponent(affordance)];
    }
    delete tm['tm:optional'];
    const missing = new Set<string>();
    const filled = fill(tm, request.placeholders, missing) as Json;
    if (missing.size) {
      throw new ValidationError(`The placeholder map lacks values for the model '${name}'`, [...missing].map((p) => ({ field: `/placeholders/${p}`, description: 'is required by the Thing Model' })));
    }
    const id = request.id ?? (typeof filled.id === 'string' ? filled.id : `urn:uuid:${randomUUID()}`);
    const td = this.toTd(filled, name, id);
    this.validator.validate(td, `The TD instantiated from '${name}' is not valid`);
    return td;
  }

  private toTd(tm: Json, name: string, id: string): ThingDescription {
    const types = (Array.isArray(tm['@type']) ? tm['@type'] : tm['@type'] ? [tm['@type']] : []).filter((t) => t !== 'tm:ThingModel');
    const td: ThingDescription = { ...tm, id };
    if (types.length) td['@type'] = types.length === 1 ? types[0] : types;
    else delete td['@type'];
    // TD 1.1 §5.3.1.1: a TD's version needs `instance`; an instance starts at the model's version.
    if (isObject(td.version) && td.version.instance === undefined) td.version = { instance: td.version.model ?? '1.0.0', ...td.version };
    td.securityDefinitions ??= { nosec_sc: { scheme: 'nosec' } };
    td.security ??= Object.keys(td.securityDefinitions as Json);
    const links = Array.isArray(td.links) ? (td.links as Json[]) : [];
    td.links = [...links, { rel: 'type', href: `${this.baseUrl}/thing-models/${name}`, type: 'application/tm+json' }];
    const base = `${this.baseUrl}/wot/${encodeURIComponent(id)}`;
    for (const kind of AFFORDANCES) {
      const group = td[kind];
      if (!isObject(group)) continue;
      for (const [affordance, def] of Object.entries(group)) {
        if (!isObject(def) || Array.isArray(def.forms)) continue;
        const href = `${base}/${kind}/${encodeURIComponent(affordance)}`;
        const forms: Json[] = [{ href, contentType: 'application/json', ...formOps(kind, def) }];
        def.forms = forms;
        // Observation has its own href with the SSE subprotocol, as hub/things/hub-forms.ts serves it: on the read href a
        // client without the subprotocol would long-poll a resource that answers at once.
        if (kind === 'properties' && def.observable === true) {
          forms.push({ href: `${href}/observable`, contentType: 'application/json', op: ['observeproperty', 'unobserveproperty'], subprotocol: 'sse' });
        }
      }
    }
    return td;
  }
}

function formOps(kind: (typeof AFFORDANCES)[number], def: Json): Json {
  if (kind === 'actions') return { op: 'invokeaction' };
  if (kind === 'events') return { op: ['subscribeevent', 'unsubscribeevent'], subprotocol: 'sse' };
  // writeproperty only where the hub serves it: a property naming the action that carries the write (hub:writeAction).
  const write = writeTarget(def) ? ['writeproperty'] : [];
  return { op: def.writeOnly === true && write.length ? write : ['readproperty', ...write] };
}

/** Replaces `{{NAME}}` in every string; a string that is exactly one placeholder takes the value's JSON type. */
function fill(node: unknown, values: Record<string, unknown>, missing: Set<string>): unknown {
  if (typeof node === 'string') {
    const whole = /^\{\{\s*([A-Za-z0-9_]+)\s*\}\}$/.exec(node);
    if (whole) {
      if (!(whole[1]! in values)) missing.add(whole[1]!);
      return values[whole[1]!] ?? node;
    }
    return node.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (m, key: string) => {
      if (!(key in values)) {
        missing.add(key);
        return m;
      }
      const v = values[key];
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(node)) return node.map((n) => fill(n, values, missing));
  if (!isObject(node)) return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) out[fill(k, values, missing) as string] = fill(v, values, missing);
  return out;
}
