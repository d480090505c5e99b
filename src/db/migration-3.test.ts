import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadFixtures } from '../cli/load-fixtures.js';
import { openDatabase } from './open.js';
import { syntheticBatches } from './synthetic.js';
import { TEST_PG_URL, dropSchema, normalisedRow, postgresAtVersion, sqliteAtVersion } from './testing.js';
import type { Database } from './types.js';
import { factsOf } from './warehouse.js';
import type { FactSalesRow } from './warehouse.js';

// Migration 3 re-keys fact_sales by time (run_id, sold_at, transaction_id, line_no): a database at
// version 2 keeps every fact line, and a redelivered line still changes nothing.

const fixtures = loadFixtures();
const RUN = '0196e000-0000-7000-8000-00000000000a';
const batches = [...syntheticBatches({ runId: RUN, fixtures, visits: 60, seed: 3, batchRows: 80 })];
const price = new Map(fixtures.catalog.map((p) => [p.item_id, p.price_cents]));
const sales: FactSalesRow[] = batches.flatMap((b) => factsOf(b.transactions, [], (id) => price.get(id)).sales);
const COLS = ['run_id', 'transaction_id', 'line_no', 'date_key', 'sold_at', 'sale_hour', 'item_id', 'customer_id', 'store_id', 'lane',
  'payment_method', 'quantity', 'unit_price_cents', 'discount_rate', 'discount_cents', 'total_cents'] as const;

async function readSales(db: Database): Promise<unknown[]> {
  const rows = await db.select(`SELECT ${COLS.join(', ')} FROM fact_sales WHERE run_id = ? ORDER BY transaction_id, line_no`, [RUN]);
  return rows.map((r) => normalisedRow(r, COLS));
}
const expected = [...sales].sort((a, b) => (a.transaction_id < b.transaction_id ? -1 : a.transaction_id > b.transaction_id ? 1 : a.line_no - b.line_no))
  .map((f) => Object.fromEntries(COLS.map((c) => [c, f[c]])));

describe('migration 3: fact_sales keyed by time', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('sqlite: a version-2 database keeps its fact lines, under the new key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'storesim-m3-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'v2.db');
    sqliteAtVersion(path, 2, (raw) => {
      const ins = raw.prepare(`INSERT INTO fact_sales (${COLS.join(', ')}) VALUES (${COLS.map(() => '?').join(', ')})`);
      for (const f of sales) ins.run(...COLS.map((c) => f[c]));
    });

    const db = await openDatabase({ sqlitePath: path }, { fixtures });
    try {
      expect(await readSales(db)).toEqual(expected);
      const ddl = await db.select(`SELECT sql FROM sqlite_master WHERE name = 'fact_sales'`);
      expect(String(ddl[0]!.sql)).toContain('PRIMARY KEY (run_id, sold_at, transaction_id, line_no)');
      expect(await db.select(`SELECT name FROM sqlite_master WHERE tbl_name = 'fact_sales' AND type = 'index'`)).toEqual([]);
      // The streaming path over the same lines adds nothing: the new key still identifies a line.
      for (const b of batches) await db.writeBatch({ ...b, staging: [], rejected: [], visits: [] });
      expect(await readSales(db)).toEqual(expected);
    } finally {
      await db.close();
    }
  });

  it('postgres: a version-2 schema keeps its fact lines, under the new key', async () => {
    const schema = `m3_${process.pid}_${Date.now().toString(36)}`;
    cleanups.push(() => dropSchema(schema));
    await postgresAtVersion(schema, 2, async (c) => {
      for (const f of sales) {
        await c.query(`INSERT INTO fact_sales (${COLS.join(', ')}) VALUES (${COLS.map((_, i) => `$${i + 1}`).join(', ')})`, COLS.map((k) => f[k]));
      }
    });

    const db = await openDatabase({ url: TEST_PG_URL }, { fixtures, schema });
    try {
      expect(await readSales(db)).toEqual(expected);
      const key = await db.select(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'fact_sales_pkey'
        AND connamespace = ?::regnamespace`, [schema]);
      expect(key.map((r) => r.def)).toEqual(['PRIMARY KEY (run_id, sold_at, transaction_id, line_no)']);
      for (const b of batches) await db.writeBatch({ ...b, staging: [], rejected: [], visits: [] });
      expect(await readSales(db)).toEqual(expected);
    } finally {
      await db.close();
    }
  });
});
