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
    [key: string]: unknown;
  };
  payload: Record<string, unknown>;
}

export type MessageListener = (message: MessageEnvelope) => void;

/**
 * Latest message per Thing plus a subscription per Thing. Listeners run synchronously in publish order; a throwing
 * listener is isolated (reported through `onListenerError`) so one bad subscriber cannot stop ingestion.
 */
export class LiveState {
  private readonly latestByThing = new Map<string, MessageEnvelope>();
  private readonly emitter = new EventEmitter();

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {
    this.emitter.setMaxListeners(0);
  }

  publish(message: MessageEnvelope): void {
    this.latestByThing.set(message.meta.thingId, message);
    for (const listener of this.emitter.listeners(message.meta.thingId) as MessageListener[]) {
      try {
        listener(message);
      } catch (e) {
        this.onListenerError(e);
      }
    }
  }

  latest(thingId: string): MessageEnvelope | undefined {
    return this.latestByThing.get(thingId);
  }

  /** The latest value of a payload field (a property of the Thing), or undefined when never received. */
  property(thingId: string, name: string): unknown {
    return this.latestByThing.get(thingId)?.payload[name];
  }

  subscribe(thingId: string, listener: MessageListener): () => void {
    this.emitter.on(thingId, listener);
    return () => this.emitter.off(thingId, listener);
  }

  forget(thingId: string): void {
    this.latestByThing.delete(thingId);
  }
}
