// Admin-only HTTP routes of the secret store: PUT /secrets/{name} ({"value":"<hex>"} or text), DELETE, GET /secrets
// (names only). Values never appear in a response or a log line.
import type { FastifyInstance } from 'fastify';
import type { TokenAuth } from '../http/auth.ts';
import type { SecretLookup } from '../bindings/types.ts';
import { BadRequestError, NotImplementedError } from '../errors.ts';
import { parseSecretHex, SecretStore } from './secret-store.ts';

/** HubDeps fits: `secretsRoutes(app, deps)`. Without a SecretStore behind `secrets` the routes answer 501. */
export interface SecretsRouteDeps {
  auth: TokenAuth;
  secrets: SecretLookup;
}

const nameParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' } },
} as const;

export async function secretsRoutes(app: FastifyInstance, deps: SecretsRouteDeps): Promise<void> {
  const admin = deps.auth.require('admin');
  const store = deps.secrets instanceof SecretStore ? deps.secrets : undefined;
  const writable = (): SecretStore => {
    if (!store) throw new NotImplementedError('this hub has no secret store', undefined, 'secrets-unavailable');
    return store;
  };

  app.get('/secrets', { onRequest: admin }, async (_req, reply) => {
    reply.header('cache-control', 'no-store');
    return { secrets: (store?.names() ?? []).map((name) => ({ name, ref: `secret:${name}` })) };
  });

  app.put<{ Params: { name: string }; Body: unknown }>(
    '/secrets/:name',
    { onRequest: admin, schema: { params: nameParams }, bodyLimit: 4096 },
    async (req, reply) => {
      const body = req.body;
      let text: string;
      if (typeof body === 'string') text = body;
      else if (body !== null && typeof body === 'object' && typeof (body as { value?: unknown }).value === 'string') text = (body as { value: string }).value;
      else throw new BadRequestError('the body is {"value":"<hex>"} or the hex value as text/plain', undefined, 'secret-invalid');
      const created = await writable().put(req.params.name, parseSecretHex(text));
      reply.code(created ? 201 : 204).header('cache-control', 'no-store');
      if (created) reply.header('location', `/secrets/${req.params.name}`);
      return reply.send();
    },
  );

  app.delete<{ Params: { name: string } }>('/secrets/:name', { onRequest: admin, schema: { params: nameParams } }, async (req, reply) => {
    await writable().delete(req.params.name);
    return reply.code(204).send();
  });
}
