import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadFixtures } from '../cli/load-fixtures.js';
import { num } from './decode.js';
import { syntheticBatches } from './synthetic.js';
import { normalisedRow, openTestDatabase } from './testing.js';
import type { TestDatabase } from './testing.js';
import { RUN_TABLES } from './types.js';
import type { Database, RunRow, SinkBatch, VisitRow } from './types.js';
import { dateKeyOf, dimDateRow, dimensionRows, factSalesRows, factVisitRow } from './warehouse.js';

const fixtures = loadFixtures();
const RUN_A = '0196c000-0000-7000-8000-00000000000a';
const RUN_B = '0196c000-0000-7000-8000-00000000000b';

function batchesOf(runId: string, visits: number, seed = 7): SinkBatch[] {
  // 2 h between entries: the run spans several days, so dim_date gets several rows.
  return [...syntheticBatches({ runId, fixtures, visits, seed, gapMs: 2 * 3_600_000, batchRows: 150 })];
}

/** Every fact row of a run, normalised across dialects (numbers as numbers, times as ISO strings). */
async function facts(db: Database, runId: string): Promise<{ sales: unknown[]; visits: unknown[]; totals: unknown[] }> {
  const sales = await db.select(`SELECT transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id, lane, payment_method,
    quantity, unit_price_cents, discount_rate, discount_cents, total_cents FROM fact_sales WHERE run_id = ? ORDER BY transaction_id, line_no`, [runId]);
  const visits = await db.select(`SELECT visit_id, customer_id, store_id, date_key, entry_at, entry_hour, exit_at, dwell_ms, items, cart_value_cents,
    status, lane, payment_method, queue_joined_at, service_started_at, queue_wait_ms, transaction_id FROM fact_visits WHERE run_id = ?
    ORDER BY visit_id`, [runId]);
  const totals = (await db.select('SELECT dimension, member, n, units, value FROM report_totals WHERE run_id = ? ORDER BY dimension, member', [runId]))
    .map((r) => ({ dimension: r.dimension, member: r.member, n: num(r.n), units: num(r.units), value: num(r.value) }));
  return { sales: sales.map((r) => normalisedRow(r)), visits: visits.map((r) => normalisedRow(r)), totals };
}

function runRow(id: string): RunRow {
  return {
    run_id: id, seed: 1, started_at: '2026-11-23T08:00:00.000Z', bus: 'memory', db: 'sqlite', topic_prefix: '', config: '{}', command_log: [],
    stopped_at_seq: null, stopped_at_ms: null, status: 'completed', heartbeat_at: '2026-11-23T08:00:00.000Z', produced: 1, summary: null, verify_ok: true,
  };
}

describe('warehouse mappings', () => {
  it('dim_date: ISO week, weekday, quarter and weekend flag of a day', () => {
    expect(dimDateRow(20261123)).toEqual({
      date_key: 20261123, date: '2026-11-23', iso_week: '2026-W48', iso_weekday: 1, weekday_name: 'Monday', day_of_month: 23, month: 11,
      quarter: 4, year: 2026, is_weekend: false,
    });
    expect(dimDateRow(20261129)).toMatchObject({ iso_weekday: 7, is_weekend: true, iso_week: '2026-W48' });
    expect(dimDateRow(20270101)).toMatchObject({ iso_week: '2026-W53', quarter: 1, weekday_name: 'Friday' });
    expect(dateKeyOf('2026-02-03T23:59:59.999Z')).toBe(20260203);
  });

  it('a visit fact: dwell, queue wait (service start − queue join) and the cart at list price', () => {
    const v: VisitRow = {
      run_id: RUN_A, visit_id: 'v1', record_id: 'r1', customer_id: 'c1', store_id: 's1', status: 'purchased',
      entry_time: '2026-11-23T09:59:00.000Z', exit_time: '2026-11-23T10:09:00.000Z', lane: 2, queue_joined_at: '2026-11-23T10:05:00.000Z',
      service_started_at: '2026-11-23T10:06:30.000Z', payment_method: 'card', transaction_id: 't1',
      lines: '[{"item_id":"A","quantity":2},{"item_id":"B","quantity":1}]', items: 3, stale: false,
    };
    const f = factVisitRow(v, (id) => ({ A: 250, B: 999 })[id]);
    expect(f).toMatchObject({ date_key: 20261123, entry_hour: 9, dwell_ms: 600_000, queue_wait_ms: 90_000, cart_value_cents: 1499, items: 3 });
    const open = factVisitRow({ ...v, status: 'open_at_end', exit_time: null, service_started_at: null }, () => undefined);
    expect(open).toMatchObject({ dwell_ms: null, queue_wait_ms: null, cart_value_cents: 0 });
  });

  it('a transaction without lines (forced empty checkout) has no sales fact', () => {
    const [t] = batchesOf(RUN_A, 40).flatMap((b) => b.transactions);
    expect(factSalesRows({ ...t!, items: [] })).toEqual([]);
    expect(factSalesRows(t!)).toHaveLength(t!.items.length);
  });

  it('dimensions come from the fixtures: every product, customer and layout', () => {
    const d = dimensionRows(fixtures);
    expect(d.products).toHaveLength(fixtures.catalog.length);
    expect(d.customers).toHaveLength(fixtures.customers.length);
    expect(d.stores.map((s) => s.layout).sort()).toEqual(Object.keys(fixtures.layouts).sort());
  });
});

describe.each(['sqlite', 'postgres'] as const)('%s warehouse', (dialect) => {
  let t: TestDatabase;
  let batchOnly: TestDatabase;

  beforeAll(async () => {
    t = await openTestDatabase(dialect, { fixtures });
    batchOnly = await openTestDatabase(dialect, { fixtures, warehouse: false });
  });
  afterAll(async () => {
    await t?.cleanup();
    await batchOnly?.cleanup();
  });
  beforeEach(async () => {
    await t.db.reset();
    await t.db.seedDimensions(fixtures);
    await batchOnly.db.reset();
    await batchOnly.db.seedDimensions(fixtures);
  });

  it('seeds the dimensions idempotently', async () => {
    await t.db.seedDimensions(fixtures);
    const n = async (table: string) => num((await t.db.select(`SELECT count(*) AS n FROM ${table}`))[0]?.n);
    expect(await n('dim_product')).toBe(fixtures.catalog.length);
    expect(await n('dim_customer')).toBe(fixtures.customers.length);
    expect(await n('dim_store')).toBe(Object.keys(fixtures.layouts).length);
    const p = fixtures.catalog[0]!;
    const row = (await t.db.select('SELECT name, category, list_price_cents FROM dim_product WHERE item_id = ?', [p.item_id]))[0];
    expect({ ...row, list_price_cents: num(row?.list_price_cents) }).toEqual({ name: p.name, category: p.category, list_price_cents: p.price_cents });
  });

  it('stream and batch paths give identical facts, and both are idempotent', async () => {
    // Given the same batches written with the warehouse (streaming) and without it
    const batches = batchesOf(RUN_A, 120);
    for (const b of batches) await t.db.writeBatch(b);
    for (const b of batches) await batchOnly.db.writeBatch(b);
    const streamed = await facts(t.db, RUN_A);
    expect(streamed.sales.length).toBeGreaterThan(100);
    expect(streamed.visits).toHaveLength(120);
    // Without the warehouse a sale line is still stored (fact_sales is its one copy), but no visit has
    // its fact columns and there are no totals; and whatever a line's transaction columns say, the
    // batch path recomputes them from `transactions` (here they are spoiled first).
    const unloaded = await facts(batchOnly.db, RUN_A);
    expect(unloaded.sales).toHaveLength(streamed.sales.length);
    expect(unloaded.visits).toEqual([]);
    expect(unloaded.totals).toEqual([]);
    await batchOnly.exec(`UPDATE fact_sales SET date_key = 19700101, sale_hour = 0, customer_id = 'spoiled', store_id = 'spoiled', lane = NULL,
      payment_method = NULL`);
    expect((await facts(batchOnly.db, RUN_A)).sales).not.toEqual(streamed.sales);

    // When the batch path rebuilds the facts from the operational tables alone
    const counts = await batchOnly.db.rebuildWarehouse(RUN_A);

    // Then the facts are the same rows, value for value
    expect(counts).toEqual({ sales: streamed.sales.length, visits: 120, runs: 1 });
    expect(await facts(batchOnly.db, RUN_A)).toEqual(streamed);
    // And a redelivered batch or a second rebuild changes nothing
    for (const b of batches.slice(0, 3)) await t.db.writeBatch(b);
    expect(await facts(t.db, RUN_A)).toEqual(streamed);
    await t.db.rebuildWarehouse();
    expect(await facts(t.db, RUN_A)).toEqual(streamed);

    // And dim_date holds one row per day the facts touch
    const days = await t.db.select('SELECT date_key FROM dim_date ORDER BY date_key');
    const touched = new Set([...streamed.sales, ...streamed.visits].map((f) => (f as { date_key: number }).date_key));
    expect(days.map((d) => num(d.date_key))).toEqual([...touched].sort((a, b) => a - b));
    expect(touched.size).toBeGreaterThan(5);
  });

  it('a batch of only transactions or only visits adds the sums of its own facts, not of earlier rows', async () => {
    const batches = batchesOf(RUN_A, 60, 3);
    const split = batches.flatMap((b) => [
      { staging: b.staging, rejected: b.rejected, transactions: [], visits: b.visits },
      { staging: [], rejected: [], transactions: b.transactions, visits: [] },
    ]);
    for (const b of split) await t.db.writeBatch(b);
    for (const b of batches) await batchOnly.db.writeBatch(b);
    await batchOnly.db.rebuildWarehouse(RUN_A);
    expect(await facts(t.db, RUN_A)).toEqual(await facts(batchOnly.db, RUN_A));
  });

  it('a batch holding the same transactions and visits twice adds them to the totals once', async () => {
    // Given batches in which every transaction and visit comes twice (a producer retry can put a
    // message on an output topic twice, and both copies can reach the sink in one batch)
    const batches = batchesOf(RUN_A, 60, 5);
    for (const b of batches) await t.db.writeBatch(b);
    const once = await facts(t.db, RUN_A);
    await t.db.reset();
    await t.db.seedDimensions(fixtures);
    // When each batch is written with its transactions and visits doubled
    for (const b of batches) {
      await t.db.writeBatch({ ...b, transactions: [...b.transactions, ...b.transactions], visits: [...b.visits, ...b.visits] });
    }
    // Then the facts and the totals are those of the batches written once
    const twice = await facts(t.db, RUN_A);
    expect(twice.totals.length).toBeGreaterThan(10);
    expect(twice).toEqual(once);
  });

  it('a batch holding two runs adds to each run the sums of its own rows', async () => {
    // Given each run's batches written alone
    const a = batchesOf(RUN_A, 60, 3);
    const b = batchesOf(RUN_B, 50, 4);
    for (const x of [...a, ...b]) await t.db.writeBatch(x);
    const alone = { a: await facts(t.db, RUN_A), b: await facts(t.db, RUN_B) };
    expect(alone.a.totals.length).toBeGreaterThan(10);
    await t.db.reset();
    await t.db.seedDimensions(fixtures);
    // When the two runs' batches are merged pairwise into batches of both (a sink reading the
    // topics of a resumed run and of a new one under one prefix)
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const [x, y] = [a[i], b[i]];
      await t.db.writeBatch({
        staging: [...(x?.staging ?? []), ...(y?.staging ?? [])], rejected: [...(x?.rejected ?? []), ...(y?.rejected ?? [])],
        transactions: [...(y?.transactions ?? []), ...(x?.transactions ?? [])], visits: [...(x?.visits ?? []), ...(y?.visits ?? [])],
      });
    }
    // Then each run's facts and totals are those it had alone
    expect({ a: await facts(t.db, RUN_A), b: await facts(t.db, RUN_B) }).toEqual(alone);
  });

  it('revenue in the facts equals the transactions total; report_totals equal the sums of the facts', async () => {
    for (const b of batchesOf(RUN_A, 80)) await t.db.writeBatch(b);
    const c = await t.db.counts(RUN_A);
    const s = await t.db.select('SELECT sum(total_cents) AS r FROM fact_sales WHERE run_id = ?', [RUN_A]);
    expect(num(s[0]?.r)).toBe(c.revenueCents);
    const { totals } = await facts(t.db, RUN_A);
    const of = (d: string) => (totals as { dimension: string; member: string; n: number; units: number; value: number }[])
      .filter((x) => x.dimension === d).map(({ member, n, units, value }) => ({ member, n, units, value }));
    const items = await t.db.select(`SELECT item_id AS member, count(*) AS n, sum(quantity) AS units, sum(total_cents) AS value FROM fact_sales
      WHERE run_id = ? GROUP BY item_id ORDER BY item_id`, [RUN_A]);
    expect(of('item')).toEqual(items.map((r) => ({ member: r.member, n: num(r.n), units: num(r.units), value: num(r.value) })));
    const status = await t.db.select(`SELECT status AS member, count(*) AS n, count(transaction_id) AS units, sum(cart_value_cents) AS value
      FROM fact_visits WHERE run_id = ? GROUP BY status ORDER BY status`, [RUN_A]);
    expect(of('status')).toEqual(status.map((r) => ({ member: r.member, n: num(r.n), units: num(r.units), value: num(r.value) })));
    expect(of('accepted')).toEqual([{ member: '', n: c.staging, units: 0, value: 0 }]);
  });

  it('deletes every row of one run, in every table, and touches no other run', async () => {
    await t.db.createRun(runRow(RUN_A));
    await t.db.createRun(runRow(RUN_B));
    for (const b of batchesOf(RUN_A, 60, 1)) await t.db.writeBatch(b);
    for (const b of batchesOf(RUN_B, 50, 2)) await t.db.writeBatch(b);
    const count = async (run: string) => Object.fromEntries(await Promise.all(RUN_TABLES.map(async (tb) =>
      [tb, num((await t.db.select(`SELECT count(*) AS n FROM ${tb} WHERE run_id = ?`, [run]))[0]?.n)] as const)));
    const before = await count(RUN_B);
    const aBefore = await count(RUN_A);

    const deleted = await t.db.deleteRun(RUN_A);

    expect(deleted).toEqual(aBefore);
    expect(Object.values(await count(RUN_A)).every((n) => n === 0)).toBe(true);
    expect(await count(RUN_B)).toEqual(before);
    expect(Object.values(before).every((n) => n > 0)).toBe(true);
    expect(await t.db.getRun(RUN_A)).toBeNull();
  });
});
