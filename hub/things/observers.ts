// Fan-out of observations: one node-wot listener per affordance, its Content read once, a Buffer to every observer.
import type { ContentListener, ExposedThing } from './node-wot.ts';
import { BadRequestError, ServiceUnavailableError } from '../errors.ts';

export type Observer = (body: Buffer, contentType: string) => void;
export type ObservedKind = 'property' | 'event';

interface Fanout {
  observers: Set<Observer>;
  /** What each observer wants run when its Thing goes away (end the SSE response, the CoAP relation). */
  ends: Map<Observer, () => void>;
  listener: ContentListener;
  formIndex: number;
}

/**
 * node-wot's ProtocolListenerRegistry hands one Content stream to every listener of a form, so a second observer reads
 * an already drained stream. Here node-wot sees a single listener per affordance; it drains the stream once and gives
 * each observer (an SSE response, a CoAP observe relation) its own Buffer. A throwing observer is isolated.
 */
export class ObserverHub {
  private readonly fanouts = new Map<string, Fanout>();
  /** Open fan-outs per Thing, so a per-Thing check costs one lookup. */
  private readonly perThing = new Map<string, number>();
  private total = 0;

  constructor(
    private readonly maxObservers: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  get count(): number {
    return this.total;
  }

  has(thingId: string, kind: ObservedKind, name: string): boolean {
    return this.fanouts.has(key(thingId, kind, name));
  }

  /** Whether anything of this Thing is observed. */
  hasAny(thingId: string): boolean {
    return (this.perThing.get(thingId) ?? 0) > 0;
  }

  /** Adds an observer; returns the function that removes it (idempotent). */
  async observe(thing: ExposedThing, kind: ObservedKind, name: string, observer: Observer, onEnd?: () => void): Promise<() => void> {
    if (this.total >= this.maxObservers) {
      throw new ServiceUnavailableError(`The hub already serves ${this.maxObservers} observations`, { headers: { 'retry-after': '10' } }, 'overloaded');
    }
    const k = key(thing.id, kind, name);
    let fanout = this.fanouts.get(k);
    if (!fanout) {
      fanout = await this.open(thing, kind, name);
      const existing = this.fanouts.get(k); // another observer may have opened it while we awaited
      if (existing) {
        this.close(thing, kind, name, fanout);
        fanout = existing;
      } else {
        this.fanouts.set(k, fanout);
        this.perThing.set(thing.id, (this.perThing.get(thing.id) ?? 0) + 1);
      }
    }
    fanout.observers.add(observer);
    if (onEnd) fanout.ends.set(observer, onEnd);
    this.total++;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const f = this.fanouts.get(k);
      // Not there when forget() already dropped it (its Thing went away), or a new fan-out replaced it.
      if (!f || !f.observers.delete(observer)) return;
      f.ends.delete(observer);
      this.total--;
      if (f.observers.size > 0) return;
      this.fanouts.delete(k);
      this.dropOne(thing.id);
      this.close(thing, kind, name, f);
    };
  }

  /** Drops every fan-out of a Thing (it was destroyed) and ends its observations. */
  forget(thingId: string): void {
    for (const [k, f] of this.fanouts) {
      if (!k.startsWith(`${thingId}\u0000`)) continue;
      this.total -= f.observers.size;
      this.fanouts.delete(k);
      this.dropOne(thingId);
      for (const end of f.ends.values()) {
        try {
          end();
        } catch (e) {
          this.onError(e);
        }
      }
    }
  }

  private dropOne(thingId: string): void {
    const n = (this.perThing.get(thingId) ?? 1) - 1;
    if (n > 0) this.perThing.set(thingId, n);
    else this.perThing.delete(thingId);
  }

  private async open(thing: ExposedThing, kind: ObservedKind, name: string): Promise<Fanout> {
    const affordance = kind === 'property' ? thing.properties[name] : thing.events[name];
    const op = kind === 'property' ? 'observeproperty' : 'subscribeevent';
    const formIndex = (affordance?.forms ?? []).findIndex((f) => [f.op].flat().includes(op));
    if (!affordance || formIndex < 0) throw new BadRequestError(`'${name}' cannot be observed on this Thing`, {}, 'not-observable');
    const observers = new Set<Observer>();
    const listener: ContentListener = (content) => {
      content.toBuffer().then(
        (body) => {
          for (const o of [...observers]) {
            try {
              o(body, content.type);
            } catch (e) {
              this.onError(e);
            }
          }
        },
        (e) => this.onError(e),
      );
    };
    if (kind === 'property') await thing.handleObserveProperty(name, listener, { formIndex });
    else await thing.handleSubscribeEvent(name, listener, { formIndex });
    return { observers, ends: new Map(), listener, formIndex };
  }

  private close(thing: ExposedThing, kind: ObservedKind, name: string, f: Fanout): void {
    try {
      if (kind === 'property') thing.handleUnobserveProperty(name, f.listener, { formIndex: f.formIndex });
      else thing.handleUnsubscribeEvent(name, f.listener, { formIndex: f.formIndex });
    } catch (e) {
      this.onError(e);
    }
  }
}

function key(thingId: string, kind: ObservedKind, name: string): string {
  return `${thingId}\u0000${kind}\u0000${name}`;
}
