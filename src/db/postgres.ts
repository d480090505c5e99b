/**
 * The PostgreSQL dialect (pg). A sink batch is one statement: UNNEST inserts, one per table, as
 * data-modifying CTEs, ON CONFLICT DO NOTHING, and with the warehouse the days and report_totals
 * summed from what they inserted (DESIGN.md measured UNNEST at about 71k staging rows/s). COPY into
 * a temporary table, then INSERT … SELECT … ON CONFLICT DO NOTHING, was measured on the sink's
 * batches and was not faster (0.6–0.9 of UNNEST's rows/s, new or redelivered: npm run
 * bench:pg-insert, docs/kafka.md, Performance), so it needs no COPY library. One statement takes
 * no less of the database's time than a transaction of several on an idle client; it counts when
 * the client's event loop is busy, as the pipeline's is (each round trip waits for a turn).
 */
import type pg from 'pg';
import { assembleCounts, assembleTransactions, num, runFromRecord } from './decode.js';
import { DatabaseError, classifyPgRuntimeError } from './errors.js';
import { isoUtc, isoUtcOrNull } from './iso.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_POSTGRES, STORESIM_TABLES, STORESIM_VIEWS, pendingMigrations } from './migrations.js';
import { runPatchColumns } from './run-columns.js';
import { RUNS_WITH_ROWS_SQL, rebuildRun } from './rebuild.js';
import { RUN_TABLES } from './types.js';
import type { Database, RunContents, RunCounts, RunRow, RunTable, SinkBatch, WarehouseCounts } from './types.js';
import { dimDateRow, dimensionRows, factSalesRows, factVisitRow } from './warehouse.js';
import type { DimDateRow, Facts, ReportTotalRow } from './warehouse.js';
import type { VisitStatus } from '../engine/types.js';

type Rec = Record<string, unknown>;

const RUN_SELECT = `SELECT run_id, seed, started_at, bus, db, topic_prefix, config::text AS config, command_log::text AS command_log,
  stopped_at_seq, stopped_at_ms, status, heartbeat_at, produced, summary::text AS summary, verify_ok FROM runs`;

// The payloads come as one JSON array, their texts joined (the sink has them as valid JSON), joined
// back to their rows by position: no array literal to escape on the client, one document to parse in
// the server. bench:pg-insert, two interleaved pairs: client CPU 8.0 and 7.1 → 6.5 and 5.8 µs a row,
// 41,495 and 51,757 → 48,526 and 51,823 new rows/s.
const INSERT_STAGING = `INSERT INTO staging_events (run_id, event_id, seq, topic, event_type, customer_id, visit_id, event_time, payload)
  SELECT u.run_id, u.event_id, u.seq, u.topic, u.event_type, u.customer_id, u.visit_id, u.event_time, p.payload
  FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[]) WITH ORDINALITY
    AS u (run_id, event_id, seq, topic, event_type, customer_id, visit_id, event_time, i)
  JOIN jsonb_array_elements($9::jsonb) WITH ORDINALITY AS p (payload, i) USING (i)
  ON CONFLICT DO NOTHING`;

const INSERT_REJECTED = `INSERT INTO rejected_events (run_id, seq, code, reason, source_topic, source_partition, source_offset, key, value, headers, rejected_at)
  SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::bigint[], $8::text[], $9::bytea[],
    $10::jsonb[], $11::timestamptz[])
  ON CONFLICT DO NOTHING`;

const INSERT_TRANSACTIONS = `INSERT INTO transactions (run_id, transaction_id, visit_id, customer_id, store_id, lane, payment_method, transaction_time,
    subtotal_cents, discount_cents, total_cents)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::integer[], $7::text[], $8::timestamptz[],
    $9::bigint[], $10::bigint[], $11::bigint[])
  ON CONFLICT DO NOTHING`;

// A visit with its fact columns (NULL while the warehouse is not loaded; migration 4).
const INSERT_VISITS = `INSERT INTO visits (run_id, visit_id, record_id, customer_id, store_id, status, entry_time, exit_time, lane, queue_joined_at,
    service_started_at, payment_method, transaction_id, lines, items, stale, date_key, entry_hour, dwell_ms, cart_value_cents, queue_wait_ms)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
    $9::integer[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::json[], $15::integer[], $16::boolean[],
    $17::integer[], $18::smallint[], $19::bigint[], $20::bigint[], $21::bigint[])
  ON CONFLICT DO NOTHING`;

// The one stored copy of a sale line (transaction_items is a view of it; migration 4).
const INSERT_LINES = `INSERT INTO fact_sales (run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id,
    lane, payment_method, quantity, unit_price_cents, discount_rate, discount_cents, total_cents)
  SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::integer[], $5::timestamptz[], $6::smallint[], $7::text[], $8::text[], $9::text[],
    $10::integer[], $11::text[], $12::integer[], $13::bigint[], $14::double precision[], $15::bigint[], $16::bigint[])
  ON CONFLICT DO NOTHING`;

// The batch path's writes: facts' derived columns onto the rows they belong to.
const UPDATE_LINES = `UPDATE fact_sales f SET date_key = u.date_key, sale_hour = u.sale_hour, customer_id = u.customer_id, store_id = u.store_id,
    lane = u.lane, payment_method = u.payment_method
  FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::integer[], $5::integer[], $6::smallint[], $7::text[], $8::text[], $9::integer[],
    $10::text[]) AS u (run_id, sold_at, transaction_id, line_no, date_key, sale_hour, customer_id, store_id, lane, payment_method)
  WHERE f.run_id = u.run_id AND f.sold_at = u.sold_at AND f.transaction_id = u.transaction_id AND f.line_no = u.line_no`;

const UPDATE_VISITS = `UPDATE visits v SET date_key = u.date_key, entry_hour = u.entry_hour, dwell_ms = u.dwell_ms, cart_value_cents = u.cart_value_cents,
    queue_wait_ms = u.queue_wait_ms
  FROM unnest($1::text[], $2::text[], $3::integer[], $4::smallint[], $5::bigint[], $6::bigint[], $7::bigint[])
    AS u (run_id, visit_id, date_key, entry_hour, dwell_ms, cart_value_cents, queue_wait_ms)
  WHERE v.run_id = u.run_id AND v.visit_id = u.visit_id`;

const UPSERT_TOTALS = `INSERT INTO report_totals AS t (run_id, dimension, member, n, units, value)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
  ON CONFLICT (run_id, dimension, member) DO UPDATE SET n = t.n + excluded.n, units = t.units + excluded.units, value = t.value + excluded.value`;

const INSERT_DIM_DATE = `INSERT INTO dim_date (date_key, date, iso_week, iso_weekday, weekday_name, day_of_month, month, quarter, year, is_weekend)
  SELECT * FROM unnest($1::integer[], $2::date[], $3::text[], $4::smallint[], $5::text[], $6::smallint[], $7::smallint[], $8::smallint[],
    $9::integer[], $10::boolean[])
  ON CONFLICT DO NOTHING`;

/** `$n` → `$(n + by)`: one statement's parameters after another's, as CTEs of a single statement. */
function shiftParams(sql: string, by: number): string {
  return sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + by}`);
}

/**
 * A sink batch in one statement (one implicit transaction, one round trip): the inserts as CTEs,
 * each with its own arrays. Its parameters: staging 9, rejected 11, transactions 11, sale lines 16,
 * visits 21, then (warehouse) dim_date 10. One round trip instead of nine (BEGIN, the inserts, the
 * prices, the days, the totals, COMMIT) matters because each waits for this process's event loop,
 * which the engine and the processor share: measured in docs/kafka.md, Performance.
 */
const WRITE_CTES = [
  `st AS (${INSERT_STAGING} RETURNING run_id)`,
  `rj AS (${shiftParams(INSERT_REJECTED, 9)})`,
  `tr AS (${shiftParams(INSERT_TRANSACTIONS, 20)})`,
  `fs AS (${shiftParams(INSERT_LINES, 31)} RETURNING run_id, item_id, quantity, total_cents, payment_method, sale_hour)`,
  `vi AS (${shiftParams(INSERT_VISITS, 47)}
    RETURNING run_id, status, transaction_id, payment_method, entry_hour, lane, queue_wait_ms, cart_value_cents)`,
];
const WRITE_BATCH = `WITH ${WRITE_CTES.join(',\n')}\nSELECT 1`;

/**
 * With the warehouse: the days, and report_totals summed from the rows this statement inserted
 * (RETURNING), so a redelivered batch adds nothing. The sums are `totalsOf` (src/db/warehouse.ts,
 * which SQLite and the rebuild use) in SQL; a test holds the two equal. Grouped, because an upsert
 * may touch a row once per statement, and ordered by key like totalsOf's, so that concurrent sinks
 * lock report_totals' rows in one order.
 */
const WRITE_BATCH_WAREHOUSE = `WITH ${WRITE_CTES.join(',\n')},
  dd AS (${shiftParams(INSERT_DIM_DATE, 68)}),
  sums (run_id, dimension, member, n, units, value) AS (
    SELECT run_id, 'accepted'::text, ''::text, count(*)::bigint, 0::bigint, 0::bigint FROM st GROUP BY run_id
    UNION ALL SELECT run_id, 'item', item_id, 1, quantity, total_cents FROM fs
    UNION ALL SELECT run_id, 'payment', coalesce(payment_method, ''), 0, 0, total_cents FROM fs
    UNION ALL SELECT run_id, 'hour', lpad(sale_hour::text, 2, '0'), 0, 0, total_cents FROM fs
    UNION ALL SELECT run_id, 'status', status, 1, (transaction_id IS NOT NULL)::int, cart_value_cents FROM vi
    UNION ALL SELECT run_id, 'payment', coalesce(payment_method, ''), 1, 0, 0 FROM vi WHERE transaction_id IS NOT NULL
    UNION ALL SELECT run_id, 'hour', lpad(entry_hour::text, 2, '0'), 1, 0, 0 FROM vi
    UNION ALL SELECT run_id, 'lane', lane::text, 1, 0, queue_wait_ms FROM vi WHERE lane IS NOT NULL AND queue_wait_ms IS NOT NULL)
  INSERT INTO report_totals AS t (run_id, dimension, member, n, units, value)
  SELECT run_id, dimension, member, sum(n), sum(units), sum(value) FROM sums
  GROUP BY run_id, dimension, member ORDER BY run_id COLLATE "C", dimension COLLATE "C", member COLLATE "C"
  ON CONFLICT (run_id, dimension, member) DO UPDATE SET n = t.n + excluded.n, units = t.units + excluded.units, value = t.value + excluded.value`;

/** dim_date rows as INSERT_DIM_DATE's arrays. */
function dimDateColumns(days: readonly DimDateRow[]): unknown[][] {
  return columns(days, [
    (d) => d.date_key, (d) => d.date, (d) => d.iso_week, (d) => d.iso_weekday, (d) => d.weekday_name, (d) => d.day_of_month, (d) => d.month,
    (d) => d.quarter, (d) => d.year, (d) => d.is_weekend,
  ]);
}

/** `?` placeholders → `$1, $2, …` (the report and export SQL is written once for both dialects; it has no `?` in strings). */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Column arrays for UNNEST: one array per column, rows in order. */
function columns<T>(rows: readonly T[], pick: ((r: T) => unknown)[]): unknown[][] {
  return pick.map((f) => rows.map(f));
}

export interface PostgresDatabaseOptions {
  pool: pg.Pool;
  /** Masked, for messages and the header. */
  where: string;
  description: string;
  /** Load the star schema's facts in writeBatch. Default true. */
  warehouse?: boolean;
}

export function createPostgresDatabase({ pool, where, description, warehouse = true }: PostgresDatabaseOptions): Database {
  async function q(sql: string, params: unknown[] = []): Promise<Rec[]> {
    try {
      return (await pool.query(sql, params)).rows as Rec[];
    } catch (err) {
      throw classifyPgRuntimeError(err, where);
    }
  }

  /**
   * Runs `fn` in one transaction on one connection. While checked out, a client has no pool listener:
   * a connection lost mid-transaction would emit an unhandled 'error' and crash the process, so we
   * hold one; a broken connection is then discarded instead of returned to the pool.
   */
  async function tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      throw classifyPgRuntimeError(err, where);
    }
    let lost: Error | undefined;
    const onError = (err: Error) => {
      lost = err;
    };
    client.on('error', onError);
    const release = (err?: Error) => {
      client.removeListener('error', onError);
      client.release(err ?? lost);
    };
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      release();
      return out;
    } catch (err) {
      let broken: Error | undefined;
      if (lost === undefined) {
        try {
          await client.query('ROLLBACK');
        } catch (e) {
          broken = e instanceof Error ? e : new Error(String(e));
        }
      }
      release(broken);
      throw classifyPgRuntimeError(err, where);
    }
  }

  async function migrateOn(c: pg.PoolClient): Promise<void> {
    // Two processes starting together (roles on several machines) migrate one after the other.
    await c.query(`SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || ':storesim-migrate'))`);
    await c.query(SCHEMA_MIGRATIONS_POSTGRES);
    const applied = (await c.query('SELECT version FROM schema_migrations')).rows.map((r: Rec) => num(r.version));
    const newest = Math.max(0, ...MIGRATIONS.map((m) => m.version));
    const ahead = applied.filter((v) => v > newest);
    if (ahead.length > 0) {
      throw new DatabaseError('usage', `PostgreSQL at ${where} has schema version ${Math.max(...ahead)}, newer than this storesim (${newest}): upgrade storesim or use another schema`);
    }
    for (const m of pendingMigrations(applied)) {
      await c.query(m.postgres);
      await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
  }

  async function insertRun(c: pg.PoolClient | pg.Pool, run: RunRow): Promise<void> {
    await c.query(`INSERT INTO runs (run_id, seed, started_at, bus, db, topic_prefix, config, command_log, stopped_at_seq, stopped_at_ms, status,
      heartbeat_at, produced, summary, verify_ok) VALUES ($1, $2, $3, $4, $5, $6, $7::json, $8::jsonb, $9, $10, $11, $12, $13, $14::json, $15)`, [
      run.run_id, run.seed, isoUtc(run.started_at), run.bus, run.db, run.topic_prefix, run.config, JSON.stringify(run.command_log),
      run.stopped_at_seq, run.stopped_at_ms, run.status, isoUtc(run.heartbeat_at), run.produced, run.summary, run.verify_ok,
    ]);
  }

  async function findLive(c: pg.PoolClient | pg.Pool, topicPrefix: string, sinceIso: string): Promise<RunRow | null> {
    const { rows } = await c.query(`${RUN_SELECT} WHERE topic_prefix = $1 AND status = 'live' AND heartbeat_at > $2
      ORDER BY heartbeat_at DESC LIMIT 1`, [topicPrefix, isoUtc(sinceIso)]);
    const r = rows[0] as Rec | undefined;
    return r ? runFromRecord(r) : null;
  }

  // dim_product's list prices (abandoned carts are valued at them) and the dim_date days already
  // written, cached per process; a price miss reloads once per batch (another process may have seeded).
  let prices: Map<string, number> | null = null;
  const knownDays = new Set<number>();
  async function loadPrices(c: pg.PoolClient | pg.Pool): Promise<Map<string, number>> {
    const { rows } = await c.query('SELECT item_id, list_price_cents FROM dim_product');
    return new Map((rows as Rec[]).map((r) => [String(r.item_id), num(r.list_price_cents)]));
  }
  /** Prices for every item of these facts' source rows, reloading once when one is missing. */
  async function pricesFor(c: pg.PoolClient | pg.Pool, itemIds: Iterable<string>): Promise<Map<string, number>> {
    prices ??= await loadPrices(c);
    for (const id of itemIds) {
      if (!prices.has(id)) {
        prices = await loadPrices(c);
        break;
      }
    }
    return prices;
  }

  /** dim_date rows for the days among these keys not yet written by this process, each once. */
  function unwrittenDays(keys: Iterable<number>): DimDateRow[] {
    const days: DimDateRow[] = [];
    for (const k of new Set(keys)) if (!knownDays.has(k)) days.push(dimDateRow(k));
    return days;
  }

  // The rebuild's writes (the sink's are in its one statement, WRITE_BATCH_WAREHOUSE): the dim_date
  // days its facts touch, and sums added to report_totals.
  async function addDays(c: pg.PoolClient, keys: Iterable<number>): Promise<void> {
    const days = unwrittenDays(keys);
    if (days.length === 0) return;
    await c.query(INSERT_DIM_DATE, dimDateColumns(days));
  }
  async function addTotals(c: pg.PoolClient, totals: readonly ReportTotalRow[]): Promise<void> {
    if (totals.length === 0) return;
    await c.query(UPSERT_TOTALS, columns(totals, [(t) => t.run_id, (t) => t.dimension, (t) => t.member, (t) => t.n, (t) => t.units, (t) => t.value]));
  }
  /** The batch path: facts' derived columns onto their existing rows, and their days. */
  async function updateFacts(c: pg.PoolClient, facts: Facts): Promise<void> {
    await addDays(c, facts.dateKeys);
    if (facts.sales.length > 0) {
      await c.query(UPDATE_LINES, columns(facts.sales, [
        (f) => f.run_id, (f) => f.sold_at, (f) => f.transaction_id, (f) => f.line_no, (f) => f.date_key, (f) => f.sale_hour, (f) => f.customer_id,
        (f) => f.store_id, (f) => f.lane, (f) => f.payment_method,
      ]));
    }
    if (facts.visits.length > 0) {
      await c.query(UPDATE_VISITS, columns(facts.visits, [
        (f) => f.run_id, (f) => f.visit_id, (f) => f.date_key, (f) => f.entry_hour, (f) => f.dwell_ms, (f) => f.cart_value_cents, (f) => f.queue_wait_ms,
      ]));
    }
  }

  function visitItems(visits: SinkBatch['visits']): string[] {
    const ids: string[] = [];
    for (const v of visits) for (const l of JSON.parse(v.lines) as { item_id: string }[]) ids.push(l.item_id);
    return ids;
  }

  return {
    dialect: 'postgres',
    description,
    warehouse,

    migrate: () => tx(migrateOn),

    async writeBatch(batch: SinkBatch): Promise<void> {
      const { staging, rejected, transactions, visits } = batch;
      if (staging.length + rejected.length + transactions.length + visits.length === 0) return;
      let book: Map<string, number> | null = null;
      if (warehouse && visits.length > 0) {
        try {
          book = await pricesFor(pool, visitItems(visits));
        } catch (err) {
          throw classifyPgRuntimeError(err, where);
        }
      }
      // A sale line is stored once, in fact_sales, with its transaction's columns, whether or not
      // the warehouse is loaded (transaction_items is a view of it). A visit's fact columns go on its
      // row when the warehouse is loaded, else stay NULL until a rebuild.
      const lines = transactions.flatMap(factSalesRows);
      const facts = book ? visits.map((v) => factVisitRow(v, (id) => book.get(id))) : null;
      const rows = visits.map((v, i) => ({ v, f: facts?.[i] }));
      const days = warehouse ? unwrittenDays([...lines, ...(facts ?? [])].map((f) => f.date_key)) : [];
      await q(warehouse ? WRITE_BATCH_WAREHOUSE : WRITE_BATCH, [
        ...columns(staging, [
          (r) => r.run_id, (r) => r.event_id, (r) => r.seq, (r) => r.topic, (r) => r.event_type, (r) => r.customer_id, (r) => r.visit_id,
          (r) => isoUtc(r.event_time),
        ]),
        `[${staging.map((r) => r.payload).join(',')}]`,
        ...columns(rejected, [
          (r) => r.run_id, (r) => r.seq, (r) => r.code, (r) => r.reason, (r) => r.source_topic, (r) => r.source_partition, (r) => r.source_offset,
          (r) => r.key, (r) => r.value, (r) => r.headers, (r) => isoUtc(r.rejected_at),
        ]),
        ...columns(transactions, [
          (t) => t.run_id, (t) => t.transaction_id, (t) => t.visit_id, (t) => t.customer_id, (t) => t.store_id, (t) => t.lane,
          (t) => t.payment_method, (t) => isoUtc(t.transaction_time), (t) => t.subtotal_cents, (t) => t.discount_cents, (t) => t.total_cents,
        ]),
        ...columns(lines, [
          (f) => f.run_id, (f) => f.transaction_id, (f) => f.line_no, (f) => f.date_key, (f) => f.sold_at, (f) => f.sale_hour, (f) => f.item_id,
          (f) => f.customer_id, (f) => f.store_id, (f) => f.lane, (f) => f.payment_method, (f) => f.quantity, (f) => f.unit_price_cents,
          (f) => f.discount_rate, (f) => f.discount_cents, (f) => f.total_cents,
        ]),
        ...columns(rows, [
          ({ v }) => v.run_id, ({ v }) => v.visit_id, ({ v }) => v.record_id, ({ v }) => v.customer_id, ({ v }) => v.store_id, ({ v }) => v.status,
          ({ v }) => isoUtc(v.entry_time), ({ v }) => isoUtcOrNull(v.exit_time), ({ v }) => v.lane, ({ v }) => isoUtcOrNull(v.queue_joined_at),
          ({ v }) => isoUtcOrNull(v.service_started_at), ({ v }) => v.payment_method, ({ v }) => v.transaction_id, ({ v }) => v.lines, ({ v }) => v.items,
          ({ v }) => v.stale, ({ f }) => f?.date_key ?? null, ({ f }) => f?.entry_hour ?? null, ({ f }) => f?.dwell_ms ?? null,
          ({ f }) => f?.cart_value_cents ?? null, ({ f }) => f?.queue_wait_ms ?? null,
        ]),
        ...(warehouse ? dimDateColumns(days) : []),
      ]);
      // Only after the commit: a failed write must not leave its days marked as written.
      for (const d of days) knownDays.add(d.date_key);
    },

    async seedDimensions(fixtures) {
      const dims = dimensionRows(fixtures);
      await tx(async (c) => {
        await c.query(`INSERT INTO dim_product (item_id, name, category, list_price_cents)
          SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
          ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, category = excluded.category, list_price_cents = excluded.list_price_cents`,
        columns(dims.products, [(p) => p.item_id, (p) => p.name, (p) => p.category, (p) => p.list_price_cents]));
        await c.query(`INSERT INTO dim_customer (customer_id, segment, loyalty) SELECT * FROM unnest($1::text[], $2::text[], $3::boolean[])
          ON CONFLICT (customer_id) DO UPDATE SET segment = excluded.segment, loyalty = excluded.loyalty`,
        columns(dims.customers, [(x) => x.customer_id, (x) => x.segment, (x) => x.loyalty]));
        await c.query(`INSERT INTO dim_store (store_id, layout, title, lanes) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::integer[])
          ON CONFLICT (store_id) DO UPDATE SET layout = excluded.layout, title = excluded.title, lanes = excluded.lanes`,
        columns(dims.stores, [(x) => x.store_id, (x) => x.layout, (x) => x.title, (x) => x.lanes]));
      });
      prices = null;
    },

    async rebuildWarehouse(runId) {
      const runs = runId !== undefined ? [runId] : (await q(RUNS_WITH_ROWS_SQL)).map((r) => String(r.run_id)).sort();
      const out: WarehouseCounts = { sales: 0, visits: 0, runs: 0 };
      prices = null;
      for (const id of runs) {
        const written: number[] = [];
        const n = await tx(async (c) => {
          const book = await loadPrices(c);
          return rebuildRun({
            all: async (sql, params) => (await c.query(numberPlaceholders(sql), params)).rows as Rec[],
            run: async (sql, params) => { await c.query(numberPlaceholders(sql), params); },
            updateFacts: async (facts) => { await updateFacts(c, facts); written.push(...facts.dateKeys); },
            addTotals: (rows) => addTotals(c, rows),
            listPrice: (item) => book.get(item),
            page: 20_000,
          }, id);
        });
        for (const k of written) knownDays.add(k);
        out.sales += n.sales;
        out.visits += n.visits;
        out.runs++;
      }
      return out;
    },

    deleteRun: (runId) => tx(async (c) => {
      const out = {} as Record<RunTable, number>;
      for (const t of RUN_TABLES) out[t] = (await c.query(`DELETE FROM ${t} WHERE run_id = $1`, [runId])).rowCount ?? 0;
      return out;
    }),

    select: (sql, params = []) => q(numberPlaceholders(sql), [...params]),

    async createRun(run) {
      await tx((c) => insertRun(c, run));
    },

    claimRun: (run, sinceIso) => tx(async (c) => {
      // Serialises claims on one prefix; the lock ends with the transaction.
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('storesim-run:' || $1))`, [run.topic_prefix]);
      const holder = await findLive(c, run.topic_prefix, sinceIso);
      if (holder) return holder;
      await insertRun(c, run);
      return null;
    }),

    async updateRun(runId, patch) {
      const cols = runPatchColumns(patch, { time: isoUtc, json: (v) => JSON.stringify(v), bool: (b) => b });
      if (cols.length === 0) return;
      const cast: Record<string, string> = { config: '::json', summary: '::json', command_log: '::jsonb' };
      const set = cols.map(([c], i) => `${c} = $${i + 2}${cast[c] ?? ''}`).join(', ');
      const { length } = await q(`UPDATE runs SET ${set} WHERE run_id = $1 RETURNING run_id`, [runId, ...cols.map(([, v]) => v)]);
      if (length === 0) throw new Error(`updateRun: no run ${runId}`);
    },

    async appendCommand(runId, entry) {
      const { length } = await q(`UPDATE runs SET command_log = command_log || jsonb_build_array($2::jsonb) WHERE run_id = $1 RETURNING run_id`,
        [runId, JSON.stringify(entry)]);
      if (length === 0) throw new Error(`appendCommand: no run ${runId}`);
    },

    async getRun(runId) {
      const r = (await q(`${RUN_SELECT} WHERE run_id = $1`, [runId]))[0];
      return r ? runFromRecord(r) : null;
    },

    async listRuns() {
      return (await q(`${RUN_SELECT} ORDER BY started_at DESC, run_id COLLATE "C" DESC`)).map(runFromRecord);
    },

    async liveRun(topicPrefix, sinceIso) {
      try {
        return await findLive(pool, topicPrefix, sinceIso);
      } catch (err) {
        throw classifyPgRuntimeError(err, where);
      }
    },

    async counts(runId): Promise<RunCounts> {
      const [staging, byCode, tx1, byStatus] = await Promise.all([
        q('SELECT count(*) AS n FROM staging_events WHERE run_id = $1', [runId]),
        q('SELECT code, count(*) AS n FROM rejected_events WHERE run_id = $1 GROUP BY code', [runId]),
        q('SELECT count(*) AS n, coalesce(sum(total_cents), 0) AS revenue FROM transactions WHERE run_id = $1', [runId]),
        q('SELECT status, count(*) AS n FROM visits WHERE run_id = $1 GROUP BY status', [runId]),
      ]);
      return assembleCounts(num(staging[0]?.n), byCode, tx1[0] ?? {}, byStatus);
    },

    async contents(runId): Promise<RunContents> {
      // One snapshot, so the four reads agree with each other while a sink keeps writing.
      return tx(async (c) => {
        await c.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const staging = (await c.query('SELECT seq, event_id FROM staging_events WHERE run_id = $1 ORDER BY seq', [runId])).rows as Rec[];
        const rejected = (await c.query('SELECT seq, code FROM rejected_events WHERE run_id = $1 ORDER BY seq', [runId])).rows as Rec[];
        const txRecs = (await c.query(`SELECT transaction_id, visit_id, total_cents, subtotal_cents, discount_cents FROM transactions
          WHERE run_id = $1 ORDER BY transaction_id COLLATE "C"`, [runId])).rows as Rec[];
        const itemRecs = (await c.query(`SELECT transaction_id, line_no, item_id, quantity, unit_price_cents, discount_rate, discount_cents,
          total_cents FROM transaction_items WHERE run_id = $1 ORDER BY transaction_id COLLATE "C", line_no`, [runId])).rows as Rec[];
        const visits = (await c.query(`SELECT visit_id, status, lines::text AS lines, transaction_id FROM visits WHERE run_id = $1
          ORDER BY visit_id COLLATE "C"`, [runId])).rows as Rec[];
        return {
          staging: staging.map((r) => ({ seq: num(r.seq), event_id: String(r.event_id) })),
          rejected: rejected.map((r) => ({ seq: num(r.seq), code: String(r.code) })),
          transactions: assembleTransactions(txRecs, itemRecs),
          visits: visits.map((r) => ({
            visit_id: String(r.visit_id),
            status: r.status as VisitStatus,
            lines: String(r.lines),
            transaction_id: r.transaction_id === null ? null : String(r.transaction_id),
          })),
        };
      });
    },

    async reset() {
      await tx(async (c) => {
        // Tables (with CASCADE, their views), then any view left; before migration 4, transaction_items
        // and fact_visits were tables.
        const names: string[] = [...STORESIM_TABLES, ...STORESIM_VIEWS];
        const { rows } = await c.query(`SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name = ANY($1::text[])`, [names]);
        const tables = (rows as Rec[]).map((r) => String(r.name));
        if (tables.length > 0) await c.query(`DROP TABLE IF EXISTS ${tables.join(', ')} CASCADE`);
        await c.query(`DROP VIEW IF EXISTS ${STORESIM_VIEWS.join(', ')}`);
        await migrateOn(c);
      });
      prices = null;
      knownDays.clear();
    },

    async close() {
      await pool.end();
    },
  };
}
