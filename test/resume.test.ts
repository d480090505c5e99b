/**
 * Acceptance ("Faults…", the proof): SIGKILL of the whole process mid-run, then
 * `storesim run --resume RUN_ID` finishes the run and verifies — through Kafka into PostgreSQL (only
 * what is missing is published again: every seq of the run is on the raw topics exactly once) and
 * offline (the in-process bus died with the process: the run is replayed, the inserts keep each row
 * once). DESIGN.md, Promises (Resume).
 *
 * Timing: a resume waits for the crashed run's lease (15 s after its last heartbeat); the new
 * processor and sink get their partitions once the dead members' sessions time out (30 s).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { runCli, sha256, startCli, summaryOf, tempDir, waitFor, withSqlite, type CliProcess, type CliResult } from './cli-helpers.js';
import {
  KAFKA_BROKERS, createTestDatabase, expectSummaryMatchesTables, kafkaClient, pgTableCounts, readTopics, rowsSoFar, stopWith,
  uniquePrefix, type TestPgDatabase,
} from './kafka-helpers.js';

const LEASE_MS = 15_000;

function failure(r: CliResult): string {
  return `exit ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr.slice(-2_000)}; last stdout line: ${r.stdout.trim().split('\n').at(-1)?.slice(0, 1_000)}`;
}

/** Waits until the run's heartbeat is older than the lease: the crashed process is then taken as dead. */
async function leaseExpired(heartbeatAt: () => Promise<string | null>): Promise<void> {
  await waitFor(async () => {
    const at = await heartbeatAt();
    return at !== null && Date.now() - Date.parse(at) > LEASE_MS + 500;
  }, 'the crashed run\'s lease to expire', LEASE_MS + 30_000, 250);
}

describe('run --resume after a SIGKILL of the whole process', () => {
  const procs: CliProcess[] = [];
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.done));
  });

  describe('through Kafka into PostgreSQL', () => {
    const EVENTS = 20_000;
    const prefix = uniquePrefix('resume');
    let db: TestPgDatabase;
    beforeAll(async () => { db = await createTestDatabase('resume'); });
    afterAll(async () => { await db?.drop(); });

    it('publishes only what is missing, drains, verifies ok, and refuses a second resume', async () => {
      // Given a run publishing 20 000 raw events at 2 000/s with every data fault on
      const first = startCli([
        'run', '--headless', '--seed', '21', '--events', String(EVENTS), '--eps', '2000', '--faults', 'all=0.01',
        '--kafka', KAFKA_BROKERS, '--topic-prefix', prefix, '--partitions', '4', '--database-url', db.url,
      ], { timeoutMs: 120_000 });
      procs.push(first);

      // When its process is SIGKILLed with part of the run in the database
      await waitFor(async () => ((await rowsSoFar(db, prefix)) >= 2_000 ? true : null), 'the first 2 000 rows', 60_000, 100);
      expect(first.child.exitCode, `the run ended before the kill: ${first.stderr()}`).toBeNull();
      const killed = await stopWith(first, 'SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const runs = await db.query<{ run_id: string; status: string }>('SELECT run_id, status FROM runs WHERE topic_prefix = $1', [prefix]);
      expect(runs).toHaveLength(1);
      const runId = runs[0]!.run_id;
      expect(runs[0]!.status).toBe('live');

      // Then a resume while its lease holds is refused: the process might still be alive
      const early = await runCli(['run', '--headless', '--resume', runId, '--database-url', db.url], { timeoutMs: 30_000 });
      expect(early.code, failure(early)).toBe(2);
      expect(early.stderr).toMatch(/still live/);

      // And once the lease has expired, the resume (no --kafka: the run's recorded brokers) finishes the run
      await leaseExpired(async () => (await db.query<{ h: string }>('SELECT heartbeat_at::text AS h FROM runs WHERE run_id = $1', [runId]))[0]?.h ?? null);
      const resumed = await runCli(['run', '--headless', '--resume', runId, '--database-url', db.url, '--drain-timeout', '90s'], { timeoutMs: 150_000 });
      expect(resumed.code, failure(resumed)).toBe(0);
      expect(resumed.stderr).toMatch(/resuming run .* events up to seq \d+ are already on the topics/);
      const summary = summaryOf(resumed);
      expect(summary.run_id).toBe(runId);
      expect(summary.produced).toBe(EVENTS);
      expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
      expect(summary.accepted + summary.rejected).toBe(EVENTS);
      expectSummaryMatchesTables(summary, await pgTableCounts(db, runId));

      // And each seq of the run is on the raw topics exactly once: nothing published twice
      const seen = await readTopics(kafkaClient(), [`${prefix}foot_traffic`, `${prefix}shelf_events`]);
      const seqs = [...seen.values()].flat().filter((m) => m.headers['storesim.run'] === runId && m.headers['storesim.seq'] !== undefined)
        .map((m) => Number(m.headers['storesim.seq']));
      expect(seqs.length).toBe(EVENTS);
      expect(new Set(seqs).size).toBe(EVENTS);

      // And the stream is the one `simulate` gives for the same seed (the hash of every event in seq order)
      const sim = await runCli(['simulate', '--seed', '21', '--events', String(EVENTS), '--faults', 'all=0.01'], { timeoutMs: 60_000 });
      expect(sim.code).toBe(0);
      expect(summary.stream_sha256).toBe(sha256(sim.stdout));

      // And verify from another process agrees; a second resume is refused (the run completed)
      const verify = await runCli(['verify', '--run', runId, '--database-url', db.url], { timeoutMs: 60_000 });
      expect(verify.code, failure(verify)).toBe(0);
      const again = await runCli(['run', '--headless', '--resume', runId, '--database-url', db.url], { timeoutMs: 30_000 });
      expect(again.code).toBe(2);
      expect(again.stderr).toMatch(/has status completed, nothing to resume/);
    }, 240_000);
  });

  describe('offline (in-process bus, SQLite)', () => {
    it('replays the run; the database keeps each row once and verify is ok', async () => {
      const EVENTS = 12_000;
      const path = join(tempDir('resume'), 'store.db');
      const first = startCli(['run', '--headless', '--seed', '22', '--events', String(EVENTS), '--eps', '1500', '--faults', 'all=0.01', '--sqlite', path], { timeoutMs: 60_000 });
      procs.push(first);
      const rows = (): number => {
        try {
          return withSqlite(path, (d) => (d.prepare('SELECT (SELECT count(*) FROM staging_events) + (SELECT count(*) FROM rejected_events) AS n').get() as { n: number }).n);
        } catch {
          return 0; // not created yet
        }
      };
      await waitFor(() => (rows() >= 1_500 ? true : null), 'the first 1 500 rows', 40_000, 100);
      const killed = await stopWith(first, 'SIGKILL');
      expect(killed.signal).toBe('SIGKILL');
      const runId = withSqlite(path, (d) => (d.prepare('SELECT run_id FROM runs').get() as { run_id: string }).run_id);
      const before = rows();
      expect(before).toBeLessThan(EVENTS);

      await leaseExpired(async () => withSqlite(path, (d) => (d.prepare('SELECT heartbeat_at FROM runs WHERE run_id = ?').get(runId) as { heartbeat_at: string }).heartbeat_at));
      const resumed = await runCli(['run', '--headless', '--resume', runId, '--sqlite', path], { timeoutMs: 90_000 });
      expect(resumed.code, failure(resumed)).toBe(0);
      const summary = summaryOf(resumed);
      expect(summary.produced).toBe(EVENTS);
      expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
      expect(rows()).toBe(EVENTS);
      expect(summary.accepted + summary.rejected).toBe(EVENTS);
    }, 120_000);

    it('refuses an unknown run id and --resume with a scenario, in one line, exit 2', async () => {
      const path = join(tempDir('resume-bad'), 'store.db');
      const unknown = await runCli(['run', '--headless', '--resume', '01a00000-0000-7000-8000-000000000000', '--sqlite', path]);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr.trim().split('\n').filter((l) => !l.startsWith('npm warn'))).toEqual([
        expect.stringMatching(/--resume: no run 01a00000-0000-7000-8000-000000000000 in .*storesim runs list/),
      ]);
      const scenario = await runCli(['run', '--headless', '--resume', '01a00000-0000-7000-8000-000000000000', '--scenario', 'black-friday', '--sqlite', path]);
      expect(scenario.code).toBe(2);
      expect(scenario.stderr).toMatch(/a scenario is not resumed/);
    });
  });
});
