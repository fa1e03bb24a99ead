// Builds the uplink side of a hub: device-key index, adapters and rejections, the router, the pipeline (UplinkSink).
import type { MappingService } from '../mapping/service.ts';
import type { TdSource } from '../mapping/thing-mappings.ts';
import type { QuadStore } from '../store/quad-store.ts';
import { UplinkAdapters } from './adapters.ts';
import { DeviceIndex } from './device-index.ts';
import { LiveState } from './live-state.ts';
import { Rejections } from './rejections.ts';
import { UplinkPipeline } from './uplink-pipeline.ts';
import { UplinkRouter } from './uplink-router.ts';

export interface RoutingService {
  index: DeviceIndex;
  router: UplinkRouter;
  /** The UplinkSink every transport and webhook hands frames to. */
  pipeline: UplinkPipeline;
  rejections: Rejections;
  adapters: UplinkAdapters;
  live: LiveState;
}

export interface RoutingServiceOptions {
  config: { baseUrl: string };
  store: QuadStore;
  mapping: MappingService;
  directory?: TdSource;
  live?: LiveState;
  log?: { warn(obj: object, msg: string): void };
}

export async function createRoutingService(options: RoutingServiceOptions): Promise<RoutingService> {
  const { config, store, mapping, log } = options;
  const live = options.live ?? new LiveState((err) => log?.warn({ err }, 'live-state listener failed'));
  const index = new DeviceIndex({ log });
  if (options.directory) await index.follow(options.directory);
  const rejections = new Rejections({ log });
  const adapters = new UplinkAdapters(rejections);
  adapters.onError = (err, context) => log?.warn({ err }, context);
  const router = new UplinkRouter({
    store,
    live,
    plans: mapping.registry,
    resolveMapping: mapping.things.resolve,
    baseUrl: config.baseUrl,
    // Failures are counted and logged (rate-limited) by the pipeline's Rejections; the router only reports.
  });
  const pipeline = new UplinkPipeline({ index, router, live, rejections, adapters });
  return { index, router, pipeline, rejections, adapters, live };
}
