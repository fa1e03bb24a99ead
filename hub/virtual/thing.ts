// The TD of a virtual sensor: its Thing Model instantiated, plus a property per output and the definition's event.
import type { VirtualDefinition } from './definition.ts';
import { VIRTUAL_MAPPING } from './publish.ts';

/** The slice of the Thing Directory the virtual sensors use. */
export interface TdDirectory {
  get(id: string): Promise<Record<string, unknown> | undefined>;
  all(): Promise<Array<Record<string, unknown>>>;
  delete(id: string): Promise<boolean>;
  on(type: 'thing_created' | 'thing_updated' | 'thing_deleted', listener: (e: { id: string; td?: Record<string, unknown> }) => void): unknown;
  off(type: 'thing_created' | 'thing_updated' | 'thing_deleted', listener: (e: { id: string; td?: Record<string, unknown> }) => void): unknown;
}

const JSON_TYPES: Record<string, string> = { number: 'number', integer: 'integer', string: 'string', boolean: 'boolean', object: 'object' };

/** Default Thing Model per kind; a definition may name another (`model`). */
export function modelOf(definition: VirtualDefinition): string {
  if (definition.model) return definition.model;
  return definition.kind === 'sparql' ? 'virtual-sparql-sensor' : 'virtual-sensor';
}

export function virtualThingDescription(
  models: { instantiate(name: string, request: { placeholders: Record<string, unknown>; id?: string }): Record<string, unknown> },
  o: { name: string; thingId: string; definition: VirtualDefinition; baseUrl: string },
): Record<string, unknown> {
  const { definition: d } = o;
  const td = models.instantiate(modelOf(d), { id: o.thingId, placeholders: { TITLE: d.title ?? `Virtual sensor ${o.name}`, MAPPING: VIRTUAL_MAPPING } });
  if (d.description) td.description = d.description;
  const properties = (td.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const [n, out] of Object.entries(d.outputs)) {
    if (properties[n]) continue;
    properties[n] = { title: out.title ?? n, type: JSON_TYPES[out.type ?? 'number'] ?? 'number', readOnly: true, observable: true, ...(out.unit ? { unit: out.unit } : {}), forms: [{ href: `${o.baseUrl}/wot/${encodeURIComponent(o.thingId)}/properties/${encodeURIComponent(n)}` }] };
  }
  td.properties = properties;
  const events = (td.events ?? {}) as Record<string, Record<string, unknown>>;
  if (d.kind !== 'sparql' && d.event && !events[d.event]) events[d.event] = { title: `${d.event} (the output values)`, data: { type: 'object' }, forms: [{ href: `${o.baseUrl}/wot/${encodeURIComponent(o.thingId)}/events/${encodeURIComponent(d.event)}` }] };
  td.events = events;
  td['hub:virtualSensor'] = o.name;
  td.links = [...((td.links as unknown[]) ?? []), { rel: 'describedby', href: `${o.baseUrl}/virtual/${o.name}`, type: 'application/json' }];
  return td;
}
