// Cookie messages (Mujica et al., Sensors 2018): codec, shadows, the TCP stream listener (config.cookiePort) and the MQTT topic decoder.
import type { RunningTransport, TransportContext } from '../types.ts';
import { CookieIngest } from './ingest.ts';
import { listenCookie } from './listener.ts';

export * from './codec.ts';
export * from './shadows.ts';
export { CookieIngest } from './ingest.ts';
export { listenCookie } from './listener.ts';

/** MQTT: `cookie/{gatewayId}/up` carries the serial form (one message, NUL optional), `cookie/{gatewayId}/json` the JSON form. */
export const COOKIE_TOPIC = /^cookie\/([A-Za-z0-9._~-]{1,64})\/(up|json)$/;

const ingests = new WeakMap<object, CookieIngest>();

/** The hub's one CookieIngest (shadows, counts), shared by the TCP listener and the MQTT topics; keyed by its pipeline. */
export function cookieIngestOf(ctx: Pick<TransportContext, 'uplinks' | 'log'>): CookieIngest {
  let ingest = ingests.get(ctx.uplinks);
  if (!ingest) ingests.set(ctx.uplinks, (ingest = new CookieIngest(ctx)));
  return ingest;
}

/** Starts the TCP listener when config.cookiePort > 0 (bound to config.host); undefined when off. */
export async function startCookie(ctx: TransportContext): Promise<RunningTransport | undefined> {
  const port = (ctx.config as { cookiePort?: number }).cookiePort ?? 0;
  if (!port) return undefined;
  return listenCookie(ctx, port, { ingest: cookieIngestOf(ctx) });
}
