/**
 * Acceptance tests of the offline pipeline, at the CLI: `storesim run` with every data fault on
 * conserves every message (the summary, the tables and the engine's ledger agree), is deterministic
 * (same seed → same counts and stream hash as `simulate`), and `storesim verify` catches a database
 * that was tampered with (DESIGN.md, Identity and counting; Promises).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copySqlite, expectSummaryMatchesTables, runCli, sha256, stderrLines, summaryOf, tempDir, withSqlite, type CliResult, type SummaryLine, type TableCounts,
} from './cli-helpers.js';

const SEED = '7';
const EVENTS = '20000';
const FLAGS = ['--seed', SEED, '--faults', 'all=0.01'];

/** What the tables hold for one run, counted straight from SQLite (not through src/db). */
function tableCounts(path: string, runId: string): TableCounts {
  return withSqlite(path, (db) => {
    const one = (sql: string): number => Number(db.prepare(sql).pluck().get(runId) ?? 0);
    const byKey = (sql: string): Record<string, number> =>
      Object.fromEntries((db.prepare(sql).all(runId) as { k: string; n: number }[]).map((r) => [r.k, Number(r.n)]));
    const rejectedByCode = byKey('SELECT code AS k, count(*) AS n FROM rejected_events WHERE run_id = ? GROUP BY code');
    return {
      staging: one('SELECT count(*) FROM staging_events WHERE run_id = ?'),
      stagingSeqs: one('SELECT count(DISTINCT seq) FROM staging_events WHERE run_id = ?'),
      rejectedByCode,
      rejected: Object.values(rejectedByCode).reduce((a, b) => a + b, 0),
      transactions: one('SELECT count(*) FROM transactions WHERE run_id = ?'),
      revenueCents: one('SELECT coalesce(sum(total_cents), 0) FROM transactions WHERE run_id = ?'),
      visits: one('SELECT count(*) FROM visits WHERE run_id = ?'),
      visitsByStatus: byKey('SELECT status AS k, count(*) AS n FROM visits WHERE run_id = ? GROUP BY status'),
    };
  });
}


describe('storesim run, offline (in-process bus, SQLite), every data fault on', () => {
  const dir = tempDir('offline');
  const dbPath = join(dir, 'run.db');
  let first: CliResult;

  beforeAll(async () => {
    first = await runCli(['run', '--headless', '--events', EVENTS, ...FLAGS, '--sqlite', dbPath]);
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 with a summary that verifies and conserves every produced message', () => {
    expect(first.code, first.stderr).toBe(0);
    const summary = summaryOf(first);
    expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(summary.produced).toBe(Number(EVENTS));
    expect(summary.accepted + summary.rejected).toBe(summary.produced);
    // every data fault shows up under its own code
    for (const code of ['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate']) {
      expect(summary.rejected_by_code[code], code).toBeGreaterThan(0);
    }
    expect(summary.redelivered).toBe(0);
  });

  it("the summary's figures are what the tables hold for its run", () => {
    const s = summaryOf(first);
    expectSummaryMatchesTables(s, tableCounts(dbPath, s.run_id));
    const run = withSqlite(dbPath, (db) => db.prepare('SELECT status, verify_ok, produced, stopped_at_seq FROM runs WHERE run_id = ?').get(s.run_id)) as
      { status: string; verify_ok: number; produced: number; stopped_at_seq: number };
    expect(run).toEqual({ status: 'completed', verify_ok: 1, produced: s.produced, stopped_at_seq: s.produced });
  });

  it('is deterministic: a second run with the seed gives the same figures, and its stream is `simulate` output', async () => {
    const s1 = summaryOf(first);
    // Given the same seed and flags, a second run into the same database, and `simulate`
    const [second, sim] = await Promise.all([
      runCli(['run', '--headless', '--events', EVENTS, ...FLAGS, '--sqlite', dbPath]),
      runCli(['simulate', '--events', EVENTS, ...FLAGS]),
    ]);
    // Then the second run is a different run with the same figures
    expect(second.code, second.stderr).toBe(0);
    const s2 = summaryOf(second);
    expect(s2.run_id).not.toBe(s1.run_id);
    const figures = (s: SummaryLine) => ({
      produced: s.produced, accepted: s.accepted, rejected: s.rejected, rejected_by_code: s.rejected_by_code,
      visits: s.visits, abandoned: s.abandoned, open_at_end: s.open_at_end, transactions: s.transactions,
      revenue_cents: s.revenue_cents, verify: s.verify, stream_sha256: s.stream_sha256,
    });
    expect(figures(s2)).toEqual(figures(s1));
    // sharing one database does not mix the runs up
    expect(tableCounts(dbPath, s2.run_id)).toEqual(tableCounts(dbPath, s1.run_id));
    // And the stream hash is the hash of what simulate prints
    expect(sim.code, sim.stderr).toBe(0);
    expect(sim.stdoutBytes.toString('utf8').split('\n').length - 1).toBe(Number(EVENTS));
    expect(sha256(sim.stdoutBytes)).toBe(s1.stream_sha256);
  }, 60_000);

  describe('storesim verify --run', () => {
    const tampered: { name: string; sql: string[]; expect: Partial<Record<'lost' | 'duplicated' | 'mismatched', number>> }[] = [
      {
        name: 'a staging row deleted',
        sql: ['DELETE FROM staging_events WHERE run_id = $run AND event_id = (SELECT event_id FROM staging_events WHERE run_id = $run ORDER BY seq LIMIT 1 OFFSET 100)'],
        expect: { lost: 1 },
      },
      {
        name: 'a staging row duplicated by hand (another event_id, an existing seq)',
        sql: [`INSERT INTO staging_events (run_id, event_id, seq, topic, event_type, customer_id, visit_id, event_time, payload)
               SELECT run_id, 'tampered-' || event_id, seq, topic, event_type, customer_id, visit_id, event_time, payload
               FROM staging_events WHERE run_id = $run ORDER BY seq LIMIT 1 OFFSET 200`],
        expect: { duplicated: 1 },
      },
      {
        name: "a transaction line's total_cents altered (fact_sales, the one stored copy; transaction_items is its view)",
        sql: [`UPDATE fact_sales SET total_cents = total_cents + 1
               WHERE run_id = $run AND (transaction_id, line_no) = (SELECT transaction_id, line_no FROM transaction_items WHERE run_id = $run ORDER BY transaction_id LIMIT 1)`],
        expect: { mismatched: 1 },
      },
      {
        name: "a rejected row's code altered",
        sql: [`UPDATE rejected_events SET code = 'schema'
               WHERE id = (SELECT id FROM rejected_events WHERE run_id = $run AND code = 'late' ORDER BY seq LIMIT 1)`],
        expect: { mismatched: 1 },
      },
    ];

    it('exits 0 on the database as the run left it', async () => {
      const r = await runCli(['verify', '--run', summaryOf(first).run_id, '--sqlite', dbPath]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('verify: ok');
    });

    it('exits 1, naming what is wrong, on each tampered copy', async () => {
      const runId = summaryOf(first).run_id;
      // Given one copy of the database per kind of tampering
      const copies = tampered.map((t, i) => {
        const path = join(dir, `tampered-${i}.db`);
        copySqlite(dbPath, path);
        withSqlite(path, (db) => {
          for (const sql of t.sql) expect(db.prepare(sql).run({ run: runId }).changes, t.name).toBe(1);
        }, true);
        return path;
      });
      // When verify checks each copy
      const results = await Promise.all(copies.map((path) => runCli(['verify', '--run', runId, '--json', '--sqlite', path])));
      // Then each fails, with exactly the damage done
      results.forEach((r, i) => {
        const t = tampered[i]!;
        expect(r.code, `${t.name}: ${r.stderr}`).toBe(1);
        const json = JSON.parse(r.stdout) as { ok: boolean; lost: number; duplicated: number; mismatched: number };
        expect(json, t.name).toMatchObject({ ok: false, lost: 0, duplicated: 0, mismatched: 0, ...t.expect });
        expect(stderrLines(r), t.name).toEqual([]);
      });
    }, 60_000);
  });
});

describe('storesim run --headless progress lines', () => {
  const dir = tempDir('progress');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('carry the latency since the start and over the last 10 s', async () => {
    // Given a paced run of about three seconds with a progress line every 500 ms
    const r = await runCli(['run', '--headless', '--seed', SEED, '--events', '6000', '--eps', '2000', '--interval', '500ms', '--sqlite', join(dir, 'p.db')]);
    expect(r.code, r.stderr).toBe(0);
    const progress = r.stdout.split('\n').filter((l) => l.includes('"type":"progress"')).map((l) => JSON.parse(l) as {
      latency_ms: { p50: number | null; p99: number | null };
      latency_recent_ms: { p50: number | null; p99: number | null; window_s: number };
    });
    // Then, once rows are committed, both readouts have figures, p50 at most p99, over a 10 s window
    const live = progress.filter((p) => p.latency_ms.p50 !== null);
    expect(live.length).toBeGreaterThan(0);
    for (const p of live) {
      expect(p.latency_recent_ms.window_s).toBe(10);
      expect(p.latency_recent_ms.p50).not.toBeNull();
      expect(p.latency_recent_ms.p50!).toBeLessThanOrEqual(p.latency_recent_ms.p99!);
      expect(p.latency_ms.p50!).toBeLessThanOrEqual(p.latency_ms.p99!);
    }
    // And the summary keeps the whole run's figures
    expect(summaryOf(r).latency_ms.p99).not.toBeNull();
  }, 60_000);
});
