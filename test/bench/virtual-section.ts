// The shape of a part of `npm run bench virtual` (test/bench/virtual.bench.ts runs each in turn on one hub).
import type { TestHub } from '../helpers/hub.ts';

export interface BenchSectionResult {
  /** Figures of the part, written under its name in test/bench/results/virtual.json. */
  results: Record<string, unknown>;
  /** What each target is, in words (e.g. "p99 input -> output < 250 ms"). */
  targets: Record<string, string>;
  /** Whether each target was met (same keys as targets). */
  met: Record<string, boolean>;
}

/** One part of the virtual benchmark: virtual sensors (brief G), rules and the robot loop (brief H) add theirs. */
export interface BenchSection {
  name: string;
  run(hub: TestHub, args: Record<string, string>): Promise<BenchSectionResult>;
}
