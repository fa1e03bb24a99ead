// Route schemas of the routing plugin (/ingest).

export const thingParams = {
  type: 'object',
  properties: { thingId: { type: 'string', minLength: 1, maxLength: 1024 } },
  required: ['thingId'],
} as const;

export const ingestQuery = {
  type: 'object',
  properties: { receivedAt: { type: 'string', format: 'date-time' } },
} as const;

export const jsonObjectBody = { type: 'object' } as const;
