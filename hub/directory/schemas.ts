// Request schemas of the directory's routes (fastify validates params and query strings before the handlers run).

export const TD_MEDIA_TYPE = 'application/td+json';
export const MERGE_PATCH_MEDIA_TYPE = 'application/merge-patch+json';

/** Largest TD body the directory accepts (a TD is a description, not data): larger bodies get 413. */
export const MAX_TD_BYTES = 1024 * 1024;

export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 2048 } },
} as const;

export const listQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 100_000 },
    offset: { type: 'integer', minimum: 0 },
    format: { type: 'string', enum: ['array', 'collection'] },
  },
  additionalProperties: true,
} as const;

export const eventsQuery = {
  type: 'object',
  properties: { diff: { type: 'boolean' } },
  additionalProperties: true,
} as const;

export const eventsParams = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', enum: ['thing_created', 'thing_updated', 'thing_deleted'] } },
} as const;

export const sparqlQuery = {
  type: 'object',
  properties: { query: { type: 'string', minLength: 1, maxLength: 100_000 } },
  additionalProperties: true,
} as const;

export const jsonpathQuery = {
  type: 'object',
  required: ['query'],
  properties: { query: { type: 'string', minLength: 1, maxLength: 10_000 } },
  additionalProperties: true,
} as const;

export const thingModelParams = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 100 } },
} as const;

export const instantiateQuery = {
  type: 'object',
  properties: { register: { type: 'boolean' } },
  additionalProperties: true,
} as const;
