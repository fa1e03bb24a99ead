// Fuzz target: The Things Stack v3 webhook bodies (strict JSON parse -> decodeTtsMessage), with frame invariants as oracle.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeTtsMessage } from '../../../hub/bindings/tts/codec.ts';
import type { NetworkEvent } from '../../../hub/bindings/tts/network-event.ts';
import { parseJsonBody } from '../../../hub/http/body.ts';
import { enc, SHARED } from '../corpus.ts';
import { jsonValue } from '../generators.ts';
import type { Rng } from '../prng.ts';
import { OracleError, type FuzzTarget } from '../target.ts';

/** The `input` of every vector whose kind starts with one of `prefixes` (network_servers.json, network_server_json.json). */
export function vectorInputs(prefixes: string[]): unknown[] {
  const out: unknown[] = [];
  for (const file of ['network_servers.json', 'network_server_json.json']) {
    let list: Array<{ kind: string; input: unknown }> = [];
    try {
      list = JSON.parse(readFileSync(join(SHARED, 'vectors', file), 'utf8'));
    } catch {
      continue; // ../shared is absent on some machines
    }
    for (const v of list) if (v.input !== null && prefixes.some((p) => v.kind.startsWith(p))) out.push(v.input);
  }
  return out;
}

/** A seed with one member somewhere replaced by a random JSON value, removed, or stringified (the templates' quoting). */
export function mutateMember(rng: Rng, seeds: unknown[]): Uint8Array {
  const doc = structuredClone(rng.pick(seeds)) as Record<string, unknown>;
  let node: unknown = doc;
  for (let depth = rng.range(1, 4); depth > 0; depth--) {
    if (typeof node !== 'object' || node === null) break;
    const keys = Object.keys(node);
    if (keys.length === 0) break;
    const key = rng.pick(keys);
    const child = (node as Record<string, unknown>)[key];
    if (depth === 1 || typeof child !== 'object' || child === null) {
      const choice = rng.int(4);
      if (choice === 0) delete (node as Record<string, unknown>)[key];
      else if (choice === 1) (node as Record<string, unknown>)[key] = JSON.stringify(child) ?? 'null';
      else (node as Record<string, unknown>)[key] = jsonValue(rng, 3);
      break;
    }
    node = child;
  }
  return enc(JSON.stringify(doc));
}

const MESSAGE_ID = /^[A-Za-z0-9._~-]{1,200}$/;

/** What every decoded uplink must satisfy, whatever the input: the contract of DeviceFrame (hub/bindings/types.ts). */
export function checkEvent(event: NetworkEvent): void {
  if (event.kind !== 'uplink') {
    JSON.stringify(event.details);
    return;
  }
  const f = event.frame;
  if (!MESSAGE_ID.test(f.messageId)) throw new OracleError(`messageId is not IRI-safe: ${JSON.stringify(f.messageId)}`);
  if (typeof f.deviceKey !== 'string' || f.deviceKey === '') throw new OracleError('empty deviceKey');
  if (f.bytes !== undefined && !(f.bytes instanceof Uint8Array)) throw new OracleError('bytes is not a Uint8Array');
  if (f.sequence !== undefined && (!Number.isInteger(f.sequence) || f.sequence < 0 || f.sequence > 0xffffffff)) throw new OracleError(`bad sequence ${f.sequence}`);
  if (f.observedAt !== undefined && Number.isNaN(Date.parse(f.observedAt.replace(/(\.\d{3})\d+/, '$1')))) throw new OracleError(`observedAt does not parse: ${f.observedAt}`);
  const ids = new Set<string>();
  for (const r of f.radio ?? []) {
    const id = r.gatewayId.toUpperCase();
    if (ids.has(id)) throw new OracleError(`reception of ${id} counted twice`);
    ids.add(id);
    if (r.rssi !== undefined && !Number.isFinite(r.rssi)) throw new OracleError('non-finite rssi');
  }
  JSON.stringify({ ...f, bytes: undefined });
}

let seeds: unknown[] = [];

export const ttsTarget: FuzzTarget = {
  name: 'tts',
  description: 'TTS v3 webhook body -> parseJsonBody -> decodeTtsMessage (uplinks, joins, downlink events); DeviceFrame invariants',
  tokens: ['"uplink_message"', '"join_accept"', '"f_cnt"', '"frm_payload"', '"rx_metadata"', '"packet_broker"', '"received_at"', '"0001-01-01T00:00:00Z"', '"=="', '"-_"', '4294967296', '"868100000"'],
  seeds() {
    seeds = vectorInputs(['tts-v3']);
    return seeds.map((s) => enc(JSON.stringify(s)));
  },
  generate: (rng) => mutateMember(rng, seeds.length ? seeds : [{}]),
  generateRatio: 0.6,
  run(input) {
    checkEvent(decodeTtsMessage(parseJsonBody(input), 0, {}));
  },
};
