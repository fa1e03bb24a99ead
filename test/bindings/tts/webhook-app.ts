// Test helper for the network-server webhook routes: a fastify app with the hub's problem handlers and strict body
// parsers, the bindings plugin, real token auth, and a recording UplinkSink whose answer each test chooses.
import Fastify, { type FastifyInstance } from 'fastify';
import { validateConfig } from '../../../hub/config.ts';
import { installStrictBodyParsers } from '../../../hub/http/body.ts';
import { TokenAuth } from '../../../hub/http/auth.ts';
import type { HubDeps } from '../../../hub/http/deps.ts';
import { installProblemHandlers } from '../../../hub/http/problem.ts';
import { bindingsPlugin } from '../../../hub/bindings/plugin.ts';
import type { AcceptResult, DeviceFrame, UplinkOrigin, UplinkSink } from '../../../hub/bindings/types.ts';
import type { HubError } from '../../../hub/errors.ts';

export const ADMIN = 'Bearer webhook-admin-token-0123456789';
export const WRITER = 'Bearer webhook-write-token-0123456789';
export const READER = 'Bearer webhook-read-token-01234567890';

export class RecordingSink implements UplinkSink {
  accepted: Array<{ frame: DeviceFrame; origin: UplinkOrigin }> = [];
  rejected: Array<{ error: HubError; origin: UplinkOrigin }> = [];
  answer: (frame: DeviceFrame) => AcceptResult | Promise<AcceptResult> = () => ({ status: 'stored', thingId: 'urn:test:thing', quads: 8 });
  async accept(frame: DeviceFrame, origin: UplinkOrigin): Promise<AcceptResult> {
    this.accepted.push({ frame, origin });
    return this.answer(frame);
  }
  reject(error: HubError, origin: UplinkOrigin): void {
    this.rejected.push({ error, origin });
  }
}

export interface WebhookApp {
  app: FastifyInstance;
  sink: RecordingSink;
}

/** The bindings plugin (or `routes`) on its own; `withSink: false` leaves deps.uplinks unset (the pipeline missing). */
export async function webhookApp(
  options: { withSink?: boolean; ingestBodyLimit?: number; routes?: (app: FastifyInstance, deps: HubDeps) => Promise<void> } = {},
): Promise<WebhookApp> {
  const config = validateConfig({
    host: '127.0.0.1',
    httpPort: 0,
    coapPort: 0,
    mqttPort: 0,
    packetForwarderPort: 0,
    oscPort: 0,
    dataDir: '/nonexistent',
    adminToken: ADMIN.slice(7),
    tokens: [
      { token: WRITER.slice(7), scopes: ['write'] },
      { token: READER.slice(7), scopes: ['read'] },
    ],
    readsOpen: 'never',
    logLevel: 'silent',
    ...(options.ingestBodyLimit ? { ingestBodyLimit: options.ingestBodyLimit } : {}),
  });
  const auth = new TokenAuth(config, config.adminToken!);
  const sink = new RecordingSink();
  const deps = { config, auth, ...(options.withSink === false ? {} : { uplinks: sink }) } as unknown as HubDeps;
  const app = Fastify({ logger: false });
  installProblemHandlers(app, 'http://127.0.0.1');
  installStrictBodyParsers(app);
  await app.register(async (child) => (options.routes ?? bindingsPlugin)(child, deps));
  await app.ready();
  return { app, sink };
}
