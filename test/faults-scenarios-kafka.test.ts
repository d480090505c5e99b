/**
 * Every bundled scenario, headless, through the real Kafka broker into PostgreSQL (issue: "Every
 * bundled scenario … ends with verify ok"): the same expectations as on the in-process bus and
 * SQLite (scenario-expect.ts), wall-clock fault durations at --time-scale 0.1. One scenario at a time
 * (each creates its topics on the one small broker); each on its own topic prefix, all in one
 * database of this file's. The full-length outages (20 s, 30 s) are in faults-kafka.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandLogEntry } from '../src/db/types.js';
import { runCli, stderrLines, summaryOf } from './cli-helpers.js';
import { KAFKA_BROKERS, createTestDatabase, uniquePrefix, type TestPgDatabase } from './kafka-helpers.js';
import { EXPECT, expectFaultsLogged, expectScenarioSummary, type ScenarioSummary } from './scenario-expect.js';

describe('bundled scenarios, headless, Kafka and PostgreSQL', () => {
  let db: TestPgDatabase;
  beforeAll(async () => { db = await createTestDatabase('scenarios'); });
  afterAll(async () => { await db?.drop(); });

  for (const [name, want] of Object.entries(EXPECT)) {
    it(`${name}: verify ok, no dead letter from the faults, every fault in the summary`, async () => {
      const r = await runCli([
        'run', '--headless', '--seed', '7', '--scenario', name, '--time-scale', '0.1', ...(want.flags ?? []),
        '--kafka', KAFKA_BROKERS, '--topic-prefix', uniquePrefix(`sc-${name}`), '--partitions', '3', '--database-url', db.url,
      ], { timeoutMs: 150_000 });
      expect(r.code, `${r.stderr}\n${r.stdout.slice(-2_000)}`).toBe(0);
      expect(stderrLines(r)).toEqual([]);
      const s = summaryOf(r) as ScenarioSummary;
      // A rebalance or a reconnection on a real broker takes seconds, not the in-process bus's milliseconds.
      expectScenarioSummary(name, want, s, 10);
      const [row] = await db.query<{ command_log: CommandLogEntry[] }>('SELECT command_log FROM runs WHERE run_id = $1', [s.run_id]);
      expectFaultsLogged(want, row!.command_log);
    }, 160_000);
  }
});
