import { describe, expect, it } from 'vitest';
import { createLatencyHistogram, createRecentLatency } from './latency.js';

describe('latency histogram', () => {
  it('gives percentiles within about 2 %', () => {
    const h = createLatencyHistogram();
    for (let ms = 1; ms <= 1000; ms++) h.record(ms);
    expect(h.count).toBe(1000);
    expect(h.percentile(50)! / 500).toBeCloseTo(1, 1);
    expect(h.percentile(99)! / 990).toBeCloseTo(1, 1);
    expect(createLatencyHistogram().percentile(50)).toBeNull();
  });
});

describe('recent latency', () => {
  it('reads the samples of the last half to whole window, and forgets older ones', () => {
    const r = createRecentLatency(10_000);
    // Given a slow start: 1,000 samples of 800 ms in the first second
    for (let i = 0; i < 1000; i++) r.record(800, i);
    expect(r.percentile(50, 1_000)! / 800).toBeCloseTo(1, 1);
    // When the run settles at 20 ms
    for (let t = 1_000; t < 10_000; t += 10) r.record(20, t);
    // Then up to 10 s later the slow start is still in the window, and after that it is gone
    expect(r.percentile(99, 9_999)! / 800).toBeCloseTo(1, 1);
    for (let t = 10_000; t < 15_000; t += 10) r.record(20, t);
    expect(r.percentile(99, 15_000)! / 20).toBeCloseTo(1, 1);
    expect(r.count(15_000)).toBeLessThanOrEqual(1000);
    expect(r.count(15_000)).toBeGreaterThanOrEqual(500);
    // And a window without samples reads nothing
    expect(r.percentile(50, 40_000)).toBeNull();
    expect(r.count(40_000)).toBe(0);
  });
});
