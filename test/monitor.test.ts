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
import type { RunConfig } from '../src/cli/config.js';
import { createMonitor, type Monitor } from '../src/monitor.js';
import { groupIds, topicNames } from '../src/main.js';
import { fixtures } from './pipeline-harness.js';
import { waitFor } from './cli-helpers.js';

const monitors: Monitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

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
    const engineConfig = { ...defaultEngineConfig(), seed: 1 };
    const monitor = createMonitor({
      cfg: { engine: engineConfig } as RunConfig,
      bus,
      db: { description: 'test' } as Database,
      runId: 'r',
      names,
      groups: groupIds('m-'),
      engine: createEngine({ fixtures: fixtures(), config: engineConfig }),
      driver: { warp: 1, stopping: false } as EngineDriver,
      processor: null,
      sink: null,
      fixtures: fixtures(),
      started: Date.now(),
    });
    monitors.push(monitor);

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
});
