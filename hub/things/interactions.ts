// The operations the hub's protocol front-ends (HTTP on fastify, CoAP) perform on exposed Things.
import type { Observer, ObservedKind } from './observers.ts';

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
   * observeproperty / subscribeevent; resolves to the function that ends the observation. `onEnd` runs when the hub
   * ends it (the Thing was removed).
   */
  observe(thingId: string, kind: ObservedKind, name: string, observer: Observer, onEnd?: () => void): Promise<() => void>;
  /** The TD of an exposed Thing with the hub's forms. */
  thingDescription(thingId: string): Record<string, unknown>;
  /** Whether a Thing with this id is exposed. */
  hasThing(thingId: string): boolean;
  /** Ids of every exposed Thing. */
  thingIds(): string[];
}
