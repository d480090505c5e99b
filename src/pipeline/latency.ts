/**
 * End-to-end latency (produced_at → database commit) as a log-bucketed histogram: O(1) memory at
 * any run length, percentiles within about 2 %. `createRecentLatency` keeps the same figures for
 * the last few seconds only, for a live readout (the dashboard, progress lines).
 */
export interface LatencyHistogram {
  record(ms: number): void;
  percentile(p: number): number | null;
  readonly count: number;
  reset(): void;
  /** Samples per bucket (read-only view), for percentiles across histograms. */
  readonly counts: Float64Array;
}

const BUCKETS = 1200; // 1.02^1200 ≈ 2e10 ms: plenty
const LOG_BASE = Math.log(1.02);

export function createLatencyHistogram(): LatencyHistogram {
  let counts = new Float64Array(BUCKETS);
  let n = 0;
  return {
    record(ms: number): void {
      const v = ms < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(ms) / LOG_BASE));
      counts[v]!++;
      n++;
    },
    percentile: (p: number) => percentileAcross([counts], n, p),
    get count() { return n; },
    reset(): void { counts = new Float64Array(BUCKETS); n = 0; },
    get counts() { return counts; },
  };
}

function percentileAcross(parts: Float64Array[], n: number, p: number): number | null {
  if (n === 0) return null;
  const target = Math.ceil((p / 100) * n);
  let seen = 0;
  for (let i = 0; i < BUCKETS; i++) {
    for (const c of parts) seen += c[i]!;
    if (seen >= target) return i === 0 ? 0 : Math.round(Math.pow(1.02, i - 0.5) * 10) / 10;
  }
  return null;
}

/** Latency of the samples recorded in about the last `windowMs` (between windowMs/2 and windowMs). */
export interface RecentLatency {
  record(ms: number, at: number): void;
  percentile(p: number, at: number): number | null;
  count(at: number): number;
  readonly windowMs: number;
}

/**
 * Two histograms of half a window each: samples go to the current one; when half a window has
 * passed it becomes the previous one and the previous one is dropped. A percentile reads both.
 */
export function createRecentLatency(windowMs = 10_000): RecentLatency {
  const half = windowMs / 2;
  let current = createLatencyHistogram();
  let previous = createLatencyHistogram();
  let currentSince = -Infinity;
  const roll = (at: number): void => {
    if (at - currentSince < half) return;
    // More than a whole window since the current half began: both halves are old.
    if (at - currentSince >= windowMs) previous.reset();
    else [previous, current] = [current, previous];
    current.reset();
    currentSince = Number.isFinite(currentSince) ? currentSince + Math.floor((at - currentSince) / half) * half : at;
  };
  return {
    windowMs,
    record(ms, at): void {
      roll(at);
      current.record(ms);
    },
    percentile(p, at): number | null {
      roll(at);
      return percentileAcross([previous.counts, current.counts], previous.count + current.count, p);
    },
    count(at): number {
      roll(at);
      return previous.count + current.count;
    },
  };
}
