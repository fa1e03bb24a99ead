// The OBD-II transport: one ELM327 session per vehicle Thing whose TD names an adapter, following the directory.
import { entriesOfTd } from '../../routing/device-index.ts';
import type { TdSource } from '../../mapping/thing-mappings.ts';
import type { RunningTransport, TransportContext } from '../types.ts';
import { vehicleConfigOf, type VehicleConfig } from './config.ts';
import { Elm327Session } from './session.ts';

export { parseElmReply, statusOf } from './elm327.ts';
export { decodeMode01, decodeDtcs, decodeVin, dtcsOf, PIDS } from './pids.ts';
export { parseNmea, GpsTrack } from './gps.ts';
export { decodeObdGatewayMessage, vinOfTopic } from './gateway.ts';
export { vehicleConfigOf } from './config.ts';
export { Elm327Session } from './session.ts';

/** Sessions at most (each is a TCP connection and a poll loop). */
export const MAX_VEHICLES = 256;

export interface ObdTransportOptions {
  /** The Things to follow (thing_created/updated/deleted); default `ctx.directory` when the hub passes one. */
  directory?: TdSource;
  backoffMs?: { min: number; max: number };
}

/**
 * Starts sessions for every vehicle TD (a `vin` interface with `deviceDefinitions.elm327`) and keeps them in step with
 * the directory: a created or updated TD starts or restarts its session (when its settings changed), a deleted one
 * stops it. Undefined (not started) when there is no directory to follow (a TransportContext without one).
 */
export async function startObd(ctx: TransportContext, options: ObdTransportOptions = {}): Promise<(RunningTransport & { session(thingId: string): Elm327Session | undefined }) | undefined> {
  const directory: TdSource | undefined = options.directory ?? ctx.directory;
  if (!directory) {
    ctx.log.info({}, 'OBD: no directory in the transport context; ELM327 sessions are not started');
    return undefined;
  }
  const sessions = new Map<string, { session: Elm327Session; key: string }>();
  const totals = { frames: 0, stored: 0, duplicate: 0, rejected: 0, configErrors: 0, refusedOverLimit: 0 };
  let stopped = false;

  const onFrame = async (frame: import('../types.ts').DeviceFrame, remote: string): Promise<void> => {
    totals.frames += 1;
    const result = await ctx.uplinks.accept(frame, { binding: 'obd', transport: 'tcp', receivedAt: Date.now(), remote });
    if (result.status === 'stored' || result.status === 'unmapped') totals.stored += 1;
    else if (result.status === 'duplicate') totals.duplicate += 1;
    else totals.rejected += 1;
  };

  const put = (thingId: string, td: Record<string, unknown> | undefined): void => {
    if (stopped) return;
    let config: VehicleConfig | undefined;
    try {
      for (const entry of td ? entriesOfTd(thingId, td) : []) {
        config = vehicleConfigOf(entry);
        if (config) break;
      }
    } catch (e) {
      totals.configErrors += 1;
      ctx.log.warn({ err: e, thingId }, 'OBD: vehicle TD names its ELM327 badly; no session');
      config = undefined;
    }
    const key = config ? JSON.stringify(config) : '';
    const current = sessions.get(thingId);
    if (current && current.key === key) return;
    if (current) {
      sessions.delete(thingId);
      void current.session.stop();
    }
    if (!config) return;
    if (sessions.size >= MAX_VEHICLES) {
      totals.refusedOverLimit += 1;
      ctx.log.warn({ thingId, max: MAX_VEHICLES }, 'OBD: too many vehicle sessions; refused');
      return;
    }
    const session = new Elm327Session(config, { onFrame, log: ctx.log, backoffMs: options.backoffMs });
    sessions.set(thingId, { session, key });
    session.start();
  };

  const track = (e: { id: string; td?: Record<string, unknown> }): void => put(e.id, e.td);
  directory.on('thing_created', track);
  directory.on('thing_updated', track);
  directory.on('thing_deleted', (e) => put(e.id, undefined));
  for (const td of await directory.all()) if (typeof td.id === 'string') put(td.id, td);

  return {
    name: 'obd',
    announcesAdapter: false,
    stats() {
      const out: Record<string, number> = { vehicles: sessions.size, ...totals };
      for (const { session } of sessions.values()) {
        for (const [k, v] of Object.entries(session.stats())) if (k !== 'supportedPids') out[`session.${k}`] = (out[`session.${k}`] ?? 0) + v;
      }
      return out;
    },
    /** The session of one vehicle Thing (tests, the Thing's live view). */
    session: (thingId: string) => sessions.get(thingId)?.session,
    async stop() {
      stopped = true;
      const all = [...sessions.values()];
      sessions.clear();
      await Promise.all(all.map((s) => s.session.stop()));
    },
  };
}
