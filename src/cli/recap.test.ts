import { describe, expect, it } from 'vitest';
import { databaseFlag, recapLines, type RecapInput } from './recap.js';

const base: RecapInput = {
  run_id: '01a23cdd-1b88-7c7e-aa2d-ed8f34fa0f68',
  produced: 12_366, accepted: 12_363, rejected: 3, rejected_by_code: { unparseable: 3 }, redelivered: 0,
  visits: 65, abandoned: 2, open_at_end: 6, transactions: 54, revenue_cents: 91_434,
  elapsed_s: 129.792, latency_ms: { p50: 80.3, p99: 44_503.4 },
  verify: { ok: true, lost: 0, duplicated: 0, mismatched: 0 },
  faults: [],
};

describe('recap after the dashboard', () => {
  it('says in words what the run did and whether verify agreed, then how to see more, in lines that fit 80 columns', () => {
    expect(recapLines(base, '')).toEqual([
      'storesim: run 01a23cdd-1b88-7c7e-aa2d-ed8f34fa0f68 ended after 2m10s',
      '  verify    ok: lost 0, duplicated 0, mismatched 0',
      '  events    12,366 produced, 12,363 accepted, 3 rejected (unparseable 3)',
      '  visits    65 (2 abandoned, 6 open at the end)',
      '  sales     54 transactions, $914.34',
      '  latency   p50 80ms, p99 44.5s (publish to commit, over the run)',
      '  more      storesim report --run 01a23cdd-1b88-7c7e-aa2d-ed8f34fa0f68',
    ]);
    const big = { ...base, produced: 12_345_678, accepted: 12_345_000, visits: 1_234_567, abandoned: 345_678, open_at_end: 12_345, transactions: 888_888, revenue_cents: 99_999_999_99 };
    for (const line of recapLines(big, '').slice(0, -1)) expect(line.length, line).toBeLessThanOrEqual(80);
  });

  it('lists the faults with their backlog and drain, and a failed verify as FAILED', () => {
    const lines = recapLines({
      ...base,
      redelivered: 4,
      latency_ms: { p50: null, p99: null },
      verify: { ok: false, lost: 2, duplicated: 0, mismatched: 1 },
      faults: [
        { name: 'broker_down', started_at: '2026-12-03T17:04:28.949Z', duration_s: 41.407, peak_backlog: 1096, drain_s: 1.809 },
        { name: 'db_down', started_at: '2026-12-03T17:05:31.838Z', duration_s: 25.6, peak_backlog: 142, drain_s: null },
      ],
    }, ' --sqlite /tmp/x.db');
    expect(lines[1]).toBe('  verify    FAILED: lost 2, duplicated 0, mismatched 1');
    expect(lines[2]).toMatch(/, 4 redelivered copies dropped$/);
    expect(lines).toContain('  latency   nothing committed (publish to commit, over the run)');
    expect(lines).toContain('  faults    broker_down 41.4s, peak backlog 1.1k, drained 1.8s after; db_down 25.6s, peak backlog 142, not drained');
    expect(lines.at(-1)).toBe('  more      storesim report --run 01a23cdd-1b88-7c7e-aa2d-ed8f34fa0f68 --sqlite /tmp/x.db');
  });

  it('names the database the same way the run was given it, never with its password', () => {
    expect(databaseFlag({ sqlitePath: './storesim.db' }, './storesim.db')).toBe('');
    expect(databaseFlag({ sqlitePath: 'storesim.db' }, './storesim.db')).toBe('');
    expect(databaseFlag({ sqlitePath: '/tmp/a.db' }, './storesim.db')).toBe(' --sqlite /tmp/a.db');
    expect(databaseFlag({ url: 'postgres://u:s3cret@h:5432/db' }, './storesim.db')).toBe(' --database-url postgres://u:***@h:5432/db');
  });
});
