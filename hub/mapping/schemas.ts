// Route schemas of the mapping plugin (params, bodies, responses).

export const nameParams = {
  type: 'object',
  properties: { name: { type: 'string', minLength: 1, maxLength: 128 } },
  required: ['name'],
} as const;

export const thingParams = {
  type: 'object',
  properties: { thingId: { type: 'string', minLength: 1, maxLength: 1024 } },
  required: ['thingId'],
} as const;

export const jsonObjectBody = { type: 'object' } as const;

export const previewQuery = {
  type: 'object',
  properties: { thingId: { type: 'string', minLength: 1 }, receivedAt: { type: 'string', format: 'date-time' } },
  additionalProperties: false,
} as const;

export const mappingListResponse = {
  200: {
    type: 'object',
    properties: {
      mappings: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string' },
            url: { type: 'string' },
            format: { type: 'string' },
            mediaType: { type: 'string' },
            updatedAt: { type: 'string' },
          },
        },
      },
    },
  },
} as const;
