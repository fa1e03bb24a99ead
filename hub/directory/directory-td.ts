// The directory's own TD (typed ThingDirectory), served at /.well-known/wot; follows the TDD Thing Model of WoT Discovery Annex B.
import { DISCOVERY_CONTEXT, TD_CONTEXT_11 } from './td-rdf.ts';

const TD_ARRAY = { type: 'array', items: { type: 'object' } } as const;
const ID_VAR = { id: { title: 'TD identifier', type: 'string', format: 'iri-reference' } };

/**
 * WoT Discovery §6.1 (exploration-directory-description-type) and Annex B: the directory as a Thing, with forms for
 * listing, CRUD, search and notifications. Reads are open (nosec) when the hub is configured so; writes use bearer tokens.
 */
export function directoryTd(baseUrl: string, readsOpen: boolean, createdAt: string): Record<string, unknown> {
  const write = ['bearer_sc'];
  return {
    '@context': [TD_CONTEXT_11, DISCOVERY_CONTEXT, { htv: 'http://www.w3.org/2011/http#' }],
    '@type': 'ThingDirectory',
    id: `${baseUrl}/.well-known/wot`,
    title: 'Thing Description Directory (TDD) of the WoT hub',
    version: { instance: '1.0.0', model: '1.0.0' },
    created: createdAt,
    base: `${baseUrl}/`,
    securityDefinitions: {
      nosec_sc: { scheme: 'nosec' },
      bearer_sc: { scheme: 'bearer', in: 'header', name: 'Authorization', format: 'opaque' },
    },
    security: readsOpen ? ['nosec_sc'] : ['bearer_sc'],
    properties: {
      things: {
        description: 'Retrieve all Thing Descriptions, sorted by id, optionally paged',
        uriVariables: {
          offset: { title: 'Number of TDs to skip before the page', type: 'number', minimum: 0, default: 0 },
          limit: { title: 'Number of TDs in the page', type: 'number', minimum: 1 },
          format: { title: 'Payload format', type: 'string', enum: ['array', 'collection'], default: 'array' },
        },
        readOnly: true,
        ...TD_ARRAY,
        forms: [{ href: 'things{?offset,limit,format}', op: 'readproperty', 'htv:methodName': 'GET', contentType: 'application/ld+json', response: { description: 'Success', contentType: 'application/ld+json', 'htv:headers': [{ 'htv:fieldName': 'Link' }] } }],
      },
    },
    actions: {
      createThing: {
        description: 'Create (or update) a Thing Description with an id',
        uriVariables: ID_VAR,
        input: { type: 'object' },
        idempotent: true,
        forms: [{ href: 'things/{id}', op: 'invokeaction', 'htv:methodName': 'PUT', contentType: 'application/td+json', security: write, response: { description: 'Created or updated', contentType: 'text/plain' } }],
      },
      createAnonymousThing: {
        description: 'Create an Anonymous Thing Description; the Location header names its new urn:uuid id',
        input: { type: 'object' },
        output: { type: 'string', description: 'The id of the created TD' },
        forms: [{ href: 'things', op: 'invokeaction', 'htv:methodName': 'POST', contentType: 'application/td+json', security: write, response: { description: 'Created', contentType: 'text/plain', 'htv:headers': [{ 'htv:fieldName': 'Location' }] } }],
      },
      retrieveThing: {
        description: 'Retrieve one Thing Description (enriched with registration information)',
        uriVariables: ID_VAR,
        output: { type: 'object' },
        safe: true,
        idempotent: true,
        forms: [{ href: 'things/{id}', op: 'invokeaction', 'htv:methodName': 'GET', response: { description: 'Success', contentType: 'application/td+json' } }],
      },
      updateThing: {
        description: 'Replace a Thing Description',
        uriVariables: ID_VAR,
        input: { type: 'object' },
        idempotent: true,
        forms: [{ href: 'things/{id}', op: 'invokeaction', 'htv:methodName': 'PUT', contentType: 'application/td+json', security: write, response: { description: 'Success', contentType: 'text/plain' } }],
      },
      partiallyUpdateThing: {
        description: 'Partially update a Thing Description with a JSON Merge Patch (RFC 7396)',
        uriVariables: ID_VAR,
        input: { type: 'object' },
        forms: [{ href: 'things/{id}', op: 'invokeaction', 'htv:methodName': 'PATCH', contentType: 'application/merge-patch+json', security: write, response: { description: 'Success', contentType: 'text/plain' } }],
      },
      deleteThing: {
        description: 'Delete a Thing Description',
        uriVariables: ID_VAR,
        idempotent: true,
        forms: [{ href: 'things/{id}', op: 'invokeaction', 'htv:methodName': 'DELETE', security: write, response: { description: 'Success', contentType: 'text/plain' } }],
      },
      searchJSONPath: {
        description: 'JSONPath (RFC 9535) query over the array of Thing Descriptions',
        uriVariables: { query: { title: 'A valid JSONPath expression', type: 'string' } },
        output: { type: 'array' },
        safe: true,
        idempotent: true,
        forms: [{ href: 'search/jsonpath?query={query}', op: 'invokeaction', 'htv:methodName': 'GET', response: { description: 'Success', contentType: 'application/json' } }],
      },
      searchSPARQL: {
        description: 'SPARQL 1.1 query over the Thing Descriptions as RDF (one named graph per TD)',
        uriVariables: { query: { title: 'A valid SPARQL 1.1 query', type: 'string' } },
        output: {},
        safe: true,
        idempotent: true,
        forms: [
          { href: 'search/sparql?query={query}', op: 'invokeaction', 'htv:methodName': 'GET', response: { description: 'Success', contentType: 'application/json' } },
          { href: 'search/sparql', op: 'invokeaction', 'htv:methodName': 'POST', contentType: 'application/sparql-query', response: { description: 'Success', contentType: 'application/json' } },
        ],
      },
    },
    events: {
      thingCreated: {
        description: 'Registration of Thing Descriptions inside the directory',
        uriVariables: { diff: { description: 'Include the whole TD in the event data', type: 'boolean' } },
        data: { type: 'object' },
        forms: [{ op: 'subscribeevent', href: 'events/thing_created{?diff}', subprotocol: 'sse', contentType: 'text/event-stream' }],
      },
      thingUpdated: {
        description: 'Updates to Thing Descriptions within the directory',
        uriVariables: { diff: { description: 'Include the merge patch of the change in the event data', type: 'boolean' } },
        data: { type: 'object' },
        forms: [{ op: 'subscribeevent', href: 'events/thing_updated{?diff}', subprotocol: 'sse', contentType: 'text/event-stream' }],
      },
      thingDeleted: {
        description: 'Deletion of Thing Descriptions from the directory',
        data: { type: 'object' },
        forms: [{ op: 'subscribeevent', href: 'events/thing_deleted', subprotocol: 'sse', contentType: 'text/event-stream' }],
      },
    },
  };
}
