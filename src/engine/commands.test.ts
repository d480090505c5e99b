import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from './engine.js';
import { testFixtures } from './test-fixtures.js';
import type { EngineMessage } from './types.js';

const fixtures = testFixtures();
const make = (over: Parameters<typeof defaultEngineConfig>[0] = {}) =>
  createEngine({ fixtures, config: defaultEngineConfig({ seed: 9, trafficCurve: 'flat', ...over }), recordLedger: true });

const entriesBetween = (ms: EngineMessage[], a: number, b: number): number =>
  ms.filter((m) => m.kind === 'event' && m.atMs >= a && m.atMs < b && m.value.includes('"event_type":"entry"')).length;

describe('commands', () => {
  it('pause stops the clock and the output; resume carries on where it stopped', () => {
    const e = make();
    const out: EngineMessage[] = [];
    e.run(e.config.startMs + 600_000, Infinity, (m) => out.push(m));
    const t = e.nowMs;
    const n = out.length;
    e.apply({ type: 'pause' });
    expect(e.paused).toBe(true);
    expect(e.run(t + 3_600_000, Infinity, (m) => out.push(m))).toBe(0);
    expect(e.nowMs).toBe(t);
    expect(out.length).toBe(n);
    expect(e.snapshot().paused).toBe(true);
    e.apply({ type: 'resume' });
    e.run(t + 600_000, Infinity, (m) => out.push(m));
    expect(e.nowMs).toBe(t + 600_000);
    expect(out.length).toBeGreaterThan(n);
  });

  it('run(untilMs) moves the clock to untilMs and sends the last marker up to it', () => {
    const e = make({ ratePerMin: 0 });
    const out: EngineMessage[] = [];
    expect(e.run(e.config.startMs + 35_000, Infinity, (m) => out.push(m))).toBe(0);
    expect(out).toEqual([{ kind: 'watermark', atMs: e.config.startMs + 30_000 }]);
    expect(e.nowMs).toBe(e.config.startMs + 35_000);
    // a clock moving one interval at a time sends every boundary
    out.length = 0;
    for (const d of [41_000, 52_000, 60_000]) e.run(e.config.startMs + d, Infinity, (m) => out.push(m));
    expect(out).toEqual([40_000, 50_000, 60_000].map((d) => ({ kind: 'watermark', atMs: e.config.startMs + d })));
    // an idle store with no end time returns instead of spinning
    expect(e.run(Infinity, Infinity, () => {})).toBe(0);
  });

  it('set_rate changes arrivals from the current step', () => {
    const e = make({ ratePerMin: 2 });
    const out: EngineMessage[] = [];
    const h = 3_600_000;
    const s = e.config.startMs;
    e.run(s + 2 * h, Infinity, (m) => out.push(m));
    e.apply({ type: 'set_rate', perMin: 8 });
    e.run(s + 4 * h, Infinity, (m) => out.push(m));
    e.apply({ type: 'set_rate', perMin: 0 });
    e.run(s + 6 * h, Infinity, (m) => out.push(m));
    const slow = entriesBetween(out, s, s + 2 * h);
    const fast = entriesBetween(out, s + 2 * h, s + 4 * h);
    // 240 expected at 2/min and 960 at 8/min; Poisson sd ~ 16 and 31
    expect(slow).toBeGreaterThan(240 - 80);
    expect(slow).toBeLessThan(240 + 80);
    expect(fast).toBeGreaterThan(960 - 160);
    expect(fast).toBeLessThan(960 + 160);
    expect(entriesBetween(out, s + 4 * h + 1, s + 6 * h)).toBe(0);
    expect(e.snapshot().ratePerMin).toBe(0);
    expect(() => e.apply({ type: 'set_rate', perMin: -1 })).toThrow(/rate/);
  });

  it('set_fault turns a fault on from the current step', () => {
    const e = make();
    const out: EngineMessage[] = [];
    e.run(Infinity, 2_000, (m) => out.push(m));
    e.apply({ type: 'set_fault', fault: 'unparseable', rate: 0.2 });
    e.run(Infinity, 2_000, (m) => out.push(m));
    const verdicts = out.flatMap((m) => (m.kind === 'event' ? [m.verdict] : []));
    expect(verdicts.slice(0, 2_000).every((v) => v === 'accepted')).toBe(true);
    expect(verdicts.slice(2_000).filter((v) => v === 'unparseable').length).toBeGreaterThan(200);
    expect(e.snapshot().faults.unparseable).toBe(0.2);
    expect(() => e.apply({ type: 'set_fault', fault: 'nope' as 'late', rate: 0.1 })).toThrow(/unknown fault/);
  });

  it('a command log replays: commands applied at the same steps give the same stream', () => {
    const live = make();
    const a: EngineMessage[] = [];
    live.run(Infinity, 3_000, (m) => a.push(m));
    const log = [{ step: live.step, cmd: { type: 'set_rate', perMin: 12 } as const }];
    live.apply(log[0]!.cmd);
    live.run(Infinity, 1_234, (m) => a.push(m));
    const log2 = { step: live.step, cmd: { type: 'set_fault', fault: 'duplicate', rate: 0.1 } as const };
    live.apply(log2.cmd);
    live.run(Infinity, 3_000, (m) => a.push(m));

    const replay = make();
    const b: EngineMessage[] = [];
    replay.run(Infinity, Infinity, (m) => b.push(m), log[0]!.step);
    replay.apply(log[0]!.cmd);
    replay.run(Infinity, Infinity, (m) => b.push(m), log2.step);
    replay.apply(log2.cmd);
    replay.run(Infinity, 7_234 - replay.produced, (m) => b.push(m));
    expect(replay.produced).toBe(7_234);
    expect(b).toEqual(a);
  });

  it('snapshot: customers on the floor with positions, top carts, lanes, counters', () => {
    const e = make({ ratePerMin: 6 });
    e.run(e.config.startMs + 1_800_000, Infinity, () => {});
    const s = e.snapshot();
    expect(s.simTimeMs).toBe(e.config.startMs + 1_800_000);
    expect(s.customers.length).toBeGreaterThan(0);
    const plan = fixtures.layouts['corner-shop']!.plan;
    for (const c of s.customers) {
      expect(plan[c.y]?.[c.x], JSON.stringify(c)).toMatch(/[.QD]/);
      expect(['entering', 'walking', 'browsing', 'queueing', 'paying', 'leaving']).toContain(c.state);
    }
    expect(s.carts.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < s.carts.length; i++) expect(s.carts[i - 1]!.value_cents).toBeGreaterThanOrEqual(s.carts[i]!.value_cents);
    expect(s.lanes.map((l) => l.lane)).toEqual([1, 2]);
    expect(s.counters.entries - s.counters.exits).toBe(e.expected().visitsByStatus.open_at_end);
    expect(s.counters.purchased + s.counters.abandoned + s.counters.leftEmpty).toBe(s.counters.exits);
  });
});
