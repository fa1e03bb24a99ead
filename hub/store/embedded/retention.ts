// Retention: drops observation graphs (hub/store/graphs.ts naming, one graph per Thing per UTC day) older than N days.
import type { EmbeddedQuadStore } from './embedded-quad-store.ts';

const HOUR = 3_600_000;

export class Retention {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly store: Pick<EmbeddedQuadStore, 'dropObservationsBefore'>,
    private readonly days: number,
    private readonly intervalMs = HOUR,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * First UTC day to keep: graphs of days before it are dropped. With `days` = 1 on 2026-11-22 that is 2026-11-21
   * (today and yesterday are kept). Fractional days are allowed (tests use them).
   */
  cutoffDay(): string {
    return new Date(this.now().getTime() - this.days * 24 * HOUR).toISOString().slice(0, 10);
  }

  /** Runs once now, then every interval (the timer does not keep the process alive). */
  async start(): Promise<void> {
    await this.runOnce();
    this.timer = setInterval(() => {
      if (!this.running) this.running = this.runOnce().catch((e) => process.emitWarning(`retention failed: ${(e as Error).message}`)).finally(() => (this.running = undefined));
    }, this.intervalMs);
    this.timer.unref();
  }

  runOnce(): Promise<string[]> {
    return this.store.dropObservationsBefore(this.cutoffDay());
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
