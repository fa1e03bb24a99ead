// The hub's security definitions and HTTP forms of an exposed Thing (W3C WoT TD 1.1 §5.3.4 Form, §5.3.3 security).
import type { ExposedThing } from './node-wot.ts';
import type { ThingDescription } from './directory-port.ts';
import { writeTarget } from '../directory/writable-properties.ts';

/**
 * Security definitions every hub TD carries. The Thing-level requirement is the bearer token (actions need it); read
 * forms say `nosec_sc` while reads are open. Actions inherit the Thing-level scheme instead of naming it on the form
 * because node-wot 0.8.16's HTTP client loses the credentials of form-level bearer security.
 */
export function hubSecurity(): { securityDefinitions: Record<string, unknown>; security: string[] } {
  return {
    securityDefinitions: {
      nosec_sc: { scheme: 'nosec' },
      bearer_sc: { scheme: 'bearer', in: 'header', name: 'Authorization' },
      // CoAP without DTLS has no header: the token rides in the URI query (as RFC 6750 §2.3 allows for HTTP).
      coap_bearer_sc: { scheme: 'bearer', in: 'query', name: 'access_token' },
    },
    security: ['bearer_sc'],
  };
}

/** What invoking a device action answers (201, `Location` = `href`): the queued command (hub/things/command-sink.ts). */
export const COMMAND_OUTPUT: WoT.DataSchema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uri' },
    status: { type: 'string', enum: ['QUEUED', 'SENT', 'ACCEPTED', 'DELIVERED', 'FAILED', 'EXPIRED', 'CANCELLED'] },
    href: { type: 'string', format: 'uri' },
  },
  required: ['id', 'status'],
};
export const PAUSED_OUTPUT: WoT.DataSchema = { type: 'object', properties: { paused: { type: 'boolean' } }, required: ['paused'] };

/** Terms of a registered TD that are the directory's, not the exposed Thing's (security is replaced by the hub's). */
export const DROPPED_TERMS = ['forms', 'registration'];

/** Path of a Thing on the hub: `/wot/{encodeURIComponent(id)}` (the directory owns `/things`). */
export function thingPath(id: string): string {
  return `/wot/${encodeURIComponent(id)}`;
}

type Affordance = { forms?: Array<Record<string, unknown>> };

function push(affordance: Affordance, form: Record<string, unknown>): void {
  (affordance.forms ??= []).push(form);
}

/**
 * Adds the hub's HTTP forms (served by the hub's fastify, hub/things/plugin.ts) to an ExposedThing: readproperty by GET,
 * observeproperty and subscribeevent as Server-Sent Events (`subprotocol: "sse"`), invokeaction by POST, writeproperty
 * by PUT on properties that name their write action (hub/directory/writable-properties.ts).
 */
export function addHttpForms(thing: ExposedThing, baseUrl: string, readsOpen: boolean): void {
  const base = `${baseUrl}${thingPath(thing.id)}`;
  const readSecurity = readsOpen ? { security: ['nosec_sc'] } : {};
  for (const [name, p] of Object.entries(thing.properties)) {
    const href = `${base}/properties/${encodeURIComponent(name)}`;
    if (p.writeOnly !== true) {
      push(p, { href, contentType: 'application/json', op: ['readproperty'], ...readSecurity });
    }
    // A write is a queued command of the property's hub:writeAction (act scope, the Thing-level bearer): 201 + Location.
    if (writeTarget(p)) push(p, { href, contentType: 'application/json', op: ['writeproperty'], 'htv:methodName': 'PUT' });
    if (p.observable === true) {
      push(p, {
        href: `${href}/observable`,
        contentType: 'application/json',
        op: ['observeproperty', 'unobserveproperty'],
        subprotocol: 'sse',
        ...readSecurity,
      });
    }
  }
  let queued = false;
  for (const [name, a] of Object.entries(thing.actions)) {
    push(a, {
      href: `${base}/actions/${encodeURIComponent(name)}`,
      contentType: 'application/json',
      op: ['invokeaction'],
    });
    if (a.synchronous === false) {
      // TD 1.1 asynchronous actions: the 201's Location is the command's status resource (hub/downlink).
      queued = true;
      declareCommandId(a);
      push(a, { href: `${base}/commands/{commandId}`, contentType: 'application/json', op: ['queryaction'], 'htv:methodName': 'GET', ...readSecurity });
      push(a, { href: `${base}/commands/{commandId}`, contentType: 'application/json', op: ['cancelaction'], 'htv:methodName': 'DELETE' });
    }
  }
  if (queued) {
    const t = thing as unknown as { forms?: Array<Record<string, unknown>> };
    (t.forms ??= []).push({ href: `${base}/commands`, contentType: 'application/json', op: ['queryallactions'], 'htv:methodName': 'GET', ...readSecurity });
  }
  for (const [name, e] of Object.entries(thing.events)) {
    push(e, {
      href: `${base}/events/${encodeURIComponent(name)}`,
      contentType: 'application/json',
      op: ['subscribeevent', 'unsubscribeevent'],
      subprotocol: 'sse',
      ...readSecurity,
    });
  }
}

/** The URI template variable of the queryaction/cancelaction hrefs: the command's uuid (the last segment of `Location`). */
export const COMMAND_ID_VARIABLE: WoT.DataSchema = {
  type: 'string',
  title: 'Command id',
  description: 'The uuid of a queued command: the last path segment of the Location that invokeaction answered',
  pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
};

/** TD 1.1 §5.3.1.1: a form href with `{commandId}` needs the variable declared in the affordance's uriVariables. */
function declareCommandId(affordance: { uriVariables?: Record<string, unknown> }): void {
  affordance.uriVariables = { ...affordance.uriVariables, commandId: { ...COMMAND_ID_VARIABLE } };
}

/** Path of a command's status resource: `/wot/{thingId}/commands/{uuid}`. */
export function commandPath(thingId: string, commandId: string): string {
  return `${thingPath(thingId)}/commands/${commandId.replace(/^urn:uuid:/, '')}`;
}

/**
 * The host CoAP forms name: the configured bind address, or the public base URL's host when the hub binds a wildcard
 * address (forms must never list every interface address, as node-wot's CoapServer does).
 */
export function coapFormHost(host: string, baseUrl: string): string {
  const wildcard = host === '0.0.0.0' || host === '::' || host === '[::]';
  const name = wildcard ? new URL(baseUrl).hostname : host;
  return name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
}

/** Adds one CoAP form per operation on `formHost` (node-wot would add one per interface address and media type). */
export function addCoapForms(thing: ExposedThing, formHost: string, port: number, readsOpen: boolean): void {
  const hostLiteral = formHost;
  const base = `coap://${hostLiteral}:${port}${thingPath(thing.id)}`;
  const readSecurity = readsOpen ? ['nosec_sc'] : ['coap_bearer_sc'];
  for (const [name, p] of Object.entries(thing.properties)) {
    const href = `${base}/properties/${encodeURIComponent(name)}`;
    const ops = [...(p.writeOnly !== true ? ['readproperty'] : []), ...(p.observable === true ? ['observeproperty', 'unobserveproperty'] : [])];
    if (ops.length) push(p, { href, contentType: 'application/json', op: ops, security: readSecurity });
    if (writeTarget(p)) push(p, { href, contentType: 'application/json', op: ['writeproperty'], 'cov:method': 'PUT', security: ['coap_bearer_sc'] });
  }
  let queued = false;
  for (const [name, a] of Object.entries(thing.actions)) {
    push(a, {
      href: `${base}/actions/${encodeURIComponent(name)}`,
      contentType: 'application/json',
      op: ['invokeaction'],
      security: ['coap_bearer_sc'],
    });
    if (a.synchronous === false) {
      // invokeaction answers 2.01 Created with Location-Path of the status resource (hub/things/coap-router.ts).
      queued = true;
      declareCommandId(a);
      push(a, { href: `${base}/commands/{commandId}`, contentType: 'application/json', op: ['queryaction'], 'cov:method': 'GET', security: readSecurity });
      push(a, { href: `${base}/commands/{commandId}`, contentType: 'application/json', op: ['cancelaction'], 'cov:method': 'DELETE', security: ['coap_bearer_sc'] });
    }
  }
  if (queued) {
    const t = thing as unknown as { forms?: Array<Record<string, unknown>> };
    (t.forms ??= []).push({ href: `${base}/commands`, contentType: 'application/json', op: ['queryallactions'], 'cov:method': 'GET', security: readSecurity });
  }
  for (const [name, e] of Object.entries(thing.events)) {
    push(e, {
      href: `${base}/events/${encodeURIComponent(name)}`,
      contentType: 'application/json',
      op: ['subscribeevent', 'unsubscribeevent'],
      security: readSecurity,
    });
  }
}

/** `td` with each affordance's forms replaced by the exposed Thing's (HTTP + CoAP) and the hub's security definitions. */
export function mergeHubForms(td: ThingDescription, exposed: ExposedThing): ThingDescription {
  const out = structuredClone(td) as Record<string, unknown>;
  const groups = exposed as unknown as Record<string, Record<string, { forms?: unknown[] }>>;
  for (const kind of ['properties', 'actions', 'events'] as const) {
    const group = out[kind] as Record<string, Record<string, unknown>> | undefined;
    for (const [name, affordance] of Object.entries(group ?? {})) {
      const forms = groups[kind]?.[name]?.forms;
      if (forms?.length) affordance.forms = structuredClone(forms);
      const variables = (groups[kind]?.[name] as { uriVariables?: Record<string, unknown> } | undefined)?.uriVariables;
      if (variables) affordance.uriVariables = { ...(affordance.uriVariables as object | undefined), ...structuredClone(variables) };
    }
  }
  // The hub's Thing-level forms (queryallactions), when it has some, replace the registered TD's own.
  const thingForms = (exposed as unknown as { forms?: unknown[] }).forms;
  if (thingForms?.length) out.forms = structuredClone(thingForms);
  const hub = hubSecurity();
  out.securityDefinitions = { ...(out.securityDefinitions as object | undefined), ...hub.securityDefinitions };
  out.security = hub.security;
  return out as ThingDescription;
}
