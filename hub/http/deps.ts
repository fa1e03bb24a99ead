// What the HTTP plugins are built from: configuration, the store, auth, and the hub's services.
import type { HubConfig } from '../config.ts';
import type { QuadStore } from '../store/quad-store.ts';
import type { TokenAuth } from './auth.ts';
import type { StreamLimiter } from './stream-limits.ts';
import type { Directory } from '../directory/directory.ts';
import type { MappingService } from '../mapping/service.ts';
import type { RoutingService } from '../routing/service.ts';
import type { LiveState } from '../routing/live-state.ts';
import type { CommandSink } from '../things/command-sink.ts';
import type { ThingRuntime } from '../things/thing-runtime.ts';
import type { SecretLookup, UplinkSink } from '../bindings/types.ts';

export interface HubDeps {
  config: HubConfig;
  store: QuadStore;
  auth: TokenAuth;
  /** The WoT Thing Description Directory (hub/directory). */
  directory: Directory;
  /** Latest value per Thing; the uplink router publishes, the Thing runtime reads and observes. */
  liveState: LiveState;
  /** Where invoked actions go (hub/things/command-sink.ts; the downlink queues later). */
  commands: CommandSink;
  /** Every Thing exposed through node-wot (HTTP forms on this app, CoAP). */
  things: ThingRuntime;
  /** Mapfiles (registry) and their attachment to Things (hub/mapping). */
  mapping: MappingService;
  /** The uplink side: device-key index, router, pipeline, adapters and rejections (hub/routing). */
  routing: RoutingService;
  /** Quotas on open event streams (SSE), shared by /events and the Things' observations; buildApp makes one. */
  streams?: StreamLimiter;
  /** The uplink pipeline (hub/routing) that webhook routes hand decoded frames to. */
  uplinks: UplinkSink;
  /** Named secrets (LoRaWAN session keys) that TDs refer to (hub/secrets). */
  secrets: SecretLookup;
  /** More members of GET /health, each read from this thread without waiting (e.g. `outbox`: the upstream link). */
  health?: Record<string, () => unknown>;
}
