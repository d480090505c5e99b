/**
 * npm run bench:pg-insert — PostgreSQL batched idempotent inserts, two ways, on the same batches:
 *   unnest: what src/db/postgres.ts does (one INSERT … SELECT * FROM unnest($1::text[], …) ON CONFLICT
 *           DO NOTHING per table, the sink's writeBatch, facts and report totals included);
 *   copy:   COPY … FROM STDIN (text format) into a temporary table per target table, then
 *           INSERT … SELECT FROM it ON CONFLICT DO NOTHING (same facts, same totals upsert).
 * Batches are the sink's (synthetic, src/db/synthetic.ts: staging_events, rejected_events,
 * transactions, their lines in fact_sales, visits with their fact columns), 2 000 rows each, one transaction
 * each. Every round writes a fresh run (no conflicts), then the same batches again (all conflicts:
 * a redelivery). Prints rows/s of both and the ratio.
 * Env: DATABASE_URL (postgres://postgres@127.0.0.1:5432/storesim_bench, created when missing),
 *      BENCH_VISITS (20000), BENCH_ROUNDS (3), PG_COPY_STREAMS (a path to import pg-copy-streams
 *      from, for the copy side; without it only unnest is measured).
 */
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { loadFixtures } from '../src/cli/load-fixtures.js';
import { createPostgresDatabase } from '../src/db/postgres.js';
import { syntheticBatches } from '../src/db/synthetic.js';
import { factsOf, totalsOf } from '../src/db/warehouse.js';
import type { SinkBatch } from '../src/db/types.js';
import { ensureBenchDatabase, fmt } from './bench-run.js';

const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/storesim_bench';
const VISITS = Number(process.env.BENCH_VISITS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const fixtures = loadFixtures();
await ensureBenchDatabase(url);

type CopyFrom = (sql: string) => Writable & pg.Submittable;
let copyFrom: CopyFrom | null = null;
if (process.env.PG_COPY_STREAMS) {
  const m = (await import(process.env.PG_COPY_STREAMS)) as { from?: CopyFrom; default?: { from: CopyFrom } };
  copyFrom = m.from ?? m.default?.from ?? null;
}

const pool = new pg.Pool({ connectionString: url, max: 2 });
const db = createPostgresDatabase({ pool, where: 'bench', description: 'bench' });
await db.migrate();
await db.seedDimensions(fixtures);
const prices = new Map(fixtures.catalog.map((p) => [p.item_id, p.price_cents]));

const batchesFor = (runId: string): SinkBatch[] => [...syntheticBatches({ runId, fixtures, visits: VISITS, seed: 7 })];
const rowsOf = (bs: SinkBatch[]): number => bs.reduce((s, b) => s + b.staging.length + b.rejected.length + b.transactions.length
  + b.transactions.reduce((x, t) => x + t.items.length, 0) + b.visits.length, 0);

// ---- the COPY side --------------------------------------------------------------------------
/** COPY text format: \N for null, backslash escapes for \, tab, newline, carriage return. */
function cell(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return '\\\\x' + v.toString('hex');
  const s = String(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r') : s;
}

interface Target { table: string; cols: string[]; conflict?: string; returning?: string }
const T = {
  staging: { table: 'staging_events', cols: ['run_id', 'event_id', 'seq', 'topic', 'event_type', 'customer_id', 'visit_id', 'event_time', 'payload'] },
  rejected: { table: 'rejected_events', cols: ['run_id', 'seq', 'code', 'reason', 'source_topic', 'source_partition', 'source_offset', 'key', 'value', 'headers', 'rejected_at'] },
  transactions: { table: 'transactions', cols: ['run_id', 'transaction_id', 'visit_id', 'customer_id', 'store_id', 'lane', 'payment_method', 'transaction_time', 'subtotal_cents', 'discount_cents', 'total_cents'] },
  visits: { table: 'visits', cols: ['run_id', 'visit_id', 'record_id', 'customer_id', 'store_id', 'status', 'entry_time', 'exit_time', 'lane', 'queue_joined_at', 'service_started_at', 'payment_method', 'transaction_id', 'lines', 'items', 'stale', 'date_key', 'entry_hour', 'dwell_ms', 'cart_value_cents', 'queue_wait_ms'], returning: 'run_id, visit_id' },
  sales: { table: 'fact_sales', cols: ['run_id', 'transaction_id', 'line_no', 'date_key', 'sold_at', 'sale_hour', 'item_id', 'customer_id', 'store_id', 'lane', 'payment_method', 'quantity', 'unit_price_cents', 'discount_rate', 'discount_cents', 'total_cents'], returning: 'run_id, transaction_id, line_no' },
} satisfies Record<string, Target>;

/**
 * The temporary table: emptied by ON COMMIT DELETE ROWS (COPY_EMPTY=commit, the default), or kept
 * and emptied by a DELETE after the insert (COPY_EMPTY=delete).
 */
const EMPTY_BY = process.env.COPY_EMPTY === 'delete' ? 'delete' : 'commit';
async function copyInsert(c: pg.PoolClient, t: Target, rows: readonly Record<string, unknown>[]): Promise<pg.QueryResult> {
  const tmp = `copy_${t.table}`;
  await c.query(`CREATE TEMP TABLE IF NOT EXISTS ${tmp} ${EMPTY_BY === 'commit' ? 'ON COMMIT DELETE ROWS' : ''} AS SELECT ${t.cols.join(', ')} FROM ${t.table} WITH NO DATA`);
  const lines: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) lines[i] = t.cols.map((k) => cell(rows[i]![k])).join('\t');
  await pipeline(async function* () { yield lines.join('\n') + '\n'; }, c.query(copyFrom!(`COPY ${tmp} (${t.cols.join(', ')}) FROM STDIN`)));
  const cols = t.cols.join(', ');
  const res = await c.query(`INSERT INTO ${t.table} (${cols}) SELECT ${cols} FROM ${tmp} ON CONFLICT DO NOTHING${t.returning ? ` RETURNING ${t.returning}` : ''}`);
  if (EMPTY_BY === 'delete') await c.query(`DELETE FROM ${tmp}`);
  return res;
}

const UPSERT_TOTALS = `INSERT INTO report_totals AS t (run_id, dimension, member, n, units, value)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
  ON CONFLICT (run_id, dimension, member) DO UPDATE SET n = t.n + excluded.n, units = t.units + excluded.units, value = t.value + excluded.value`;

async function copyWriteBatch(b: SinkBatch): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const accepted = new Map<string, number>();
    if (b.staging.length > 0) {
      const r = await copyInsert(c, T.staging, b.staging as unknown as Record<string, unknown>[]);
      accepted.set(b.staging[0]!.run_id, r.rowCount ?? 0);
    }
    if (b.rejected.length > 0) await copyInsert(c, T.rejected, b.rejected as unknown as Record<string, unknown>[]);
    if (b.transactions.length > 0) await copyInsert(c, T.transactions, b.transactions as unknown as Record<string, unknown>[]);
    // As the sink writes since migration 4: each line once, in fact_sales; each visit with its fact columns.
    const facts = factsOf(b.transactions, b.visits, (id) => prices.get(id));
    let sales = facts.sales;
    let visits = facts.visits;
    if (sales.length > 0) {
      const r = await copyInsert(c, T.sales, sales as unknown as Record<string, unknown>[]);
      if (r.rows.length < sales.length) {
        const keys = new Set(r.rows.map((x: Record<string, unknown>) => `${String(x.transaction_id)}\u0000${String(x.line_no)}`));
        sales = sales.filter((f) => keys.has(`${f.transaction_id}\u0000${f.line_no}`));
      }
    }
    if (b.visits.length > 0) {
      const rows = b.visits.map((v, i) => ({ ...v, ...facts.visits[i]!, entry_time: v.entry_time }));
      const r = await copyInsert(c, T.visits, rows as unknown as Record<string, unknown>[]);
      if (r.rows.length < visits.length) {
        const keys = new Set(r.rows.map((x: Record<string, unknown>) => String(x.visit_id)));
        visits = visits.filter((f) => keys.has(f.visit_id));
      }
    }
    const totals = totalsOf(sales, visits, accepted);
    if (totals.length > 0) {
      await c.query(UPSERT_TOTALS, [totals.map((t) => t.run_id), totals.map((t) => t.dimension), totals.map((t) => t.member),
        totals.map((t) => t.n), totals.map((t) => t.units), totals.map((t) => t.value)]);
    }
    await c.query('COMMIT');
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}

// ---- rounds ---------------------------------------------------------------------------------
const ways: Array<{ name: string; write: (b: SinkBatch) => Promise<void> }> = [{ name: 'unnest', write: (b) => db.writeBatch(b) }];
if (copyFrom) ways.push({ name: 'copy', write: copyWriteBatch });
else console.log('copy: not measured (set PG_COPY_STREAMS to a path of pg-copy-streams, e.g. one installed under /tmp)');

const best: Record<string, { fresh: number; again: number; cpuUs: number }> = {};
let rows = 0;
let batchCount = 0;
for (let r = 0; r < ROUNDS; r++) {
  for (const w of ways) {
    const runId = randomUUID();
    const batches = batchesFor(runId);
    rows = rowsOf(batches);
    batchCount = batches.length;
    const c0 = process.cpuUsage();
    let t0 = performance.now();
    for (const b of batches) await w.write(b);
    const fresh = rows / ((performance.now() - t0) / 1000);
    const c1 = process.cpuUsage(c0);
    const cpuUs = (c1.user + c1.system) / rows; // this process's CPU (building rows, escaping, parsing replies) per row
    t0 = performance.now();
    for (const b of batches) await w.write(b);
    const again = rows / ((performance.now() - t0) / 1000);
    const counts = await db.counts(runId);
    if (counts.staging !== batches.reduce((s, b) => s + b.staging.length, 0)) throw new Error(`${w.name}: staging rows written twice or lost`);
    await db.deleteRun(runId);
    best[w.name] = { fresh: Math.max(best[w.name]?.fresh ?? 0, fresh), again: Math.max(best[w.name]?.again ?? 0, again), cpuUs: Math.min(best[w.name]?.cpuUs ?? Infinity, cpuUs) };
    console.log(`round ${r + 1} ${w.name.padEnd(6)}: new rows ${fmt(fresh)} rows/s (client CPU ${cpuUs.toFixed(1)} µs/row), redelivered ${fmt(again)} rows/s`);
  }
}
console.log(`bench:pg-insert — ${fmt(rows)} rows (staging, rejected, transactions, items, visits; facts and totals on top) in ${batchCount} batches, best of ${ROUNDS}:`);
for (const [name, b] of Object.entries(best)) console.log(`  ${name.padEnd(6)} ${fmt(b.fresh)} rows/s new, ${fmt(b.again)} rows/s redelivered, client CPU ${b.cpuUs.toFixed(1)} µs/row`);
if (best.copy && best.unnest) {
  console.log(`  copy / unnest: ${(best.copy.fresh / best.unnest.fresh).toFixed(2)} new, ${(best.copy.again / best.unnest.again).toFixed(2)} redelivered`);
}
await db.close();
