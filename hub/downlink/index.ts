// The hub's downlink side: the durable queues, the network adapters, the actuation record, wired to the uplink pipeline.
import { resolve } from 'node:path';
import type { HubConfig } from '../config.ts';
import type { RoutingService } from '../routing/service.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { ActuationRecorder } from './actuations.ts';
import { chirpstackAdapter, sigfoxAdapter, ttsAdapter, type PublisherSlot } from './adapters.ts';
import { DownlinkService, type DownlinkRoutes } from './service.ts';
import type { DownlinkRoute } from './types.ts';

export { DownlinkService } from './service.ts';
export type { CommandRecord, CommandStatus, DownlinkAdapter, DownlinkRoute } from './types.ts';

export interface Downlink {
  service: DownlinkService;
  actuations: ActuationRecorder;
  /** Set when the MQTT transport runs (TTS and ChirpStack downlinks publish through it). */
  mqtt: PublisherSlot;
}

/**
 * Builds the service on <dataDir>/downlink, with the TTS, ChirpStack and Sigfox adapters; `routing` is read lazily
 * (the hub builds it after the Thing runtime that submits commands). Call service.open() before use.
 */
export function createDownlink(config: HubConfig, store: QuadStore, routing: () => RoutingService | undefined, onError: (e: unknown, context: string) => void): Downlink {
  const routes: DownlinkRoutes = {
    entriesOf: (thingId) => dedupe((routing()?.index.entriesOf(thingId) ?? []) as DownlinkRoute[]),
    lastActive: (thingId) => routing()?.pipeline.lastActive(thingId),
    lookup: (keyType, deviceKey) => routing()?.index.lookup(keyType as never, deviceKey) as DownlinkRoute | undefined,
  };
  const service = new DownlinkService(resolve(config.dataDir), routes, config.downlink);
  service.onError = onError;
  const mqtt: PublisherSlot = {};
  service.registerAdapter(ttsAdapter(mqtt));
  service.registerAdapter(chirpstackAdapter(mqtt));
  service.registerAdapter(sigfoxAdapter);
  const actuations = new ActuationRecorder(store, config.baseUrl, (e) => onError(e, 'actuation not recorded'));
  service.onTransition((c, entry, isNew) => actuations.record(c, entry, isNew));
  return { service, actuations, mqtt };
}

/** One route per interface (an interface with several keys, e.g. DevEUI and DevAddr, has one entry per key). */
function dedupe(entries: DownlinkRoute[]): DownlinkRoute[] {
  const seen = new Set<string>();
  return entries.filter((e) => (seen.has(e.adapterId) ? false : (seen.add(e.adapterId), true)));
}
