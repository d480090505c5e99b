/**
 * The engine's ledger against the real processor core (src/pipeline): every verdict and every
 * visit status must agree, at several partition counts, with the two topics of a pair read in a
 * random interleaving. The ledger is made without the processor's code (STYLE.md); this is the check
 * `verify` relies on, done here without a bus.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from './engine.js';
import { testFixtures } from './test-fixtures.js';
import type { EngineEvent, EngineMessage } from './types.js';

const present = existsSync(new URL('../pipeline/processor-core.ts', import.meta.url));
const RUN = '01936a5e-0000-7000-8000-0000000000aa';

function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

describe.runIf(present)('the ledger agrees with the processor core', () => {
  it.each([[1, 11], [3, 12], [8, 13]])('at %i partitions', async (partitions, seed) => {
    const { createProcessorCore } = await import('../pipeline/processor-core.js');
    const fixtures = testFixtures();
    const config = defaultEngineConfig({
      seed, trafficCurve: 'flat', ratePerMin: 5, forceCheckoutIfEmpty: seed === 12,
      faults: { schema: 0.01, unparseable: 0.01, unknown_item: 0.01, quantity: 0.01, unknown_customer: 0.01, late: 0.01, duplicate: 0.01 },
    });
    const engine = createEngine({ fixtures, config, recordLedger: true });
    const ms: EngineMessage[] = [];
    engine.run(Infinity, 25_000, (m) => ms.push(m));

    type Side = 'foot' | 'shelf';
    type In = { side: Side; value: string; headers: Record<string, string>; key: string | null };
    const settings = JSON.stringify({
      run_id: RUN, grace_ms: config.graceMs, dedup_window_ms: config.dedupWindowMs, marker_interval_ms: config.markerIntervalMs,
      max_session_age_sec: config.maxSessionAgeSec, force_checkout_if_empty: config.forceCheckoutIfEmpty,
      fixtures_hash: fixtures.hash, store_id: fixtures.layouts[config.layout]!.store_id,
    });
    const queues = Array.from({ length: partitions }, () => ({ foot: [] as In[], shelf: [] as In[] }));
    const control = (marker: string, value: string) => (side: Side): In => ({ side, value, key: null, headers: { 'storesim.run': RUN, 'storesim.marker': marker } });
    for (const q of queues) for (const s of ['foot', 'shelf'] as const) q[s].push(control('run_start', settings)(s));
    for (const m of ms) {
      if (m.kind === 'watermark') {
        for (const q of queues) for (const s of ['foot', 'shelf'] as const) q[s].push(control('watermark', JSON.stringify({ time: m.atMs }))(s));
        continue;
      }
      const side: Side = m.topic === 'foot_traffic' ? 'foot' : 'shelf';
      queues[hashKey(m.key) % partitions]![side].push({
        side, value: m.value, key: m.key, headers: { 'storesim.run': RUN, 'storesim.seq': String(m.seq), 'storesim.produced_at': '1' },
      });
    }
    for (const q of queues) for (const s of ['foot', 'shelf'] as const) q[s].push(control('end', '')(s));

    const core = createProcessorCore({ catalog: fixtures.catalog, discounts: fixtures.discounts, fixturesHash: fixtures.hash, now: () => 1 });
    const verdicts = new Map<number, string>();
    const visits = new Map<string, { status: string; lines: unknown }>();
    let rs = seed;
    const rand = (): number => { rs = (Math.imul(rs, 1664525) + 1013904223) >>> 0; return rs / 4294967296; };
    queues.forEach((q, p) => {
      const pair = core.newPairState();
      const offsets = { foot: 0, shelf: 0 };
      let i = 0, j = 0;
      while (i < q.foot.length || j < q.shelf.length) {
        const m = j >= q.shelf.length || (i < q.foot.length && rand() < 0.5) ? q.foot[i++]! : q.shelf[j++]!;
        const outs = core.handle(pair, m.side, {
          topic: m.side === 'foot' ? 'foot_traffic' : 'shelf_events', partition: p, offset: offsets[m.side]++,
          key: m.key, value: Buffer.from(m.value, 'utf8'), headers: m.headers, timestamp: 1,
        });
        for (const o of outs) {
          if (o.kind === 'clean' || o.kind === 'dead_letter') verdicts.set(Number(o.headers['storesim.seq']), o.kind === 'clean' ? 'accepted' : String(o.code));
          if (o.kind === 'visit') {
            const v = JSON.parse(o.value.toString('utf8')) as { visit_id: string; status: string; lines: unknown };
            visits.set(v.visit_id, { status: v.status, lines: v.lines });
          }
        }
      }
    });
    const evs = ms.filter((m): m is EngineEvent => m.kind === 'event');
    const wrong = evs.filter((e) => verdicts.get(e.seq) !== e.verdict).map((e) => `#${e.seq} engine ${e.verdict}, processor ${String(verdicts.get(e.seq))}: ${e.value}`);
    expect(wrong.slice(0, 5)).toEqual([]);
    const led = engine.ledger();
    expect(visits.size).toBe(led.visits.length);
    for (const v of led.visits) expect(visits.get(v.visit_id), v.visit_id).toEqual({ status: v.status, lines: v.lines });
  });
});
