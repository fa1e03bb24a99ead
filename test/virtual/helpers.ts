// Test helpers for virtual sensors: input Things with a small temperature mapfile, /ingest posts, SPARQL, waiting.
import { expect } from 'vitest';
import type { TestHub } from '../helpers/hub.ts';

/** A mapfile for /ingest messages `{temperature, room}`: one SOSA observation per message, IRIs as the shipped mapfiles make them. */
export const ROOM_MAPFILE = `@prefix rml: <http://w3id.org/rml/> . @prefix hub: <https://w3id.org/wot-hub#> . @prefix sosa: <http://www.w3.org/ns/sosa/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix : <https://w3id.org/wot-hub/mappings#> .
:src a rml:LogicalSource ; rml:source hub:CurrentMessage ; rml:referenceFormulation rml:JSONPath ; rml:iterator "$[?(@.payload.temperature != null)]" .
:obs a rml:TriplesMap ; rml:logicalSource :src ;
  rml:subjectMap [ rml:template "things/{$.meta.thingId}/observations/{$.meta.messageId}/temperature" ; rml:class sosa:Observation ] ;
  rml:predicateObjectMap
    [ rml:predicate sosa:madeBySensor ; rml:objectMap [ rml:template "things/{$.meta.thingId}" ] ] ,
    [ rml:predicate sosa:observedProperty ; rml:objectMap [ rml:template "things/{$.meta.thingId}/properties/temperature" ] ] ,
    [ rml:predicate sosa:hasFeatureOfInterest ; rml:objectMap [ rml:template "rooms/{$.payload.room}" ] ] ,
    [ rml:predicate sosa:hasSimpleResult ; rml:objectMap [ rml:reference "$.payload.temperature" ; rml:datatype xsd:double ] ] ,
    [ rml:predicate sosa:resultTime ; rml:objectMap [ rml:reference "$.meta.observedAt" ; rml:datatype xsd:dateTime ] ] .
`;

export async function putMapfile(hub: TestHub, name: string, text: string): Promise<void> {
  const res = await hub.app.inject({ method: 'PUT', url: `/mappings/${name}`, headers: { authorization: hub.bearer, 'content-type': 'text/turtle' }, payload: text });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

/** Registers a plain sensor Thing (TD with a temperature property) that uses `mapping`. */
export async function putThing(hub: TestHub, id: string, mapping = 'rooms', type = 'sosa:Sensor'): Promise<void> {
  const td = {
    '@context': ['https://www.w3.org/2022/wot/td/v1.1', { sosa: 'http://www.w3.org/ns/sosa/', hub: 'https://w3id.org/wot-hub#' }],
    '@type': type,
    id,
    title: id,
    'hub:mapping': mapping,
    securityDefinitions: { nosec_sc: { scheme: 'nosec' } },
    security: ['nosec_sc'],
    properties: { temperature: { type: 'number', readOnly: true, observable: true, forms: [{ href: `http://example.org/${encodeURIComponent(id)}/t` }] } },
  };
  const res = await hub.app.inject({ method: 'PUT', url: `/things/${encodeURIComponent(id)}`, headers: { authorization: hub.bearer, 'content-type': 'application/td+json' }, payload: td });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

export async function ingest(hub: TestHub, thingId: string, payload: Record<string, unknown>, observedAt: string, messageId: string): Promise<void> {
  const res = await hub.app.inject({ method: 'POST', url: `/ingest/${encodeURIComponent(thingId)}`, headers: { authorization: hub.bearer, 'content-type': 'application/json' }, payload: { meta: { observedAt, messageId }, payload } });
  expect(res.statusCode, res.body).toBe(200);
}

export async function putVirtual(hub: TestHub, name: string, definition: unknown, contentType = 'application/json') {
  return hub.app.inject({ method: 'PUT', url: `/virtual/${name}`, headers: { authorization: hub.bearer, 'content-type': contentType }, payload: typeof definition === 'string' ? definition : JSON.stringify(definition) });
}

export async function sparql(hub: TestHub, query: string): Promise<Array<Record<string, { value: string; datatype?: string }>>> {
  const res = await hub.app.inject({ method: 'POST', url: '/sparql', headers: { authorization: hub.bearer, 'content-type': 'application/sparql-query', accept: 'application/sparql-results+json' }, payload: query });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().results.bindings;
}

export async function readProperty(hub: TestHub, thingId: string, name: string): Promise<unknown> {
  const res = await hub.app.inject({ method: 'GET', url: `/wot/${encodeURIComponent(thingId)}/properties/${name}` });
  return res.statusCode === 200 ? res.json() : undefined;
}

/** Polls `get` until `ok` (bounded), returns the last value. */
export async function until<T>(get: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}
