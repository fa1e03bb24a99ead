// Keeps the log in apply order. The worker applies requests in the order they are posted; inserts are logged when posted,
// but updates and Graph Store writes only once the worker accepted them. Appends are therefore sequenced: an insert batch
// posted while such writes are in flight is appended after their records, in one promise chain.
import type { WriteLog } from './write-log.ts';

export class AppendOrder {
  private chain: Promise<unknown> = Promise.resolve();
  /** Logged-after-apply writes posted and not yet appended. */
  private inFlight = 0;
  /** Insert batches handed to the log (a worker rebuild replays them rather than posting them again). */
  readonly appended = new WeakSet<Uint8Array>();

  /** Appends an insert batch posted just now, after the writes in flight; resolves once it is durable. */
  appendInserts(log: WriteLog, records: Buffer): Promise<void> {
    const append = () => (this.appended.add(records), log.append(records));
    if (this.inFlight === 0) return append();
    const step = this.chain.then(() => ({ durable: append() }));
    this.chain = step.catch(() => {});
    return step.then((s) => s.durable);
  }

  /**
   * Sequences a write posted just now (`applied` settles with the worker's answer): once the writes before it are
   * appended and it succeeded, appends `record(result)`; resolves with the result once that record is durable.
   * A failed write is not logged. `settled` runs when the write left the sequence, whatever the outcome.
   */
  async appendAfterApply<T>(log: WriteLog, applied: Promise<T>, record: (result: T) => Buffer | undefined, settled: () => void): Promise<T> {
    this.inFlight++;
    const appended = this.chain.then(async () => {
      try {
        const result = await applied;
        const rec = record(result);
        return { result, durable: rec ? log.append(rec) : Promise.resolve() };
      } finally {
        this.inFlight--;
        settled();
      }
    });
    this.chain = appended.catch(() => {});
    const { result, durable } = await appended;
    await durable;
    return result;
  }

  /** Resolves once every sequenced append has been handed to the log. */
  idle(): Promise<unknown> {
    return this.chain;
  }
}
