// The operations the hub's protocol front-ends (HTTP on fastify, CoAP) perform on exposed Things.
import { createHash } from 'node:crypto';
import type { Command } from './command-sink.ts';
import type { Observer, ObservedKind } from './observers.ts';

/** Who asked, for the command record: a fingerprint of the bearer token (never the token). */
export function requesterOf(token: string | undefined): string | undefined {
  return token ? `token:${createHash('sha256').update(token, 'utf8').digest('hex').slice(0, 12)}` : undefined;
}

export interface InteractionResult {
  body: Buffer;
  contentType: string;
  /** 201 for a queued command (absent: 200). */
  status?: number;
  /** The queued command's status resource (absolute URL), for the `Location` header. */
  location?: string;
}

/**
 * WoT operations (W3C WoT TD 1.1 §5.3.4.2 `op` values) as the front-ends see them. Each throws a typed HubError
 * (404 unknown Thing/affordance, 400 invalid input, 503 overloaded), never a bare Error, on bad input.
 */
export interface ThingInteractions {
  /** readproperty: the latest live value. */
  readProperty(thingId: string, name: string): Promise<InteractionResult>;
  /** invokeaction: validates the input against the action's schema, then runs the action. */
  invokeAction(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<InteractionResult>;
  /**
   * writeproperty: a device property that names its hub:writeAction (hub/directory/writable-properties.ts) is written by
   * queueing that action with the value as (part of) its input: 201 + Location as invokeaction. 404 unknown property,
   * 405 `property-not-writable`, 400 a value or resulting input that does not match its schema.
   */
  writeProperty(thingId: string, name: string, body: Buffer | undefined, contentType: string | undefined, requester?: string): Promise<InteractionResult>;
  /**
   * observeproperty / subscribeevent; resolves to the function that ends the observation. `onEnd` runs when the hub
   * ends it (the Thing was removed).
   */
  observe(thingId: string, kind: ObservedKind, name: string, observer: Observer, onEnd?: () => void): Promise<() => void>;
  /** queryaction: a queued command's status resource (404 unknown Thing or command). */
  queryAction(thingId: string, commandId: string): Command;
  /** queryallactions: the Thing's kept commands, oldest first. */
  queryAllActions(thingId: string): Command[];
  /** cancelaction: ends a QUEUED command (409 once the network has it). */
  cancelAction(thingId: string, commandId: string, requester?: string): Promise<Command>;
  /** The TD of an exposed Thing with the hub's forms. */
  thingDescription(thingId: string): Record<string, unknown>;
  /** Whether a Thing with this id is exposed. */
  hasThing(thingId: string): boolean;
  /** Ids of every exposed Thing. */
  thingIds(): string[];
}
