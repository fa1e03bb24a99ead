// The payload-codec registry: codec name (as a TD names it) -> PayloadCodec. Each codec module adds one import + one line.
import { UnsupportedProtocolError } from '../errors.ts';
import type { PayloadCodec } from './types.ts';

/**
 * Codecs by name. A TD names them in its uplink chain (`urn:wot-hub:codec:<name>` in adapterScheme) or in
 * `deviceDefinitions.payloadCodec`; the uplink pipeline (hub/routing/uplink-pipeline.ts) looks them up per message.
 * Registration happens once at import time (below), so lookups are a Map read and tests see the same registry.
 */
const codecs = new Map<string, PayloadCodec>();

/**
 * Names that mean "no payload codec: take the network server's decoded payload (DeviceFrame.decoded)". A TD may name
 * one of them to say so explicitly (e.g. the lorawan-sensor model's PAYLOAD_CODEC placeholder).
 */
export const NETWORK_SERVER_CODECS = new Set(['network-server', 'none', '']);

/** Adds a codec; a second codec under one name is a programming error (two modules claiming one name). */
export function registerPayloadCodec(codec: PayloadCodec): void {
  if (codecs.has(codec.name) && codecs.get(codec.name) !== codec) throw new Error(`payload codec '${codec.name}' is registered twice`);
  codecs.set(codec.name, codec);
}

/** The codec of that name; UnsupportedProtocolError (400 `unsupported-protocol`) when none is registered. */
export function payloadCodec(name: string): PayloadCodec {
  const codec = codecs.get(name);
  if (!codec) throw new UnsupportedProtocolError(`codec:${name}`);
  return codec;
}

/** The codec of that name, or undefined (index-time checks that must not throw). */
export function findPayloadCodec(name: string): PayloadCodec | undefined {
  return codecs.get(name);
}

export function payloadCodecNames(): string[] {
  return [...codecs.keys()].sort();
}

// One line per codec module, e.g.:
// import { cayenneLpp } from './cayenne/codec.ts'; registerPayloadCodec(cayenneLpp);
import { schcCodec } from './schc/codec.ts'; registerPayloadCodec(schcCodec);
import { cayenneLppCodec } from './cayenne/lpp.ts'; registerPayloadCodec(cayenneLppCodec);
import { senmlCborCodec, senmlJsonCodec } from './senml/codecs.ts'; registerPayloadCodec(senmlJsonCodec); registerPayloadCodec(senmlCborCodec);
import { lwm2mJsonCodec, lwm2mTlvCodec } from './senml/lwm2m.ts'; registerPayloadCodec(lwm2mTlvCodec); registerPayloadCodec(lwm2mJsonCodec);
