// Order statistics for small samples: median, min, max and the interquartile range.

/** Linear-interpolated quantile (q in [0, 1]) of a non-empty list. */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return sorted[low] + (sorted[high] - sorted[low]) * (at - low);
}

/** { n, median, min, max, q1, q3 } of the finite values, or null when there are none. */
export function summary(values) {
  const finite = values.filter((v) => typeof v === 'number' && Number.isFinite(v));
  if (finite.length === 0) return null;
  return {
    n: finite.length,
    median: quantile(finite, 0.5),
    min: Math.min(...finite),
    max: Math.max(...finite),
    q1: quantile(finite, 0.25),
    q3: quantile(finite, 0.75),
  };
}

/** A time in ms, readable: "183 ms", "1.42 s", "34.1 s". */
export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function formatMb(mb) {
  if (mb === null || mb === undefined || !Number.isFinite(mb)) return '–';
  return `${Math.round(mb)} MB`;
}

export function formatRatio(r) {
  if (r === null || r === undefined || !Number.isFinite(r)) return '–';
  if (r >= 100) return `${Math.round(r)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  return `${r.toFixed(2)}×`;
}

/** "median (min–max)" with a formatter. */
export function spread(s, format) {
  if (!s) return '–';
  if (s.n === 1) return `${format(s.median)} (1 run)`;
  return `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}
