import { describe, expect, it } from 'vitest';
import { EventHeap } from './event-heap.js';
import { IsoClock } from './iso-time.js';
import { Rng } from './random.js';
import { curveFactor } from './traffic-curve.js';
import { UuidV7 } from './uuid.js';

describe('Rng (sfc32 seeded by splitmix32)', () => {
  it('is deterministic per seed and salt, and streams differ', () => {
    const a = new Rng(42, 1), b = new Rng(42, 1), c = new Rng(42, 2), d = new Rng(43, 1);
    const draw = (r: Rng) => Array.from({ length: 8 }, () => r.nextU32());
    const da = draw(a);
    expect(draw(b)).toEqual(da);
    expect(draw(c)).not.toEqual(da);
    expect(draw(d)).not.toEqual(da);
  });

  it('has the right moments', () => {
    const r = new Rng(7);
    const n = 200_000;
    let s = 0, e = 0, ln = 0;
    for (let i = 0; i < n; i++) { s += r.float(); e += r.exponential(45); ln += r.sample({ kind: 'lognormal', mean: 4, sd: 3 }); }
    expect(s / n).toBeCloseTo(0.5, 2);
    expect(Math.abs(e / n / 45 - 1)).toBeLessThan(0.01);
    expect(Math.abs(ln / n / 4 - 1)).toBeLessThan(0.02);
  });
});

describe('UuidV7', () => {
  it('follows RFC 9562: 48-bit ms, version 7, variant 10', () => {
    const u = new UuidV7();
    const r = new Rng(1);
    const ms = Date.UTC(2026, 10, 23, 8, 0, 0, 123);
    const ids = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const id = u.make(ms + i * 997, r);
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(ms + i * 997);
      ids.add(id);
    }
    expect(ids.size).toBe(10_000);
  });
});

describe('IsoClock', () => {
  it('formats like Date.prototype.toISOString', () => {
    const c = new IsoClock();
    const r = new Rng(3);
    let t = Date.UTC(2026, 10, 23, 8);
    for (let i = 0; i < 20_000; i++) {
      t += r.int(200_000);
      expect(c.format(t)).toBe(new Date(t).toISOString());
    }
  });
});

describe('EventHeap', () => {
  it('pops by (time, insertion order)', () => {
    const h = new EventHeap<number>();
    const r = new Rng(5);
    const input: { t: number; i: number }[] = [];
    for (let i = 0; i < 5_000; i++) { const t = r.int(300); input.push({ t, i }); h.push(t, 0, i); }
    const out: number[] = [];
    for (let e = h.pop(); e !== undefined; e = h.pop()) { out.push(e.ref!); h.release(e); }
    expect(out).toEqual([...input].sort((a, b) => a.t - b.t || a.i - b.i).map((x) => x.i));
  });
});

describe('traffic curves', () => {
  it('flat is 1; opening-hours peaks at 1 around 18:00 and never reaches 0', () => {
    expect(curveFactor('flat', 0)).toBe(1);
    expect(curveFactor('opening-hours', Date.UTC(2026, 10, 23, 18))).toBe(1);
    for (let h = 0; h < 24; h += 0.25) {
      const f = curveFactor('opening-hours', Date.UTC(2026, 10, 23) + h * 3_600_000);
      expect(f).toBeGreaterThan(0);
      expect(f).toBeLessThanOrEqual(1);
    }
  });
});
