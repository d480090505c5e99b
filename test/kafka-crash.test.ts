/**
 * Acceptance ("Real Kafka and PostgreSQL"), crashes: the processor's and the sink's processes are
 * SIGKILLed mid-run (no checkpoint, no flush, no commit, no leaving the group) and started again.
 * The processor resumes from its snapshots, the sink from its committed offsets; the engine's
 * process waits for the drain meanwhile and the run verifies: nothing lost, nothing twice
 * (DESIGN.md, Processor state; Promises; Infrastructure faults: processor or sink crash).
 *
 * Timing: the dead members stay in their groups until their session times out (30 s, the
 * default), so the restarted ones get partitions only then; --drain-timeout 120s keeps the drain
 * clock from giving up meanwhile.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, summaryOf, waitFor, type CliProcess, type CliResult } from './cli-helpers.js';
import {
  KAFKA_BROKERS, createTestDatabase, expectSummaryMatchesTables, kafkaClient, pgTableCounts, rowsSoFar, stopWith, stoppedLine,
  uniquePrefix, waitForGroup, type TestPgDatabase,
} from './kafka-helpers.js';

const EVENTS = 15_000;
/** Raw events per wall second: the engine publishes for about 10 s, so the kill lands mid-run. */
const EPS = 1_500;

function failure(r: CliResult): string {
  return `exit ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr.slice(-2_000)}; last stdout line: ${r.stdout.trim().split('\n').at(-1)?.slice(0, 1_000)}`;
}

describe('SIGKILL of the processor and the sink mid-run, then a restart', () => {
  const prefix = uniquePrefix('crash');
  const common = ['--kafka', KAFKA_BROKERS, '--topic-prefix', prefix, '--partitions', '6'];
  let db: TestPgDatabase;
  const procs: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('crash');
  });

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.done));
    await db?.drop();
  });

  it('loses nothing and duplicates nothing: the engine process drains, verifies and exits 0', async () => {
    const role = (r: string): CliProcess => {
      const p = startCli(['run', '--headless', '--role', r, ...common, '--database-url', db.url], { timeoutMs: 170_000 });
      procs.push(p);
      return p;
    };
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      // Given a processor and a sink in their own processes
      const processor = role('processor');
      const sink = role('sink');
      await waitForGroup(admin, `${prefix}storesim-processor`, 1);
      await waitForGroup(admin, `${prefix}storesim-sink`, 1);

      // And an engine process publishing 15 000 raw events at 1 500/s with every data fault on
      const engine = startCli([
        'run', '--headless', '--role', 'engine', '--seed', '8', '--events', String(EVENTS), '--eps', String(EPS), '--faults', 'all=0.01',
        ...common, '--database-url', db.url, '--drain-timeout', '120s',
      ], { timeoutMs: 170_000 });
      procs.push(engine);

      // When, with part of the run in the database and the engine still going, both are SIGKILLed
      const killedAt = await waitFor(async () => {
        const n = await rowsSoFar(db, prefix);
        return n >= 1_500 ? n : 0;
      }, 'the first 1 500 rows of the run', 90_000, 100);
      expect(engine.child.exitCode, `the engine ended before the kill: ${engine.stderr()}`).toBeNull();
      const [killedProcessor, killedSink] = await Promise.all([stopWith(processor, 'SIGKILL'), stopWith(sink, 'SIGKILL')]);
      expect(killedProcessor.signal).toBe('SIGKILL');
      expect(killedSink.signal).toBe('SIGKILL');

      // And both start again
      const processor2 = role('processor');
      const sink2 = role('sink');

      // Then the engine process waits for the drain, verifies and exits 0
      const done = await engine.done;
      expect(done.code, failure(done)).toBe(0);
      const summary = summaryOf(done);
      expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
      expect(summary.produced).toBe(EVENTS);
      expect(summary.accepted + summary.rejected).toBe(EVENTS);
      expectSummaryMatchesTables(summary, await pgTableCounts(db, summary.run_id));
      console.log(`killed at ${killedAt} rows of ${EVENTS}; after the restart the run drained and verified`);

      // And verify --run from another process agrees
      const verify = await runCli(['verify', '--run', summary.run_id, '--database-url', db.url], { timeoutMs: 90_000 });
      expect(verify.code, failure(verify)).toBe(0);

      // And the restarted processes, which took over the rest of the run, stop on SIGTERM with exit 0
      const [p2, s2] = await Promise.all([stopWith(processor2, 'SIGTERM'), stopWith(sink2, 'SIGTERM')]);
      for (const r of [p2, s2]) expect(r.code, failure(r)).toBe(0);
      expect(stoppedLine(p2).processor?.consumed ?? 0).toBeGreaterThan(0);
      expect(stoppedLine(s2).sink?.written ?? 0).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
  }, 175_000);
});
