// The contract between transports, codecs and the uplink pipeline (hub/routing): what each stage hands to the next.
//
//   transport (MQTT, webhook, UDP, TCP)   knows bytes, topics and addresses; stamps `receivedAt` (the only clock)
//   NetworkServerCodec.decodeUplink       pure: a network server's / gateway's message -> DeviceFrame (throws DecodeError)
//   UplinkSink.accept (hub/routing)       Thing by (keyType, deviceKey) in O(1), last-seen per interface, the TD's
//                                         payload codecs (PayloadCodec, e.g. SCHC then SenML), mapfile, durable store
//
// Codecs are pure functions of their input: no I/O, no clock, no globals, so they are fuzzable and testable from vectors.
import type { HubError } from '../errors.ts';

/** The bindings of the hub; a transport names the binding a message came through. */
export type BindingName =
  | 'tts'
  | 'chirpstack'
  | 'semtech-udp'
  | 'sigfox'
  | 'mqtt-json'
  | 'http'
  | 'obd'
  | 'osc'
  | 'cookie'
  | (string & {});

/**
 * Kinds of device key a TD's ioAdapterDefinitions name (`deviceDefinitions.keyType` + `deviceKey`, or a member of
 * deviceDefinitions named like the kind, e.g. FLINT's `mac`, or `devAddr` next to a `devEui`). Keys are compared in
 * canonical form (see canonicalKey).
 */
export type KeyType = 'devEui' | 'devAddr' | 'sigfoxId' | 'mac' | 'oscSource' | 'vin' | 'cookieDevice' | (string & {});

/**
 * Canonical form of a device key: hex identifiers (EUI-64, DevAddr, Sigfox ids, MACs) upper-case without separators
 * (`70-B3-D5-7E-D0-00-00-01`, `70b3d57ed0000001` -> `70B3D57ED0000001`); other kinds (VIN, OSC source) trimmed as given.
 */
export function canonicalKey(keyType: KeyType, key: string): string {
  const trimmed = key.trim();
  if (keyType === 'devEui' || keyType === 'devAddr' || keyType === 'sigfoxId' || keyType === 'mac') {
    const hex = trimmed.replace(/[-:\s]/g, '');
    return /^[0-9a-fA-F]+$/.test(hex) ? hex.toUpperCase() : trimmed;
  }
  return trimmed;
}

/** Where a message came from, as the transport saw it. */
export interface UplinkOrigin {
  binding: BindingName;
  transport: 'mqtt' | 'http' | 'udp' | 'tcp';
  /** Epoch milliseconds when the transport received it (the transport's clock; codecs never read a clock). */
  receivedAt: number;
  /** MQTT topic, HTTP path, or `ip:port` of a UDP/TCP peer. */
  topic?: string;
  remote?: string;
}

/** One gateway's or base station's reception of a frame (link-quality observations are made from these). */
export interface RadioReception {
  /** Gateway EUI / id, or Sigfox station id. */
  gatewayId: string;
  rssi?: number;
  snr?: number;
  /** Radio channel index, or frequency in Hz when known. */
  channel?: number;
  frequency?: number;
  /** ISO 8601 time the gateway stamped, when it has one. */
  time?: string;
  [key: string]: unknown;
}

/**
 * What a network-level codec yields for one uplink. `bytes` is the application payload still to decode with the
 * device's payload codecs (LoRaWAN FRMPayload, decrypted; Sigfox `data`); `decoded` is what the network server already
 * decoded (TTS `decoded_payload`, ChirpStack `object`), used when the TD names no payload codec.
 */
export interface DeviceFrame {
  /** Radio/network protocol: 'lorawan' | 'sigfox' | 'obd' | 'osc' | 'cookie' ... */
  protocol: string;
  keyType: KeyType;
  /** The device key in canonical form (canonicalKey). */
  deviceKey: string;
  /** Frame counter or sequence number (LoRaWAN FCnt, full 32 bits; Sigfox seqNumber). */
  sequence?: number;
  /** ISO 8601 time stated by the device or its network server (not the hub's arrival time). */
  observedAt?: string;
  /**
   * Identifies this message among the device's messages, stable when the same message is delivered again and unique
   * per message (e.g. `${fCnt}-${networkServerReceivedAtMs}`; `${seqNumber}-${time}`). IRI-safe: [A-Za-z0-9._~-] only.
   * Observation IRIs are built from it (meta.messageId), so a redelivery writes the same triples.
   */
  messageId: string;
  fPort?: number;
  bytes?: Uint8Array;
  decoded?: Record<string, unknown>;
  /** Every reception of this frame (deduplicated: one entry per gateway). */
  radio?: RadioReception[];
  /** A location the network computed or the message carries. */
  location?: { latitude: number; longitude: number; altitude?: number; source?: string; accuracy?: number };
  /** Further network fields kept for the mapfile under payload.network (application id, DevAddr, data rate, ...). */
  network?: Record<string, unknown>;
}

/** A network server's, gateway's or platform's message format: pure decoding into a DeviceFrame. */
export interface NetworkServerCodec {
  readonly name: BindingName;
  /** Throws DecodeError (hub/errors.ts) naming the field; never reads a clock (receivedAt comes from the transport). */
  decodeUplink(body: unknown, receivedAt: number): DeviceFrame;
}

/** The slice of a Thing's TD the payload codecs see: the deviceDefinitions of the interface the frame came on. */
export interface CodecContext {
  fPort?: number;
  /** deviceDefinitions of the matched ioAdapterDefinitions entry (e.g. `schcRules`, `cayenne` options). */
  device: Readonly<Record<string, unknown>>;
}

/** A payload codec named by a TD (cayenne-lpp, senml-json, senml-cbor, schc, ...): bytes -> decoded fields. */
export interface PayloadCodec {
  readonly name: string;
  /**
   * Returns the decoded fields, or, for a processing codec such as SCHC decompression, `{ bytes }` to hand the next codec
   * in the chain (with optional extra fields merged into the result). Throws DecodeError naming offset/field.
   */
  decode(bytes: Uint8Array, context: CodecContext): Record<string, unknown> | { bytes: Uint8Array; fields?: Record<string, unknown> };
}

/** A Thing interface resolved from the device-key index (hub/routing/device-index.ts). */
export interface DeviceEntry {
  thingId: string;
  /** The ioAdapterDefinitions entry's `uuid` (the adapter, i.e. the interface the device uses). */
  adapterId: string;
  keyType: KeyType;
  deviceKey: string;
  interfaceType: 'continuous' | 'uplink_triggered' | 'beacon';
  deviceDefinitions: Readonly<Record<string, unknown>>;
  /** Payload codec names of the TD's uplink chain, in order (empty: use the network server's decoded payload). */
  codecs: string[];
}

export type AcceptResult =
  | { status: 'stored'; thingId: string; quads: number }
  /** The same message (thing, interface, messageId) was accepted before: nothing written again; acknowledge it. */
  | { status: 'duplicate'; thingId: string }
  /** The Thing names no mapfile: live values only. */
  | { status: 'unmapped'; thingId: string }
  /**
   * Refused. `error.status` < 500: the message itself is bad (unknown device, decode error, replay, mapping error),
   * counted and logged; acknowledge and drop it. >= 500 (store overloaded or failing): do NOT acknowledge (no PUBACK,
   * 503 on webhooks) so the sender retries.
   */
  | { status: 'rejected'; error: HubError };

/** The uplink pipeline as transports see it (implemented in hub/routing). */
export interface UplinkSink {
  /** Routes one frame; resolves once its quads are in the durable log (or with the reason it was refused). Never throws. */
  accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult>;
  /** Counts and logs (rate-limited) a message that failed before it became a frame (bad JSON, bad MIC, ...). */
  reject(error: HubError, origin: UplinkOrigin): void;
  /** The device-key index behind the sink (the hub's pipeline has one): which registered Thing a key belongs to. */
  lookup?(keyType: KeyType, deviceKey: string): DeviceEntry | undefined;
}

/** What a running transport (broker, subscriber, UDP listener) exposes to the hub. */
export interface RunningTransport {
  readonly name: string;
  /** Bound address, when it listens. */
  readonly address?: { host: string; port: number };
  /**
   * Whether the hub registers the transport's adapter Thing when it starts (default true). False for transports with
   * no listener of their own (OBD follows the vehicle TDs): their adapter appears with their first message.
   */
  readonly announcesAdapter?: boolean;
  stats(): Record<string, number>;
  stop(): Promise<void>;
}

/**
 * Secrets a TD refers to by name (LoRaWAN session keys: `"nwkSKey": "secret:<name>"`), never served in a TD or a query.
 * Implemented in hub/secrets/.
 */
export interface SecretLookup {
  /** The secret's bytes for a `secret:<name>` reference or a bare name; undefined when there is none. */
  secret(ref: string): Uint8Array | undefined;
}

/** What a transport is started with (hub/bindings/transports.ts). */
export interface TransportContext {
  config: import('../config.ts').HubConfig;
  uplinks: UplinkSink;
  /** Token checks for publishers (MQTT username + token as password, with the write scope). */
  auth: import('../http/auth.ts').TokenAuth;
  secrets: SecretLookup;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  /** The Thing directory (TDs and their created/updated/deleted events), for transports that connect out per Thing (OBD). */
  directory?: import('../mapping/thing-mappings.ts').TdSource;
}
