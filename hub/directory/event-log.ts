// Bounded history of directory lifecycle events with increasing ids, so SSE clients can resume after Last-Event-ID.
import type { Directory, DirectoryEvent, DirectoryEventType } from './directory.ts';

export const EVENT_TYPES: DirectoryEventType[] = ['thing_created', 'thing_updated', 'thing_deleted'];

export interface LoggedEvent {
  seq: number;
  type: DirectoryEventType;
  event: DirectoryEvent;
}

/**
 * Records every event of a Directory (tdd-notification-event-id: "deliver all missed events" within the bound).
 * Sequence numbers start above the boot time in ms, so ids from an earlier process run are older than any new one.
 */
export class EventLog {
  private readonly history: LoggedEvent[] = [];
  private readonly listeners = new Set<(e: LoggedEvent) => void>();
  private seq: number;
  private readonly handlers: Array<[DirectoryEventType, (e: DirectoryEvent) => void]> = [];

  constructor(private readonly directory: Directory, private readonly capacity = 1000, start = Date.now()) {
    this.seq = start;
    for (const type of EVENT_TYPES) {
      const handler = (event: DirectoryEvent) => this.record(type, event);
      this.handlers.push([type, handler]);
      directory.on(type, handler);
    }
  }

  private record(type: DirectoryEventType, event: DirectoryEvent): void {
    const logged = { seq: ++this.seq, type, event };
    this.history.push(logged);
    if (this.history.length > this.capacity) this.history.splice(0, this.history.length - this.capacity);
    for (const l of this.listeners) l(logged);
  }

  /** Events after `lastId` still in the history (all of it when `lastId` is older than the oldest kept). */
  since(lastId: number): LoggedEvent[] {
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.seq <= lastId) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  subscribe(listener: (e: LoggedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    for (const [type, handler] of this.handlers) this.directory.off(type, handler);
    this.listeners.clear();
  }
}
