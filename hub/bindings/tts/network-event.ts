// What a network server's message decodes to: an uplink frame for the pipeline, or another event (join, ack, status...)
// that the transports count and, for joins and device status, report. Shared by the TTS, ChirpStack and Sigfox codecs.
import type { DeviceFrame, KeyType } from '../types.ts';

/** Kinds of non-uplink event, across network servers (TTS message types, ChirpStack `?event=`, Sigfox callback types). */
export type NetworkEventKind =
  | 'join' // TTS join_accept, ChirpStack join
  | 'status' // ChirpStack status (battery, link margin)
  | 'location' // TTS location_solved, ChirpStack location
  | 'downlink' // TTS downlink_ack/nack/sent/failed/queued/queue_invalidated, ChirpStack ack/txack, Sigfox acknowledge
  | 'log' // ChirpStack log (errors such as UPLINK_MIC), Sigfox error callbacks
  | 'integration' // ChirpStack integration (legacy, <= v4.14)
  | 'service' // TTS service_data, uplink_normalized (a second view of an uplink already delivered)
  | 'other';

export interface OtherNetworkEvent {
  kind: NetworkEventKind;
  /** The network server's own name of the event, e.g. `join_accept`, `txack`, `acknowledge`. */
  event: string;
  device?: { keyType: KeyType; deviceKey: string };
  /** Time the network server stated (RFC 3339 text as given). */
  time?: string;
  /** The event's fields, normalised (camelCase, numbers as numbers): what a report or the actions issue needs. */
  details: Record<string, unknown>;
}

export type NetworkEvent = { kind: 'uplink'; event: string; frame: DeviceFrame } | OtherNetworkEvent;
