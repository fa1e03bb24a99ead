// PUT|GET|DELETE /rules/{name} and GET /rules: rule definitions deployed and removed at runtime (write scope checked before the body is read).
import type { FastifyInstance } from 'fastify';
import type { TokenAuth } from '../http/auth.ts';
import type { RuleEngine } from './engine.ts';

/** Largest rule definition (bytes). */
export const RULE_BODY_LIMIT = 64 * 1024;
const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 63 } } } as const;

export async function rulesPlugin(app: FastifyInstance, deps: { auth: TokenAuth; rules: RuleEngine; baseUrl: string }): Promise<void> {
  const { auth, rules } = deps;
  app.get('/rules', { onRequest: auth.require('read') }, async () => ({ rules: rules.list() }));
  app.get<{ Params: { name: string } }>('/rules/:name', { onRequest: auth.require('read'), schema: { params: nameParams } }, async (req) => ({ name: req.params.name, ...rules.get(req.params.name) }));
  // onRequest runs before the body is read: a client without the write scope never gets its definition parsed.
  app.put<{ Params: { name: string } }>('/rules/:name', { onRequest: auth.require('write'), bodyLimit: RULE_BODY_LIMIT, schema: { params: nameParams } }, async (req, reply) => {
    const { created } = await rules.put(req.params.name, req.body);
    const body = { name: req.params.name, ...rules.get(req.params.name) };
    if (created) reply.code(201).header('location', `${deps.baseUrl}/rules/${req.params.name}`);
    return body;
  });
  app.delete<{ Params: { name: string } }>('/rules/:name', { onRequest: auth.require('write'), schema: { params: nameParams } }, async (req, reply) => {
    if (!(await rules.remove(req.params.name))) rules.get(req.params.name); // 404 not-found
    reply.code(204);
  });
}
