import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFixtures } from '../cli/load-fixtures.js';
import { num } from './decode.js';
import { isoUtc } from './iso.js';
import { openDatabase } from './open.js';
import { syntheticBatches } from './synthetic.js';
import { TEST_PG_URL, dropSchema, normalisedRow, postgresAtVersion, sqliteAtVersion } from './testing.js';
import type { Database, SinkBatch } from './types.js';
import { factsOf } from './warehouse.js';

// Migration 4 stores each sale line and each visit once: fact_sales becomes the one line table
// (transaction_items a view of it) and visits carries the visit fact's columns (fact_visits a view).
// A database at version 3 keeps every line and every fact: a run whose facts were loaded, and a run
// written without the warehouse, whose lines were only in transaction_items.

const fixtures = loadFixtures();
const LOADED = '0196f000-0000-7000-8000-00000000000a';
const UNLOADED = '0196f000-0000-7000-8000-00000000000b';
const price = new Map(fixtures.catalog.map((p) => [p.item_id, p.price_cents]));
const runBatches = (runId: string, seed: number): SinkBatch[] => [...syntheticBatches({ runId, fixtures, visits: 40, seed, batchRows: 60 })];
const batches: Record<string, SinkBatch[]> = { [LOADED]: runBatches(LOADED, 3), [UNLOADED]: runBatches(UNLOADED, 4) };
const all = <T>(runId: string, pick: (b: SinkBatch) => T[]): T[] => batches[runId]!.flatMap(pick);
const factsFor = (runId: string) => factsOf(all(runId, (b) => b.transactions), all(runId, (b) => b.visits), (id) => price.get(id));

const TX = ['run_id', 'transaction_id', 'visit_id', 'customer_id', 'store_id', 'lane', 'payment_method', 'transaction_time', 'subtotal_cents',
  'discount_cents', 'total_cents'] as const;
const ITEM = ['run_id', 'transaction_id', 'line_no', 'item_id', 'quantity', 'unit_price_cents', 'discount_rate', 'discount_cents', 'total_cents'] as const;
const VISIT = ['run_id', 'visit_id', 'record_id', 'customer_id', 'store_id', 'status', 'entry_time', 'exit_time', 'lane', 'queue_joined_at',
  'service_started_at', 'payment_method', 'transaction_id', 'lines', 'items', 'stale'] as const;
const SALE = ['run_id', 'transaction_id', 'line_no', 'date_key', 'sold_at', 'sale_hour', 'item_id', 'customer_id', 'store_id', 'lane',
  'payment_method', 'quantity', 'unit_price_cents', 'discount_rate', 'discount_cents', 'total_cents'] as const;
const FACT_VISIT = ['run_id', 'visit_id', 'customer_id', 'store_id', 'date_key', 'entry_at', 'entry_hour', 'exit_at', 'dwell_ms', 'items',
  'cart_value_cents', 'status', 'lane', 'payment_method', 'queue_joined_at', 'service_started_at', 'queue_wait_ms', 'transaction_id'] as const;

type Row = Record<string, unknown>;
/** The version-3 rows: both runs' operational rows, and the facts of the loaded run only. */
function v3Rows(stale: (b: boolean) => unknown): { table: string; cols: readonly string[]; rows: Row[] }[] {
  const runs = [LOADED, UNLOADED];
  return [
    { table: 'transactions', cols: TX, rows: runs.flatMap((r) => all(r, (b) => b.transactions).map((t) => ({ ...t, transaction_time: isoUtc(t.transaction_time) }))) },
    { table: 'transaction_items', cols: ITEM, rows: runs.flatMap((r) => all(r, (b) => b.transactions).flatMap((t) => t.items.map((i) => ({ ...i, run_id: t.run_id, transaction_id: t.transaction_id })))) },
    { table: 'visits', cols: VISIT, rows: runs.flatMap((r) => all(r, (b) => b.visits).map((v) => ({ ...v, stale: stale(v.stale) }))) },
    { table: 'fact_sales', cols: SALE, rows: factsFor(LOADED).sales as unknown as Row[] },
    { table: 'fact_visits', cols: FACT_VISIT, rows: factsFor(LOADED).visits as unknown as Row[] },
  ];
}

const norm = (cols: readonly string[]) => (r: Row): Row => normalisedRow(r, cols);
async function read(db: Database, table: string, cols: readonly string[], runId: string, order: string): Promise<Row[]> {
  return (await db.select(`SELECT ${cols.join(', ')} FROM ${table} WHERE run_id = ? ORDER BY ${order}`, [runId])).map(norm(cols));
}
const byKey = (cols: readonly string[], ...key: string[]) => (rows: Row[]): Row[] => rows.map(norm(cols)).sort((a, b) => {
  for (const k of key) {
    const x = a[k] as string | number;
    const y = b[k] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
});

/** What a version-3 database's runs must look like after migrating, and that writes still add nothing. */
async function expectMigrated(db: Database): Promise<void> {
  for (const run of [LOADED, UNLOADED]) {
    const items = byKey(ITEM, 'transaction_id', 'line_no')(v3Rows((b) => b)[1]!.rows.filter((r) => r.run_id === run));
    expect(await read(db, 'transaction_items', ITEM, run, 'transaction_id, line_no')).toEqual(items);
    // Every line is in fact_sales, the unloaded run's with its transaction columns derived in SQL as the sink derives them.
    expect(await read(db, 'fact_sales', SALE, run, 'transaction_id, line_no')).toEqual(byKey(SALE, 'transaction_id', 'line_no')(factsFor(run).sales as unknown as Row[]));
  }
  const loadedVisits = byKey(FACT_VISIT, 'visit_id')(factsFor(LOADED).visits as unknown as Row[]);
  expect(await read(db, 'fact_visits', FACT_VISIT, LOADED, 'visit_id')).toEqual(loadedVisits);
  // The unloaded run's visits have no fact columns until the batch path loads them.
  expect(await read(db, 'fact_visits', FACT_VISIT, UNLOADED, 'visit_id')).toEqual([]);
  expect(num((await db.select('SELECT count(*) AS n FROM visits WHERE run_id = ?', [UNLOADED]))[0]?.n)).toBe(40);
  await db.rebuildWarehouse(UNLOADED);
  expect(await read(db, 'fact_visits', FACT_VISIT, UNLOADED, 'visit_id')).toEqual(byKey(FACT_VISIT, 'visit_id')(factsFor(UNLOADED).visits as unknown as Row[]));
  // And a redelivered batch changes nothing.
  for (const b of batches[LOADED]!) await db.writeBatch({ ...b, staging: [], rejected: [] });
  expect(await read(db, 'fact_visits', FACT_VISIT, LOADED, 'visit_id')).toEqual(loadedVisits);
  expect(await read(db, 'fact_sales', SALE, LOADED, 'transaction_id, line_no')).toEqual(byKey(SALE, 'transaction_id', 'line_no')(factsFor(LOADED).sales as unknown as Row[]));
}

describe('migration 4: one stored copy of each sale line and visit', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('sqlite: a version-3 database keeps every line and fact, loaded or not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storesim-m4-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'v3.db');
    sqliteAtVersion(path, 3, (raw) => {
      for (const { table, cols, rows } of v3Rows((b) => (b ? 1 : 0))) {
        const ins = raw.prepare(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
        for (const r of rows) ins.run(...cols.map((c) => r[c]));
      }
    });

    const db = await openDatabase({ sqlitePath: path }, { fixtures });
    try {
      await expectMigrated(db);
    } finally {
      await db.close();
    }
  });

  it('postgres: a version-3 schema keeps every line and fact, loaded or not', async () => {
    const schema = `m4_${process.pid}_${Date.now().toString(36)}`;
    cleanups.push(() => dropSchema(schema));
    await postgresAtVersion(schema, 3, async (c) => {
      for (const { table, cols, rows } of v3Rows((b) => b)) {
        for (const r of rows) {
          await c.query(`INSERT INTO ${table} (${cols.join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((k) => r[k]));
        }
      }
    });

    const db = await openDatabase({ url: TEST_PG_URL }, { fixtures, schema });
    try {
      await expectMigrated(db);
    } finally {
      await db.close();
    }
  });
});
