/**
 * The monitor's topic figures when the broker stops answering: the last figures stay, marked with
 * how long they have been stale (the dashboard's Topics panel, progress lines' `lag_stale_s`).
 * The in-process bus, its offset reads made to hang as a broker that went away leaves them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/engine.js';
import { defaultEngineConfig } from '../src/engine/index.js';
import { createMemoryBus } from '../src/kafka/memory-bus.js';
import type { Bus } from '../src/kafka/bus.js';
import type { Database } from '../src/db/types.js';
import type { EngineDriver } from '../src/pipeline/engine-driver.js';
import type { Processor } from '../src/pipeline/processor.js';
import type { RunConfig } from '../src/cli/config.js';
import { createMonitor, type Monitor } from '../src/monitor.js';
import { groupIds, topicNames } from '../src/main.js';
import { fixtures } from './pipeline-harness.js';
import { waitFor } from './cli-helpers.js';
import { openTestDatabase } from '../src/db/testing.js';
import { syntheticBatches } from '../src/db/synthetic.js';
import { loadReport } from '../src/report/queries.js';
import { REJECTED_RING } from '../src/ui/dashboard-state.js';

const monitors: Monitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

/** A monitor of run RUN with no sink, and no processor unless given, in its process (as `--role engine --role ui`). */
function monitorOf(o: { bus: Bus; db: Database; names: ReturnType<typeof topicNames>; prefix: string; processor?: Processor }): Monitor {
  const engineConfig = { ...defaultEngineConfig(), seed: 1 };
  const monitor = createMonitor({
    cfg: { engine: engineConfig, partitions: 6, kafka: null } as unknown as RunConfig,
    bus: o.bus,
    db: o.db,
    runId: RUN,
    names: o.names,
    groups: groupIds(o.prefix),
    engine: createEngine({ fixtures: fixtures(), config: engineConfig }),
    driver: { warp: 1, stopping: false } as EngineDriver,
    processor: o.processor ?? null,
    sink: null,
    fixtures: fixtures(),
    started: Date.now(),
  });
  monitors.push(monitor);
  return monitor;
}

const RUN = '01a23cea-740c-7000-8000-000000000001';

describe('monitor', () => {
  it('keeps the last topic figures while the broker does not answer, and says for how long', async () => {
    const inner = createMemoryBus({ defaultPartitions: 2 });
    const names = topicNames('m-');
    await inner.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions: 2 })));
    const producer = inner.createProducer();
    await producer.connect();
    await producer.send(names.foot, [{ key: 'c1', value: '{}', headers: {} }]);
    let away = false;
    const never = new Promise<never>(() => undefined);
    const bus: Bus = Object.assign(Object.create(inner) as Bus, {
      topicsOffsets: (topics: string[]) => (away ? never : inner.topicsOffsets(topics)),
      groupTopicsOffsets: (g: string, topics: string[]) => (away ? never : inner.groupTopicsOffsets(g, topics)),
    });
    const monitor = monitorOf({ bus, db: { description: 'test' } as Database, names, prefix: 'm-' });

    const answered = await monitor.sample();
    expect(answered.topicsStaleS).toBeNull();
    // No sink in this process: the dashboard says so instead of a latency of 0 ms.
    expect(answered.kpis).toMatchObject({ sinkHere: false, latencyP50Ms: null, latencyP99Ms: null });
    expect(answered.topics.find((t) => t.topic === names.foot)?.total).toBe(1);

    away = true;
    let last = answered;
    await waitFor(async () => (last = await monitor.sample()).topicsStaleS !== null, 'the figures marked stale', 15_000);
    expect(last.topicsStaleS).toBeGreaterThanOrEqual(3);
    expect(last.topics.find((t) => t.topic === names.foot)?.total).toBe(1); // the last figures stay

    const lines: Array<Record<string, unknown>> = [];
    monitor.startProgressLines(50, (l) => lines.push(l as Record<string, unknown>));
    await waitFor(() => lines.length > 0, 'a progress line', 10_000);
    expect(lines[0]!.lag_stale_s).toBeGreaterThanOrEqual(3);
  }, 30_000);

  /** A processor that owns 3 of the 6 partition pairs: another process judges the rest. */
  const half = { stats: () => ({ pairs: 3, revenueCents: 1, transactions: 1, visitsClosed: 1, purchasedVisits: 1, itemsSold: 1, byCode: {}, latestRejected: [], accepted: 1, rejected: 0, redelivered: 0 }) } as unknown as Processor;
  it.each([
    { what: 'without a processor in its process', processor: undefined },
    { what: 'with a processor that owns some of the pairs', processor: half },
  ])('$what, shows the run as the database holds it: KPIs and dead letters', async ({ processor }) => {
    const t = await openTestDatabase('sqlite', { fixtures: fixtures() });
    try {
      for (const batch of syntheticBatches({ runId: RUN, fixtures: fixtures(), visits: 120, batchRows: 200, rejectEvery: 4 })) await t.db.writeBatch(batch);
      const report = await loadReport(t.db, { runId: RUN });
      expect(report.transactions).toBeGreaterThan(0);
      expect(report.rejected).toBeGreaterThan(REJECTED_RING);
      const names = topicNames('d-');
      const bus = createMemoryBus({ defaultPartitions: 2 });
      await bus.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions: 2 })));
      const monitor = monitorOf({ bus, db: t.db, names, prefix: 'd-', processor });

      let s = await monitor.sample();
      await waitFor(async () => (s = await monitor.sample()).kpis.transactions > 0, 'figures read from the database', 10_000);
      expect(s.kpis).toMatchObject({
        fromDatabase: true,
        transactions: report.transactions,
        revenueCents: report.revenue_cents,
        conversion: report.conversion,
        avgBasketCents: report.average_basket.value_cents,
      });
      expect(s.rejected.byCode).toEqual(report.rejected_by_code);
      // The newest dead letters, newest last, as the processor's own ring keeps them.
      const newest = await t.query(`SELECT code, reason, rejected_at FROM rejected_events WHERE run_id = '${RUN}' ORDER BY id DESC LIMIT ${REJECTED_RING}`);
      expect(s.rejected.latest.map((x) => [x.code, x.reason])).toEqual(newest.reverse().map((x) => [x.code, x.reason]));

      const lines: Array<Record<string, unknown>> = [];
      monitor.startProgressLines(50, (l) => lines.push(l as Record<string, unknown>));
      await waitFor(() => lines.length > 0, 'a progress line', 10_000);
      expect(lines[0]).toMatchObject({ accepted: report.accepted, rejected: report.rejected, redelivered: processor ? 0 : null, transactions: report.transactions });
    } finally {
      for (const m of monitors.splice(0)) m.stop();
      await t.cleanup();
    }
  }, 30_000);

  it('with a processor that owns every pair, shows its own figures (ahead of the database)', async () => {
    const names = topicNames('w-');
    const bus = createMemoryBus({ defaultPartitions: 2 });
    await bus.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions: 2 })));
    const whole = { stats: () => ({ ...half.stats(), pairs: 6, transactions: 7, revenueCents: 700 }) } as unknown as Processor;
    const monitor = monitorOf({ bus, db: { description: 'test' } as Database, names, prefix: 'w-', processor: whole });
    expect((await monitor.sample()).kpis).toMatchObject({ fromDatabase: false, transactions: 7, revenueCents: 700, avgBasketCents: 100 });
  });
});
