import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parquet from '@dsnp/parquetjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFixtures } from '../load-fixtures.js';
import type { UserError} from '../errors.js';
import { reportError } from '../errors.js';
import { num } from '../../db/decode.js';
import { openDatabase } from '../../db/open.js';
import { syntheticBatches } from '../../db/synthetic.js';
import { openTestDatabase } from '../../db/testing.js';
import type { TestDatabase } from '../../db/testing.js';
import { RUN_TABLES } from '../../db/types.js';
import type { Database, RunRow } from '../../db/types.js';
import { loadReport } from '../../report/queries.js';
import { exportRun } from '../../report/export-files.js';
import { exportHandler } from './export.js';
import { reportHandler } from './report.js';
import { runsHandler } from './runs.js';
import { warehouseHandler } from './warehouse.js';
import type { CommandIo } from './shared.js';

const fixtures = loadFixtures();
const RUN_A = '0196d000-0000-7000-8000-00000000000a';
const RUN_B = '0196d000-0000-7000-8000-00000000000b';
const dir = mkdtempSync(join(tmpdir(), 'storesim-commands-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runRow(id: string, startedAt: string, over: Partial<RunRow> = {}): RunRow {
  return {
    run_id: id, seed: 42, started_at: startedAt, bus: 'memory', db: 'sqlite', topic_prefix: '',
    config: JSON.stringify({ engine: { seed: 42 }, kafka: { sasl: { username: 'u', password: 'hunter2' } }, db: { url: 'postgres://u:pw@h/db' } }),
    command_log: [{ step: 10, sim_ms: Date.parse('2026-11-23T08:01:00Z'), command: { type: 'set_rate', perMin: 40 } }],
    stopped_at_seq: 500, stopped_at_ms: Date.parse('2026-11-23T09:00:00Z'), status: 'completed', heartbeat_at: startedAt, produced: 500,
    summary: null, verify_ok: true, ...over,
  };
}

async function fill(db: Database, runId: string, visits: number, seed: number): Promise<void> {
  for (const b of syntheticBatches({ runId, fixtures, visits, seed, gapMs: 40_000, rejectEvery: 25 })) await db.writeBatch(b);
}

/** The headless summary's database figures, computed as src/main.ts does (db.counts by run_id). */
async function summaryFigures(db: Database, runId: string) {
  const c = await db.counts(runId);
  return {
    transactions: c.transactions, revenue_cents: c.revenueCents, visits: c.visits, abandoned: c.visitsByStatus.abandoned ?? 0,
    open_at_end: c.visitsByStatus.open_at_end ?? 0, accepted: c.staging, rejected: c.rejected, rejected_by_code: c.rejectedByCode,
  };
}

function captureIo(over: Partial<CommandIo> = {}): CommandIo & { text(): string } {
  let out = '';
  return {
    out: (s) => { out += s; },
    err: () => undefined,
    isTTY: false,
    env: {},
    confirm: null,
    text: () => out,
    ...over,
  };
}

async function userError(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    const lines: string[] = [];
    const code = reportError(err, (s) => lines.push(s));
    expect(code).toBe(2);
    expect(lines.join('').trimEnd().split('\n')).toHaveLength(1);
    return err as UserError;
  }
  throw new Error('expected a UserError');
}

describe('report figures', () => {
  let sqlite: TestDatabase;
  let pg: TestDatabase;
  beforeAll(async () => {
    sqlite = await openTestDatabase('sqlite', { fixtures });
    pg = await openTestDatabase('postgres', { fixtures });
    for (const t of [sqlite, pg]) {
      await fill(t.db, RUN_A, 400, 3);
      await fill(t.db, RUN_B, 150, 4);
    }
  });
  afterAll(async () => {
    await sqlite?.cleanup();
    await pg?.cleanup();
  });

  it('are the same on SQLite and PostgreSQL, per run and for all runs', async () => {
    for (const runId of [RUN_A, RUN_B, null]) {
      const a = await loadReport(sqlite.db, { runId });
      const b = await loadReport(pg.db, { runId });
      expect(b).toEqual(a);
    }
    const r = await loadReport(sqlite.db, { runId: RUN_A });
    expect(r.top_products).toHaveLength(10);
    expect(r.revenue_by_category.reduce((s, c) => s + c.revenue_cents, 0)).toBe(r.revenue_cents);
    expect(r.hourly.reduce((s, h) => s + h.revenue_cents, 0)).toBe(r.revenue_cents);
    expect(r.payment_mix.reduce((s, p) => s + p.transactions, 0)).toBe(r.transactions);
    expect(r.queue_wait_by_lane.length).toBeGreaterThan(0);
    expect(r.abandoned_carts.value_cents).toBeGreaterThan(0);
  });

  it('agree exactly with the headless summary on both dialects', async () => {
    for (const t of [sqlite, pg]) {
      for (const runId of [RUN_A, RUN_B]) {
        const r = await loadReport(t.db, { runId });
        const s = await summaryFigures(t.db, runId);
        expect({
          transactions: r.transactions, revenue_cents: r.revenue_cents, visits: r.visits, abandoned: r.abandoned, open_at_end: r.open_at_end,
          accepted: r.accepted, rejected: r.rejected, rejected_by_code: r.rejected_by_code,
        }).toEqual(s);
        expect(s.rejected).toBeGreaterThan(0);
      }
    }
  });

  it('exports Parquet that an independent reader reads back with the database’s counts and sums', async () => {
    for (const t of [sqlite, pg]) {
      const out = join(dir, `parquet-${t.db.dialect}`);
      rmSync(out, { recursive: true, force: true });
      (await import('node:fs')).mkdirSync(out);
      const files = await exportRun(t.db, RUN_A, 'parquet', out, 500);
      expect(files.map((f) => f.table).sort()).toEqual(['dim_customer', 'dim_date', 'dim_product', 'dim_store', 'fact_sales', 'fact_visits']);
      const expected: Record<string, { rows: number; sumColumn?: string; sum?: number }> = {};
      const one = async (sql: string) => num((await t.db.select(sql, [RUN_A]))[0]?.v);
      expected.fact_sales = { rows: await one('SELECT count(*) AS v FROM fact_sales WHERE run_id = ?'), sumColumn: 'total_cents', sum: await one('SELECT sum(total_cents) AS v FROM fact_sales WHERE run_id = ?') };
      expected.fact_visits = { rows: await one('SELECT count(*) AS v FROM fact_visits WHERE run_id = ?'), sumColumn: 'cart_value_cents', sum: await one('SELECT sum(cart_value_cents) AS v FROM fact_visits WHERE run_id = ?') };
      expected.dim_product = { rows: fixtures.catalog.length, sumColumn: 'list_price_cents', sum: fixtures.catalog.reduce((s, p) => s + p.price_cents, 0) };
      expected.dim_customer = { rows: fixtures.customers.length };
      expected.dim_store = { rows: Object.keys(fixtures.layouts).length };
      expected.dim_date = { rows: await one('SELECT count(DISTINCT date_key) AS v FROM fact_visits WHERE run_id = ?') };
      for (const f of files) {
        const reader = await parquet.ParquetReader.openFile(f.path);
        try {
          const e = expected[f.table]!;
          expect(Number(reader.getRowCount())).toBe(e.rows);
          const cursor = reader.getCursor();
          let rows = 0;
          let sum = 0n;
          let rec: Record<string, unknown> | null;
          while ((rec = (await cursor.next()) as Record<string, unknown> | null)) {
            rows++;
            if (e.sumColumn) sum += BigInt(rec[e.sumColumn] as bigint | number);
            if (f.table === 'fact_sales' && rows === 1) {
              // Timestamps come back as timestamps, cents as 64-bit integers
              expect(rec.sold_at).toBeInstanceOf(Date);
              expect(typeof rec.total_cents).toBe('bigint');
            }
          }
          expect(rows).toBe(e.rows);
          if (e.sumColumn) expect(Number(sum)).toBe(e.sum);
        } finally {
          await reader.close();
        }
      }
    }
  });
});

describe('commands (SQLite)', () => {
  const path = join(dir, 'cmd.db');
  const args = { sqlite: path };
  beforeAll(async () => {
    const db = await openDatabase({ sqlitePath: path }, { fixtures });
    await db.createRun(runRow(RUN_A, '2026-11-23T08:00:00.000Z'));
    await db.createRun(runRow(RUN_B, '2026-11-24T08:00:00.000Z', { verify_ok: false }));
    await fill(db, RUN_A, 120, 5);
    await fill(db, RUN_B, 80, 6);
    await db.close();
  });

  it('report renders tables and bars within 80 columns, without colour unless a terminal without NO_COLOR', async () => {
    const io = captureIo();
    expect(await reportHandler({ ...args, run: RUN_A }, io)).toBe(0);
    const text = io.text();
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).not.toContain('\u001b[');
    for (const heading of ['Totals', 'Revenue by category', 'Top 10 products', 'Payment methods', 'per simulated hour', 'Mean queue wait', 'Rejected events by code']) {
      expect(text).toContain(heading);
    }
    expect(text).toContain('█');
    const tty = captureIo({ isTTY: true });
    await reportHandler({ ...args, run: RUN_A }, tty);
    expect(tty.text()).toContain('\u001b[');
    const noColor = captureIo({ isTTY: true, env: { NO_COLOR: '1' } });
    await reportHandler({ ...args, run: RUN_A }, noColor);
    expect(noColor.text()).not.toContain('\u001b[');
  });

  it('report: latest run by default, json and csv formats, --all', async () => {
    const json = captureIo();
    await reportHandler({ ...args, format: 'json' }, json);
    const r = JSON.parse(json.text()) as { run_id: string; visits: number };
    expect(r.run_id).toBe(RUN_B);
    expect(r.visits).toBe(80);
    const all = captureIo();
    await reportHandler({ ...args, all: true, format: 'json' }, all);
    expect((JSON.parse(all.text()) as { visits: number }).visits).toBe(200);
    const csv = captureIo();
    await reportHandler({ ...args, run: RUN_A, format: 'csv' }, csv);
    expect(csv.text().split('\n')[0]).toBe('section,key,metric,value');
    expect(csv.text()).toMatch(/^totals,,visits,120$/m);
  });

  it('bad input: unknown run, a database without runs, an unwritable --out, both --run and --all', async () => {
    expect((await userError(reportHandler({ ...args, run: 'nope' }, captureIo()))).message).toMatch(/^no run nope in sqlite .*storesim runs list/);
    const empty = join(dir, 'empty.db');
    expect((await userError(reportHandler({ sqlite: empty }, captureIo()))).message).toMatch(/^no runs in sqlite/);
    expect((await userError(reportHandler({ sqlite: empty, all: true }, captureIo()))).message).toMatch(/^no runs in sqlite/);
    await userError(runsHandler({ sqlite: empty, action: 'show', id: RUN_A }, captureIo()));
    await userError(exportHandler({ ...args, run: 'nope', out: join(dir, 'x'), format: 'csv' }, captureIo()));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    expect((await userError(exportHandler({ ...args, run: RUN_A, out: join(file, 'sub'), format: 'csv' }, captureIo()))).message)
      .toMatch(/^--out .*cannot create the directory \(ENOTDIR\)/);
    await userError(reportHandler({ ...args, run: RUN_A, all: true }, captureIo()));
    await userError(warehouseHandler({ ...args, action: 'rebuild', run: 'nope' }, captureIo()));
  });

  it('export writes csv and jsonl with one line per row', async () => {
    for (const format of ['csv', 'jsonl'] as const) {
      const out = join(dir, `out-${format}`);
      const io = captureIo();
      await exportHandler({ ...args, run: RUN_A, out, format }, io);
      expect(readdirSync(out).sort()).toEqual(['dim_customer', 'dim_date', 'dim_product', 'dim_store', 'fact_sales', 'fact_visits'].map((n) => `${n}.${format}`));
      const visits = readFileSync(join(out, `fact_visits.${format}`), 'utf8').trimEnd().split('\n');
      expect(visits).toHaveLength(format === 'csv' ? 121 : 120);
      if (format === 'jsonl') expect(JSON.parse(visits[0]!)).toMatchObject({ run_id: RUN_A, entry_at: expect.stringMatching(/Z$/) as unknown });
    }
  });

  it('warehouse rebuild reports what it wrote', async () => {
    const io = captureIo();
    await warehouseHandler({ ...args, action: 'rebuild' }, io);
    expect(io.text()).toMatch(/^rebuilt [\d,]+ sales lines and 200 visits for 2 runs in sqlite/);
  });

  it('runs list, show (no secrets) and delete (asks, or --yes)', async () => {
    const list = captureIo();
    await runsHandler({ ...args, action: 'list' }, list);
    const lines = list.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run\s+started \(UTC\)\s+seed\s+mode\s+status\s+produced\s+verify$/);
    expect(lines[1]).toContain(RUN_B);
    expect(lines[1]).toMatch(/FAILED$/);
    expect(lines[2]).toMatch(/ok$/);

    const show = captureIo();
    await runsHandler({ ...args, action: 'show', id: RUN_A }, show);
    expect(show.text()).toContain('set_rate');
    expect(show.text()).toContain('visits 120');
    expect(show.text()).not.toContain('hunter2');
    expect(show.text()).not.toContain(':pw@');

    // No terminal and no --yes: refused; a "no" answer deletes nothing
    await userError(runsHandler({ ...args, action: 'delete', id: RUN_A }, captureIo()));
    const no = captureIo({ confirm: () => Promise.resolve(false) });
    await runsHandler({ ...args, action: 'delete', id: RUN_A }, no);
    expect(no.text()).toBe('nothing deleted\n');

    const db = await openDatabase({ sqlitePath: path });
    const rowsOf = async (run: string) => {
      let n = 0;
      for (const t of RUN_TABLES) n += num((await db.select(`SELECT count(*) AS n FROM ${t} WHERE run_id = ?`, [run]))[0]?.n);
      return n;
    };
    const before = await rowsOf(RUN_B);
    expect(await rowsOf(RUN_A)).toBeGreaterThan(0);
    const yes = captureIo();
    await runsHandler({ ...args, action: 'delete', id: RUN_A, yes: true }, yes);
    expect(yes.text()).toMatch(/^deleted run .*: [\d,]+ rows \(report_totals [\d,]+, fact_sales/);
    expect(await rowsOf(RUN_A)).toBe(0);
    expect(await rowsOf(RUN_B)).toBe(before);
    await db.close();
    await userError(runsHandler({ ...args, action: 'delete', id: RUN_A, yes: true }, captureIo()));
  });
});
