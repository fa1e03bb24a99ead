// HTTP API of virtual sensors: PUT|GET|DELETE /virtual/{name} (JSON or YAML definitions; write scope to change), GET /virtual.
import { createRequire } from 'node:module';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequestError, UnsupportedMediaTypeError } from '../errors.ts';
import type { TokenAuth } from '../http/auth.ts';
import { strictTextParser } from '../http/body.ts';
import { DefinitionError } from './definition.ts';
import type { VirtualService } from './service.ts';

// js-yaml 4 (installed with the hub's dependencies; its JSON schema: no custom tags, no code) for YAML definitions.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string, options: { schema: unknown; json: boolean }): unknown; JSON_SCHEMA: unknown };

const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];
export const DEFINITION_BODY_LIMIT = 256 * 1024;
const MAX_NODES = 20_000;
const nameParams = { type: 'object', properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' } }, required: ['name'] } as const;

/** A YAML definition as plain data; aliases that expand past MAX_NODES (a "billion laughs" document) are refused. */
export function parseYamlDefinition(text: string): unknown {
  let doc: unknown;
  try {
    doc = yaml.load(text, { schema: yaml.JSON_SCHEMA, json: true });
  } catch (e) {
    throw new BadRequestError(`The YAML definition does not parse: ${(e as Error).message.split('\n')[0]}`, {}, 'invalid-yaml');
  }
  let nodes = 0;
  const walk = (v: unknown, depth: number): void => {
    if ((nodes += 1) > MAX_NODES || depth > 64) throw new DefinitionError(`A definition has at most ${MAX_NODES} values, nested at most 64 deep (YAML aliases count as copies)`, '', 'definition-too-large');
    if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (typeof v === 'object' && v !== null) for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(doc, 0);
  return doc;
}

export async function virtualPlugin(app: FastifyInstance, deps: { auth: TokenAuth; virtual: VirtualService; baseUrl: string }): Promise<void> {
  const { auth, virtual } = deps;
  if (!app.hasContentTypeParser('application/yaml')) app.addContentTypeParser(YAML_TYPES, { parseAs: 'buffer' }, strictTextParser);
  // Auth first, then the media type, both before the body is read.
  const definitionType = async (req: FastifyRequest): Promise<void> => {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json' && !YAML_TYPES.includes(type)) throw new UnsupportedMediaTypeError(`A virtual sensor definition is application/json or YAML (application/yaml), not '${type || 'none'}'`);
  };

  app.get('/virtual', { onRequest: auth.require('read') }, async () => ({ sensors: virtual.list().map(({ definition: _d, ...s }) => s) }));

  app.get<{ Params: { name: string } }>('/virtual/:name', { onRequest: auth.require('read'), schema: { params: nameParams } }, async (req) => virtual.status(req.params.name));

  app.put<{ Params: { name: string } }>('/virtual/:name', { onRequest: [auth.require('write'), definitionType], bodyLimit: DEFINITION_BODY_LIMIT, schema: { params: nameParams } }, async (req, reply) => {
    const doc = typeof req.body === 'string' ? parseYamlDefinition(req.body) : req.body;
    const { created } = await virtual.put(req.params.name, doc);
    const href = `${deps.baseUrl}/virtual/${req.params.name}`;
    return reply.code(created ? 201 : 200).header('location', href).send(virtual.status(req.params.name));
  });

  app.delete<{ Params: { name: string } }>('/virtual/:name', { onRequest: auth.require('write'), schema: { params: nameParams } }, async (_req, reply) => {
    await virtual.delete(_req.params.name);
    return reply.code(204).send();
  });
}
