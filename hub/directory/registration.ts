// Registration information of a TD in the directory (WoT Discovery §6.2) and the Enriched TD built from it.
import { DISCOVERY_CONTEXT } from './td-rdf.ts';
import { createMergePatch } from './merge-patch.ts';

/** A Thing Description as JSON; the directory keeps exactly what the client sent. */
export type ThingDescription = Record<string, unknown> & { id?: string };

/** One directory entry, as kept in memory and on disk. */
export interface DirectoryEntry {
  id: string;
  /** The TD as submitted, without `registration`; anonymous TDs keep no `id` here. */
  td: ThingDescription;
  anonymous: boolean;
  created: string;
  modified: string;
  /** Absolute expiry (RFC 3339), from the client's `registration.expires` or `ttl`. */
  expires?: string;
  ttl?: number;
}

/** The client-settable part of `registration` (WoT Discovery §6.2: ttl and expires; the rest is server-managed). */
export function splitRegistration(td: ThingDescription): { td: ThingDescription; ttl?: number; expires?: string } {
  const { registration, ...rest } = td;
  const reg = (typeof registration === 'object' && registration !== null ? registration : {}) as Record<string, unknown>;
  return {
    td: rest,
    ttl: typeof reg.ttl === 'number' ? reg.ttl : undefined,
    expires: typeof reg.expires === 'string' ? reg.expires : undefined,
  };
}

/** Expiry instant: an explicit `expires` wins; else `modified + ttl` seconds; else none. */
export function computeExpires(modified: Date, ttl?: number, expires?: string): string | undefined {
  if (expires) return new Date(expires).toISOString();
  if (ttl !== undefined) return new Date(modified.getTime() + ttl * 1000).toISOString();
  return undefined;
}

/** Adds the discovery context to a TD's @context (tdd-context-injection) unless it is there already. */
export function withDiscoveryContext(context: unknown): unknown {
  if (context === undefined) return DISCOVERY_CONTEXT;
  const list = Array.isArray(context) ? context : [context];
  if (list.includes(DISCOVERY_CONTEXT)) return context;
  // Keep string contexts first and the object (prefix) entries last, as TD 1.1 §5.3.1.1 expects.
  const firstObject = list.findIndex((c) => typeof c === 'object' && c !== null);
  const at = firstObject < 0 ? list.length : firstObject;
  return [...list.slice(0, at), DISCOVERY_CONTEXT, ...list.slice(at)];
}

/**
 * The Enriched TD (WoT Discovery §6.2): the stored TD, the local id for anonymous TDs (tdd-anonymous-td-identifier),
 * the discovery context, and `registration` with `retrieved` set to the time of this read.
 */
export function enrich(entry: DirectoryEntry, retrieved?: Date): ThingDescription {
  const registration: Record<string, unknown> = { created: entry.created, modified: entry.modified };
  if (entry.expires) registration.expires = entry.expires;
  if (entry.ttl !== undefined) registration.ttl = entry.ttl;
  if (retrieved) registration.retrieved = retrieved.toISOString();
  const td: ThingDescription = { ...entry.td, '@context': withDiscoveryContext(entry.td['@context']) };
  if (entry.anonymous) td.id = entry.id;
  td.registration = registration;
  return td;
}

/** The merge patch between two versions of a TD, with the id always present (tdd-notification-data-update-id). */
export function entryDiff(before: DirectoryEntry, after: DirectoryEntry): Record<string, unknown> {
  const patch = createMergePatch(enrich(before), enrich(after)) as Record<string, unknown>;
  return { id: after.id, ...patch };
}
