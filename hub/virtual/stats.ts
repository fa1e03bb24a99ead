// Window statistics for virtual sensors: aggregates, percentiles (linear interpolation), median absolute deviation.

/** The p-quantile (0..1) of sorted values, linear between closest ranks (Hyndman & Fan type 7, as numpy and R default). */
export function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const lo = Math.floor(h);
  const hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

export const median = (sorted: readonly number[]): number => quantile(sorted, 0.5);

/** Median absolute deviation around the median (unscaled). */
export function mad(values: readonly number[]): { median: number; mad: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const m = median(sorted);
  const dev = sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
  return { median: m, mad: median(dev) };
}

/**
 * Which values are not outliers by the modified z-score |0.6745 (x - median) / MAD| <= threshold (Iglewicz and
 * Hoaglin, 1993; 3.5 is their recommendation). With MAD 0 (over half the values equal) the mean absolute deviation
 * scaled by 1.2533 stands in (as for a normal distribution); when that is 0 too, every value is kept.
 */
export function madKeep(values: readonly number[], threshold: number): boolean[] {
  if (values.length < 3) return values.map(() => true);
  const { median: m, mad: d } = mad(values);
  let scale = d / 0.6745;
  if (scale === 0) scale = (values.reduce((s, v) => s + Math.abs(v - m), 0) / values.length) * 1.2533;
  if (scale === 0) return values.map(() => true);
  return values.map((v) => Math.abs(v - m) / scale <= threshold);
}

/** Aggregates of a window by name: avg, min, max, sum, count, median, stddev (sample), p<N> (N-th percentile). */
export function aggregate(values: readonly number[], names: readonly string[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const sum = sorted.reduce((s, v) => s + v, 0);
  const out: Record<string, number> = {};
  for (const name of names) {
    if (name === 'count') out.count = n;
    else if (n === 0) continue;
    else if (name === 'avg') out.avg = sum / n;
    else if (name === 'sum') out.sum = sum;
    else if (name === 'min') out.min = sorted[0]!;
    else if (name === 'max') out.max = sorted[n - 1]!;
    else if (name === 'median') out.median = median(sorted);
    else if (name === 'stddev') out.stddev = n < 2 ? 0 : Math.sqrt(sorted.reduce((s, v) => s + (v - sum / n) ** 2, 0) / (n - 1));
    else if (/^p\d+$/.test(name)) out[name] = quantile(sorted, Number(name.slice(1)) / 100);
  }
  return out;
}
