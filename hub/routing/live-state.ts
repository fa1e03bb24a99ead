// Live state of every Thing: the latest decoded message per Thing and subscribers to new ones (WoT observe, events, SSE).
import { EventEmitter } from 'node:events';

/** What every binding hands to the router: `{meta, payload}`, the `hub:CurrentMessage` that mapfiles read. */
export interface MessageEnvelope {
  meta: {
    thingId: string;
    protocol: string;
    interface?: string;
    /** ISO 8601 time the hub received the message. */
    receivedAt: string;
    /** Identifies the message among the device's (observation IRIs are built from it); made by the hub when absent. */
    messageId?: string;
    /** ISO 8601 time the device or its network server stated (the observations' result time); receivedAt when absent. */
    observedAt?: string;
    [key: string]: unknown;
  };
  payload: Record<string, unknown>;
}

/**
 * Told of each message of a Thing, with the Thing's property values after it (see LiveState.publish): observers of a
 * property named like a decoded or mapped value find it in `values`, whatever the payload's shape.
 */
export type MessageListener = (message: MessageEnvelope, values: Readonly<Record<string, unknown>>, own: Readonly<Record<string, unknown>>) => void;

/**
 * Latest message per Thing plus a subscription per Thing. Listeners run synchronously in publish order; a throwing
 * listener is isolated (reported through `onListenerError`) so one bad subscriber cannot stop ingestion.
 */
/** The emitter key of subscribeAll (a symbol: no Thing id can collide with it). */
const ANY: unique symbol = Symbol('any thing');

export class LiveState {
  private readonly latestByThing = new Map<string, MessageEnvelope>();
  private readonly valuesByThing = new Map<string, Record<string, unknown>>();
  private readonly emitter = new EventEmitter();
  private readonly storedEmitter = new EventEmitter();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(0);
    this.storedEmitter.setMaxListeners(0);
  }

  /**
   * A Thing's message is in the store (its insert acknowledged): the router tells this after publish, which comes
   * first. For readers of the store (SPARQL-defined virtual sensors), not of live values.
   */
  notifyStored(thingId: string): void {
    for (const listener of this.storedEmitter.listeners(thingId) as Array<() => void>) {
      try {
        listener();
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  subscribeStored(thingId: string, listener: () => void): () => void {
    this.storedEmitter.on(thingId, listener);
    return () => this.storedEmitter.off(thingId, listener);
  }

  /**
   * Records a Thing's latest message. Property values are, in increasing precedence: `lastSeen` / `lastInterface`
   * from the envelope, the payload's top-level fields, and `values` derived from the mapped observations (the router
   * passes each observation's simple result under the name of its observed property), so a TD property named like
   * the observed property reads the value the mapfile produced, whatever the payload's shape.
   */
  publish(message: MessageEnvelope, values: Record<string, unknown> = {}): void {
    this.latestByThing.set(message.meta.thingId, message);
    const meta: Record<string, unknown> = { lastSeen: message.meta.receivedAt };
    if (message.meta.interface !== undefined) meta.lastInterface = message.meta.interface;
    const payload = message.payload !== null && typeof message.payload === 'object' ? message.payload : {};
    // Merged over the Thing's earlier values: a device that sends several message types (an IMU's /euler, then its
    // /battery) keeps the latest value of each property, not only those of its last message.
    const merged = { ...this.valuesByThing.get(message.meta.thingId), ...meta, ...payload, ...values };
    this.valuesByThing.set(message.meta.thingId, merged);
    // `own`: the values this message carried (payload fields, then the mapped values), for consumers such as the
    // virtual sensors (hub/virtual) that must not count a Thing's earlier values as new samples.
    const own = { ...payload, ...values };
    for (const listener of this.emitter.listeners(message.meta.thingId) as MessageListener[]) {
      try {
        listener(message, merged, own);
      } catch (e) {
        this.onListenerError(e);
      }
    }
    // Most hubs have no subscribeAll listener: no copy of an empty listener list per message.
    if (this.emitter.listenerCount(ANY) === 0) return;
    for (const listener of this.emitter.listeners(ANY) as MessageListener[]) {
      try {
        listener(message, merged, own);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  /**
   * Merges values into a Thing's properties without a message (e.g. `lastSeen` of an uplink that failed to decode, an
   * adapter's counters): readers see them at once; observers are not told (no message to hand them).
   */
  setValues(thingId: string, values: Record<string, unknown>): void {
    this.valuesByThing.set(thingId, { ...this.valuesByThing.get(thingId), ...values });
  }

  latest(thingId: string): MessageEnvelope | undefined {
    return this.latestByThing.get(thingId);
  }

  /** The latest value of a property of the Thing (see publish), or undefined when never received. */
  property(thingId: string, name: string): unknown {
    const values = this.valuesByThing.get(thingId);
    return values && Object.hasOwn(values, name) ? values[name] : undefined;
  }

  /** Told of every Thing's messages (after the Thing's own subscribers): the virtual sensors' directory-query inputs. */
  subscribeAll(listener: MessageListener): () => void {
    this.emitter.on(ANY, listener);
    return () => this.emitter.off(ANY, listener);
  }

  subscribe(thingId: string, listener: MessageListener): () => void {
    this.emitter.on(thingId, listener);
    return () => this.emitter.off(thingId, listener);
  }

  forget(thingId: string): void {
    this.latestByThing.delete(thingId);
    this.valuesByThing.delete(thingId);
  }
}
