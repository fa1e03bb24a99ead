// Group commit for remote inserts: calls that arrive while a request is in flight share the next request.
import type { Quad } from 'n3';
import type { GraphName } from '../quad-store.ts';

export interface InsertItem {
  quads: Quad[];
  graph?: GraphName;
}

interface Waiting extends InsertItem {
  resolve(): void;
  reject(e: unknown): void;
}

/**
 * Collects insert() calls and hands them to `flush` in batches, one batch in flight at a time: while the remote
 * store works on one request, the next batch grows, so the request rate adapts to the store's latency.
 * Every call of a batch resolves (or fails) with its request.
 */
export class InsertBatcher {
  private queue: Waiting[] = [];
  private running?: Promise<void>;
  private callId = 0;

  constructor(private readonly flush: (items: InsertItem[]) => Promise<void>) {}

  nextCallId(): number {
    return this.callId++;
  }

  get pending(): number {
    return this.queue.length;
  }

  add(item: InsertItem): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
      if (!this.running) this.running = this.loop();
    });
  }

  /** Resolves once every call made so far has been sent. */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  private async loop(): Promise<void> {
    // Let the calls of the current tick join the first batch.
    await new Promise<void>((r) => setImmediate(r));
    while (this.queue.length) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.flush(batch);
        for (const w of batch) w.resolve();
      } catch (e) {
        for (const w of batch) w.reject(e);
      }
    }
    this.running = undefined;
  }
}
