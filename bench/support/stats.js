// Small statistics helpers: medians of rounds, percentiles of latency samples.

export function median(values) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Percentile `p` (0..100) of `values`, nearest-rank on a sorted copy. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `count` events over `ms` milliseconds, per second. */
export function perSecond(count, ms) {
  return ms > 0 ? (count * 1000) / ms : NaN;
}

/** Runs `fn(round)` for `rounds` rounds, rotating who starts so no contender always goes first. */
export function rotate(list, round) {
  const shift = round % list.length;
  return [...list.slice(shift), ...list.slice(0, shift)];
}
