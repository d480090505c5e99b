/**
 * Infrastructure faults on real connections (DESIGN.md, Infrastructure faults): the CLI against the
 * real Kafka broker and PostgreSQL, each test on its own topic prefix and its own database.
 * - A real 20 s broker outage (every kafkajs connection reset, new ones refused) at 2,000 raw
 *   events/s: verify ok, nothing lost, no dead letter; the summary shows the backlog it caused.
 * - A 30 s database outage (every pg connection reset and refused): the same.
 * - The consumer crash loop: processor and sink torn down without committing, a real rebalance
 *   each time, resumed from the snapshot and the committed offsets.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRecord } from '../src/faults.js';
import { runCli, stderrLines, summaryOf, tempDir } from './cli-helpers.js';

const BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const PG_ADMIN_URL = process.env.STORESIM_TEST_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const tag = `${process.pid}_${Date.now().toString(36)}`;
const databases: string[] = [];

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A database of its own for one test: its URL. */
async function freshDatabase(name: string): Promise<string> {
  const db = `storesim_faults_${name}_${tag}`;
  await admin((c) => c.query(`CREATE DATABASE "${db}"`));
  databases.push(db);
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

beforeAll(async () => {
  await admin((c) => c.query('SELECT 1'));
});

afterAll(async () => {
  await admin(async (c) => {
    for (const db of databases) await c.query(`DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`).catch(() => undefined);
  });
});

interface Progress { type: 'progress'; elapsed_s: number; produced: number; faults?: Array<{ name: string; for_s: number | null; detail: string | null }> }
type Summary = ReturnType<typeof summaryOf> & { faults: FaultRecord[]; elapsed_s: number };

function lines(stdout: string): Progress[] {
  return stdout.trim().split('\n').map((l) => JSON.parse(l) as Progress).filter((l) => l.type === 'progress');
}

// One at a time: three runs creating topics at once on this small broker is a test of something else.
describe('infrastructure faults on Kafka and PostgreSQL', () => {
  it('broker_down for 20 s (real sockets) at 2,000 raw events/s: verify ok, no dead letter, backlog and drain in the summary', async () => {
    const url = await freshDatabase('broker');
    // The bundled broker-outage, in a store busy enough that the engine keeps publishing 2,000 raw
    // events/s through the whole outage (the bundled one's end at 8m comes after ~10,000 events).
    const scenario = join(tempDir('faults-kafka'), 'busy-broker-outage.json');
    writeFileSync(scenario, JSON.stringify({
      description: 'broker_down for 20 s one simulated minute into a busy supermarket',
      settings: { rate: 300, trafficCurve: 'flat', layout: 'supermarket' },
      steps: [{ at: '1m', do: 'start_fault', fault: 'broker_down', duration: '20s' }],
    }));
    // Given a busy store paced at 2,000 raw events/s, when every broker connection drops for
    // 20 s of wall time, then nothing is lost and no dead letter is made.
    const r = await runCli([
      'run', '--headless', '--seed', '11', '--scenario', scenario, '--eps', '2000', '--events', '70000',
      '--kafka', BROKERS, '--topic-prefix', `fk-broker-${tag}-`, '--database-url', url, '--interval', '500ms',
    ], { timeoutMs: 280_000 });
    expect(r.code, `${r.stderr}\n${r.stdout.slice(-4000)}`).toBe(0);
    expect(stderrLines(r)).toEqual([]);
    const s = summaryOf(r) as Summary;
    expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(s.rejected).toBe(0);
    expect(s.produced).toBe(70_000);
    expect(s.faults).toHaveLength(1);
    const f = s.faults[0]!;
    expect(f.name).toBe('broker_down');
    expect(f.duration_s!).toBeGreaterThanOrEqual(20);
    expect(f.duration_s!).toBeLessThan(23);
    // 2,000 events/s for 20 s wait in the engine's publisher while the broker is away.
    expect(f.peak_backlog).toBeGreaterThan(5_000);
    expect(f.drain_s).not.toBeNull();

    // The progress lines showed the fault while it was on, and the engine kept its pace around it.
    const progress = lines(r.stdout);
    const during = progress.filter((p) => p.faults?.some((x) => x.name === 'broker_down'));
    expect(during.length).toBeGreaterThanOrEqual(5);
    expect(during.some((p) => /^[1-9][\d.]*k? backlog/.test(p.faults![0]!.detail ?? ''))).toBe(true);
    // The engine kept publishing at its pace into its own backlog while the broker was away.
    const on = during.filter((p) => p.faults!.some((x) => x.name === 'broker_down'));
    const a = on[0]!;
    const z = on[on.length - 1]!;
    const rate = (z.produced - a.produced) / (z.elapsed_s - a.elapsed_s);
    // (A pace, not a timing test: it only has to show the engine did not stop for the outage.)
    expect(rate).toBeGreaterThan(1_000);
  }, 290_000);

  it('db_down (every pg connection reset and refused) for 30 s: verify ok, no dead letter', async () => {
    const url = await freshDatabase('db');
    const r = await runCli([
      'run', '--headless', '--seed', '12', '--scenario', 'db-outage',
      '--rate', '300', '--layout', 'supermarket', '--eps', '2000', '--events', '90000',
      '--kafka', BROKERS, '--topic-prefix', `fk-db-${tag}-`, '--database-url', url,
    ], { timeoutMs: 280_000 });
    expect(r.code, `${r.stderr}\n${r.stdout.slice(-4000)}`).toBe(0);
    expect(stderrLines(r)).toEqual([]);
    const s = summaryOf(r) as Summary;
    expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(s.rejected).toBe(0);
    expect(s.faults.map((f) => f.name)).toEqual(['db_down']);
    const f = s.faults[0]!;
    expect(f.duration_s!).toBeGreaterThanOrEqual(30);
    expect(f.duration_s!).toBeLessThan(33);
    expect(f.peak_backlog).toBeGreaterThan(10_000);
    expect(f.drain_s).not.toBeNull();
  }, 290_000);

  it('consumer-crash-loop: processor and sink crash ten times in all, each a real rebalance; verify ok, no duplicated rows', async () => {
    const url = await freshDatabase('crash');
    const r = await runCli([
      'run', '--headless', '--seed', '13', '--scenario', 'consumer-crash-loop', '--time-scale', '0.1', '--warp', '60',
      '--kafka', BROKERS, '--topic-prefix', `fk-crash-${tag}-`, '--database-url', url,
    ], { timeoutMs: 150_000 });
    expect(r.code, `${r.stderr}\n${r.stdout.slice(-4000)}`).toBe(0);
    const s = summaryOf(r) as Summary;
    expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(s.rejected).toBe(0);
    expect(s.faults).toHaveLength(10);
    expect(s.faults.every((f) => f.duration_s !== null && f.drain_s !== null)).toBe(true);
  }, 160_000);
});
