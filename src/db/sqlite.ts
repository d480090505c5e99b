/**
 * The SQLite dialect (better-sqlite3): the offline default. better-sqlite3 is synchronous, so every
 * write is one short transaction and a held lock fails fast (short busy timeout) with a retriable
 * error instead of freezing the process (DESIGN.md, Infrastructure faults).
 */
import BetterSqlite3 from 'better-sqlite3';
import { assembleCounts, assembleTransactions, num, runFromRecord } from './decode.js';
import { DatabaseError, classifySqliteRuntimeError } from './errors.js';
import { isoUtc, isoUtcOrNull } from './iso.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_SQLITE, STORESIM_TABLES, STORESIM_VIEWS, pendingMigrations } from './migrations.js';
import { runPatchColumns } from './run-columns.js';
import { RUNS_WITH_ROWS_SQL, rebuildRun } from './rebuild.js';
import { RUN_TABLES } from './types.js';
import type {
  CommandLogEntry, Database, RunContents, RunCounts, RunRow, RunTable, SinkBatch, WarehouseCounts,
} from './types.js';
import { dimDateRow, dimensionRows, factSalesRows, factVisitRow, totalsOf } from './warehouse.js';
import type { FactSalesRow, FactVisitRow, Facts, ReportTotalRow } from './warehouse.js';
import type { VisitStatus } from '../engine/types.js';

type Rec = Record<string, unknown>;

const RUN_SELECT = `SELECT run_id, seed, started_at, bus, db, topic_prefix, config, command_log, stopped_at_seq,
  stopped_at_ms, status, heartbeat_at, produced, summary, verify_ok FROM runs`;

/**
 * Opens a SQLite file the way every storesim connection uses it: WAL, synchronous=NORMAL, foreign
 * keys. A new file gets 16 KB pages (set before its first table; an existing file keeps its own):
 * the sink's batches ran ~35 % faster in process than with the default 4 KB, with and without the
 * warehouse (docs/pipeline.md). Errors are SQLite's own; callers classify them.
 */
export function openSqliteConnection(path: string, busyTimeoutMs: number): BetterSqlite3.Database {
  const raw = new BetterSqlite3(path, { timeout: busyTimeoutMs });
  try {
    raw.pragma('page_size = 16384');
    // The first statement that reads the header: a garbage file fails here with "file is not a database".
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = NORMAL');
    raw.pragma('foreign_keys = ON');
    return raw;
  } catch (err) {
    raw.close();
    throw err;
  }
}

export interface SqliteDatabaseOptions {
  /** Load the star schema's facts in writeBatch. Default true. */
  warehouse?: boolean;
}

export function createSqliteDatabase(db: BetterSqlite3.Database, path: string, opts: SqliteDatabaseOptions = {}): Database {
  const description = `sqlite ${path}`;
  const warehouse = opts.warehouse ?? true;
  // Write tuning, on top of WAL + synchronous=NORMAL set by the opener. The sink commits a batch
  // every few milliseconds: a checkpoint every 10,000 WAL pages (~40 MB) instead of SQLite's 1,000
  // writes each hot page back far less often (about a fifth of the sink's time with the warehouse
  // on, measured); the WAL file is cut back to 64 MB after a checkpoint. A 64 MB page cache keeps
  // the growing tables' right-hand edges and the randomly keyed ones (transaction ids) in memory.
  db.pragma('wal_autocheckpoint = 10000');
  db.pragma('journal_size_limit = 67108864');
  db.pragma('cache_size = -65536');

  /** Runs `fn` and turns SQLite errors into user-facing, classified ones. */
  function guard<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(classifySqliteRuntimeError(err, path));
    }
  }

  const migrateTx = db.transaction(() => {
    db.exec(SCHEMA_MIGRATIONS_SQLITE);
    const applied = (db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[]);
    const newest = Math.max(0, ...MIGRATIONS.map((m) => m.version));
    const ahead = applied.filter((v) => v > newest);
    if (ahead.length > 0) {
      throw new DatabaseError('usage', `SQLite database ${path} has schema version ${Math.max(...ahead)}, newer than this storesim (${newest}): upgrade storesim or pass --sqlite PATH`);
    }
    const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
    for (const m of pendingMigrations(applied)) {
      db.exec(m.sqlite);
      record.run(m.version, m.name, new Date().toISOString());
    }
  });

  // Prepared lazily: the tables exist only after migrate().
  let stmts: ReturnType<typeof prepareWrites> | null = null;
  function prepareWrites() {
    return {
      staging: db.prepare(`INSERT INTO staging_events (run_id, event_id, seq, topic, event_type, customer_id, visit_id, event_time, payload)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      rejected: db.prepare(`INSERT INTO rejected_events (run_id, seq, code, reason, source_topic, source_partition, source_offset, key, value, headers, rejected_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      transaction: db.prepare(`INSERT INTO transactions (run_id, transaction_id, visit_id, customer_id, store_id, lane, payment_method, transaction_time,
        subtotal_cents, discount_cents, total_cents) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      visit: db.prepare(`INSERT INTO visits (run_id, visit_id, record_id, customer_id, store_id, status, entry_time, exit_time, lane, queue_joined_at,
        service_started_at, payment_method, transaction_id, lines, items, stale, date_key, entry_hour, dwell_ms, cart_value_cents, queue_wait_ms)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      line: db.prepare(`INSERT INTO fact_sales (run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id,
        lane, payment_method, quantity, unit_price_cents, discount_rate, discount_cents, total_cents)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
      // The batch path's writes: a fact's derived columns onto the row it belongs to.
      updateLine: db.prepare(`UPDATE fact_sales SET date_key = ?, sale_hour = ?, customer_id = ?, store_id = ?, lane = ?, payment_method = ?
        WHERE run_id = ? AND sold_at = ? AND transaction_id = ? AND line_no = ?`),
      updateVisit: db.prepare(`UPDATE visits SET date_key = ?, entry_hour = ?, dwell_ms = ?, cart_value_cents = ?, queue_wait_ms = ?
        WHERE run_id = ? AND visit_id = ?`),
      total: db.prepare(`INSERT INTO report_totals (run_id, dimension, member, n, units, value) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id, dimension, member) DO UPDATE SET n = n + excluded.n, units = units + excluded.units, value = value + excluded.value`),
      dimDate: db.prepare(`INSERT INTO dim_date (date_key, date, iso_week, iso_weekday, weekday_name, day_of_month, month, quarter, year, is_weekend)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`),
    };
  }

  // dim_product's list prices (abandoned carts are valued at them) and the dim_date days already
  // written, cached: both change only through this object (seed, reset) or by another process seeding
  // the same fixtures, which a miss reloads.
  let prices: Map<string, number> | null = null;
  let pricesReloaded = false;
  const knownDays = new Set<number>();

  // A run's counts (what the drain polls every 100 ms, and the summary reads), kept up to date from
  // this connection's own writes once counted: a full count scans every staging row of the run,
  // tens of milliseconds on the SQLite thread that the sink is waiting for. `PRAGMA data_version`
  // changes when any other connection (another process) commits: then everything is counted again.
  /** A run's counts, or what a committed batch added to them (applied to countsCache after the commit). */
  interface Tally { staging: number; byCode: Map<string, number>; tx: number; revenue: number; byStatus: Map<string, number> }
  const countsCache = new Map<string, Tally>();
  let countsVersion: unknown = null;
  const bump = (m: Map<string, number>, k: string, n: number): void => { m.set(k, (m.get(k) ?? 0) + n); };
  function fullCounts(runId: string): Tally {
    const staging = num(db.prepare('SELECT count(*) FROM staging_events WHERE run_id = ?').pluck().get(runId));
    const byCode = db.prepare('SELECT code, count(*) AS n FROM rejected_events WHERE run_id = ? GROUP BY code').all(runId) as Rec[];
    const tx = db.prepare('SELECT count(*) AS n, coalesce(sum(total_cents), 0) AS revenue FROM transactions WHERE run_id = ?').get(runId) as Rec;
    const byStatus = db.prepare('SELECT status, count(*) AS n FROM visits WHERE run_id = ? GROUP BY status').all(runId) as Rec[];
    return {
      staging,
      byCode: new Map(byCode.map((r) => [String(r.code), num(r.n)])),
      tx: num(tx.n),
      revenue: num(tx.revenue),
      byStatus: new Map(byStatus.map((r) => [String(r.status), num(r.n)])),
    };
  }
  function applyCountsDelta(deltas: Map<string, Tally>): void {
    for (const [runId, d] of deltas) {
      const c = countsCache.get(runId);
      if (!c) continue; // not counted yet: the first counts() counts it all
      c.staging += d.staging;
      for (const [k, n] of d.byCode) bump(c.byCode, k, n);
      c.tx += d.tx;
      c.revenue += d.revenue;
      for (const [k, n] of d.byStatus) bump(c.byStatus, k, n);
    }
  }
  const sortedRecs = (m: Map<string, number>, key: string): Rec[] =>
    [...m.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => ({ [key]: k, n }));
  function loadPrices(): Map<string, number> {
    const rows = db.prepare('SELECT item_id, list_price_cents FROM dim_product').all() as Rec[];
    return new Map(rows.map((r) => [String(r.item_id), num(r.list_price_cents)]));
  }
  function listPrice(itemId: string): number | undefined {
    prices ??= loadPrices();
    const p = prices.get(itemId);
    if (p === undefined && !pricesReloaded) {
      pricesReloaded = true;
      prices = loadPrices();
      return prices.get(itemId);
    }
    return p;
  }

  // The warehouse's share of a write (docs/warehouse.md): the dim_date days a batch touches, and
  // report_totals, summed from the lines and visits whose rows were new (each single-row insert's
  // `changes` says so), so a redelivered batch adds nothing. The lines and visits themselves are
  // the operational rows (migration 4).
  function addDays(keys: Iterable<number>): void {
    const s = writes();
    for (const k of keys) {
      if (knownDays.has(k)) continue;
      const d = dimDateRow(k);
      s.dimDate.run(d.date_key, d.date, d.iso_week, d.iso_weekday, d.weekday_name, d.day_of_month, d.month, d.quarter, d.year, d.is_weekend ? 1 : 0);
    }
  }
  function addTotals(rows: readonly ReportTotalRow[]): void {
    const s = writes();
    for (const t of rows) s.total.run(t.run_id, t.dimension, t.member, t.n, t.units, t.value);
  }
  /** The batch path: facts' derived columns onto their existing rows, and their days. */
  function updateFacts(facts: Facts): void {
    const s = writes();
    addDays(facts.dateKeys);
    for (const f of facts.sales) {
      s.updateLine.run(f.date_key, f.sale_hour, f.customer_id, f.store_id, f.lane, f.payment_method, f.run_id, f.sold_at, f.transaction_id, f.line_no);
    }
    for (const f of facts.visits) s.updateVisit.run(f.date_key, f.entry_hour, f.dwell_ms, f.cart_value_cents, f.queue_wait_ms, f.run_id, f.visit_id);
  }
  function writes() {
    stmts ??= prepareWrites();
    return stmts;
  }

  const writeTx = db.transaction((batch: SinkBatch, deltas: Map<string, Tally>) => {
    const s = writes();
    const accepted = new Map<string, number>();
    const delta = (runId: string): Tally => {
      let d = deltas.get(runId);
      if (!d) deltas.set(runId, (d = { staging: 0, byCode: new Map(), tx: 0, revenue: 0, byStatus: new Map() }));
      return d;
    };
    for (const r of batch.staging) {
      const { changes } = s.staging.run(r.run_id, r.event_id, r.seq, r.topic, r.event_type, r.customer_id, r.visit_id, isoUtc(r.event_time), r.payload);
      if (changes > 0) accepted.set(r.run_id, (accepted.get(r.run_id) ?? 0) + changes);
    }
    for (const [runId, n] of accepted) delta(runId).staging += n;
    for (const r of batch.rejected) {
      const { changes } = s.rejected.run(r.run_id, r.seq, r.code, r.reason, r.source_topic, r.source_partition, r.source_offset, r.key, r.value, r.headers,
        isoUtc(r.rejected_at));
      if (changes > 0 && r.run_id !== null) bump(delta(r.run_id).byCode, r.code, changes);
    }
    // A sale line is stored once, in fact_sales, with its transaction's columns, whether or not the
    // warehouse is loaded (transaction_items is a view of it).
    const newLines: FactSalesRow[] = [];
    for (const t of batch.transactions) {
      const { changes } = s.transaction.run(t.run_id, t.transaction_id, t.visit_id, t.customer_id, t.store_id, t.lane, t.payment_method,
        isoUtc(t.transaction_time), t.subtotal_cents, t.discount_cents, t.total_cents);
      if (changes > 0) {
        const d = delta(t.run_id);
        d.tx += changes;
        d.revenue += t.total_cents * changes;
      }
      for (const f of factSalesRows(t)) {
        const added = s.line.run(f.run_id, f.transaction_id, f.line_no, f.date_key, f.sold_at, f.sale_hour, f.item_id, f.customer_id, f.store_id,
          f.lane, f.payment_method, f.quantity, f.unit_price_cents, f.discount_rate, f.discount_cents, f.total_cents).changes;
        if (added > 0 && warehouse) newLines.push(f);
      }
    }
    // A visit's fact columns go on its row when the warehouse is loaded, else stay NULL until a rebuild.
    if (warehouse) pricesReloaded = false;
    const newVisits: FactVisitRow[] = [];
    for (const v of batch.visits) {
      const f = warehouse ? factVisitRow(v, listPrice) : null;
      const { changes } = s.visit.run(v.run_id, v.visit_id, v.record_id, v.customer_id, v.store_id, v.status, isoUtc(v.entry_time),
        isoUtcOrNull(v.exit_time), v.lane, isoUtcOrNull(v.queue_joined_at), isoUtcOrNull(v.service_started_at), v.payment_method, v.transaction_id,
        v.lines, v.items, v.stale ? 1 : 0, f?.date_key ?? null, f?.entry_hour ?? null, f?.dwell_ms ?? null, f?.cart_value_cents ?? null,
        f?.queue_wait_ms ?? null);
      if (changes > 0) {
        bump(delta(v.run_id).byStatus, v.status, changes);
        if (f) newVisits.push(f);
      }
    }
    if (!warehouse) return null;
    const days = new Set<number>();
    for (const f of newLines) days.add(f.date_key);
    for (const f of newVisits) days.add(f.date_key);
    addDays(days);
    addTotals(totalsOf(newLines, newVisits, accepted));
    return days;
  });

  function insertRun(run: RunRow): void {
    db.prepare(`INSERT INTO runs (run_id, seed, started_at, bus, db, topic_prefix, config, command_log, stopped_at_seq, stopped_at_ms, status,
      heartbeat_at, produced, summary, verify_ok) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      run.run_id, run.seed, isoUtc(run.started_at), run.bus, run.db, run.topic_prefix, run.config, JSON.stringify(run.command_log),
      run.stopped_at_seq, run.stopped_at_ms, run.status, isoUtc(run.heartbeat_at), run.produced, run.summary,
      run.verify_ok === null ? null : run.verify_ok ? 1 : 0,
    );
  }

  function findLive(topicPrefix: string, sinceIso: string): RunRow | null {
    const r = db.prepare(`${RUN_SELECT} WHERE topic_prefix = ? AND status = 'live' AND heartbeat_at > ? ORDER BY heartbeat_at DESC LIMIT 1`)
      .get(topicPrefix, isoUtc(sinceIso)) as Rec | undefined;
    return r ? runFromRecord(r) : null;
  }

  const claimTx = db.transaction((run: RunRow, sinceIso: string): RunRow | null => {
    const holder = findLive(run.topic_prefix, sinceIso);
    if (holder) return holder;
    insertRun(run);
    return null;
  });

  const resetTx = db.transaction(() => {
    // Views first; a database from before migration 4 has transaction_items and fact_visits as tables.
    const kinds = new Map((db.prepare(`SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')`).all() as Rec[])
      .map((r) => [String(r.name), String(r.type)]));
    for (const v of STORESIM_VIEWS) if (kinds.get(v) === 'view') db.exec(`DROP VIEW ${v}`);
    for (const t of [...STORESIM_VIEWS, ...STORESIM_TABLES]) if (kinds.get(t) === 'table') db.exec(`DROP TABLE ${t}`);
  });

  return {
    dialect: 'sqlite',
    description,
    warehouse,

    migrate: () => guard(() => migrateTx.immediate()),

    writeBatch: (batch) => guard(() => {
      if (batch.staging.length + batch.rejected.length + batch.transactions.length + batch.visits.length === 0) return;
      const deltas = new Map<string, Tally>();
      const days = writeTx.immediate(batch, deltas);
      // Only after the commit: a rolled-back batch must not leave its days marked as written, nor count.
      if (days) for (const k of days) knownDays.add(k);
      applyCountsDelta(deltas);
    }),

    seedDimensions: (fixtures) => guard(() => {
      const dims = dimensionRows(fixtures);
      const product = db.prepare(`INSERT INTO dim_product (item_id, name, category, list_price_cents) VALUES (?, ?, ?, ?)
        ON CONFLICT (item_id) DO UPDATE SET name = excluded.name, category = excluded.category, list_price_cents = excluded.list_price_cents`);
      const customer = db.prepare(`INSERT INTO dim_customer (customer_id, segment, loyalty) VALUES (?, ?, ?)
        ON CONFLICT (customer_id) DO UPDATE SET segment = excluded.segment, loyalty = excluded.loyalty`);
      const store = db.prepare(`INSERT INTO dim_store (store_id, layout, title, lanes) VALUES (?, ?, ?, ?)
        ON CONFLICT (store_id) DO UPDATE SET layout = excluded.layout, title = excluded.title, lanes = excluded.lanes`);
      db.transaction(() => {
        for (const p of dims.products) product.run(p.item_id, p.name, p.category, p.list_price_cents);
        for (const c of dims.customers) customer.run(c.customer_id, c.segment, c.loyalty ? 1 : 0);
        for (const st of dims.stores) store.run(st.store_id, st.layout, st.title, st.lanes);
      }).immediate();
      prices = null;
    }),

    rebuildWarehouse: async (runId) => {
      const runs = runId !== undefined ? [runId]
        : (await guard(() => db.prepare(RUNS_WITH_ROWS_SQL).pluck().all() as string[])).sort();
      const out: WarehouseCounts = { sales: 0, visits: 0, runs: 0 };
      prices = null;
      for (const id of runs) {
        // better-sqlite3 transactions cannot span an await: BEGIN/COMMIT by hand around the async rebuild.
        // Nothing else uses this connection meanwhile (the command owns it); another process waits on the lock.
        await guard(() => db.exec('BEGIN IMMEDIATE'));
        const written: number[] = [];
        try {
          const n = await rebuildRun({
            all: (sql, params) => guard(() => db.prepare(sql).all(...params) as Rec[]),
            run: (sql, params) => guard(() => { db.prepare(sql).run(...params); }),
            updateFacts: (facts) => guard(() => { updateFacts(facts); written.push(...facts.dateKeys); }),
            addTotals: (rows) => guard(() => addTotals(rows)),
            listPrice,
            page: 20_000,
          }, id);
          await guard(() => db.exec('COMMIT'));
          for (const k of written) knownDays.add(k);
          out.sales += n.sales;
          out.visits += n.visits;
          out.runs++;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }
      return out;
    },

    deleteRun: (runId) => guard(() => db.transaction(() => {
      countsCache.clear();
      const out = {} as Record<RunTable, number>;
      for (const t of RUN_TABLES) out[t] = db.prepare(`DELETE FROM ${t} WHERE run_id = ?`).run(runId).changes;
      return out;
    }).immediate()),

    select: (sql, params = []) => guard(() => {
      const stmt = db.prepare(sql);
      if (!stmt.readonly) countsCache.clear(); // a write behind the counts' back: count again
      return stmt.all(...params) as Rec[];
    }),

    createRun: (run) => guard(() => insertRun(run)),

    claimRun: (run, sinceIso) => guard(() => claimTx.immediate(run, sinceIso)),

    updateRun: (runId, patch) => guard(() => {
      const cols = runPatchColumns(patch, {
        time: isoUtc,
        json: (v) => JSON.stringify(v),
        bool: (b) => (b === null ? null : b ? 1 : 0),
      });
      if (cols.length === 0) return;
      const sql = `UPDATE runs SET ${cols.map(([c]) => `${c} = ?`).join(', ')} WHERE run_id = ?`;
      const res = db.prepare(sql).run(...cols.map(([, v]) => v), runId);
      if (res.changes === 0) throw new Error(`updateRun: no run ${runId}`);
    }),

    appendCommand: (runId, entry: CommandLogEntry) => guard(() => {
      const res = db.prepare(`UPDATE runs SET command_log = json_insert(command_log, '$[#]', json(?)) WHERE run_id = ?`)
        .run(JSON.stringify(entry), runId);
      if (res.changes === 0) throw new Error(`appendCommand: no run ${runId}`);
    }),

    getRun: (runId) => guard(() => {
      const r = db.prepare(`${RUN_SELECT} WHERE run_id = ?`).get(runId) as Rec | undefined;
      return r ? runFromRecord(r) : null;
    }),

    listRuns: () => guard(() => (db.prepare(`${RUN_SELECT} ORDER BY started_at DESC, run_id DESC`).all() as Rec[]).map(runFromRecord)),

    liveRun: (topicPrefix, sinceIso) => guard(() => findLive(topicPrefix, sinceIso)),

    counts: (runId) => guard((): RunCounts => {
      const version = db.pragma('data_version', { simple: true });
      if (version !== countsVersion) {
        countsCache.clear();
        countsVersion = version;
      }
      let c = countsCache.get(runId);
      if (!c) countsCache.set(runId, (c = fullCounts(runId)));
      return assembleCounts(c.staging, sortedRecs(c.byCode, 'code'), { n: c.tx, revenue: c.revenue }, sortedRecs(c.byStatus, 'status'));
    }),

    contents: (runId) => guard((): RunContents => {
      const staging = (db.prepare('SELECT seq, event_id FROM staging_events WHERE run_id = ? ORDER BY seq').all(runId) as Rec[])
        .map((r) => ({ seq: num(r.seq), event_id: String(r.event_id) }));
      const rejected = (db.prepare('SELECT seq, code FROM rejected_events WHERE run_id = ? ORDER BY seq').all(runId) as Rec[])
        .map((r) => ({ seq: num(r.seq), code: String(r.code) }));
      const txRecs = db.prepare(`SELECT transaction_id, visit_id, total_cents, subtotal_cents, discount_cents FROM transactions
        WHERE run_id = ? ORDER BY transaction_id`).all(runId) as Rec[];
      const itemRecs = db.prepare(`SELECT transaction_id, line_no, item_id, quantity, unit_price_cents, discount_rate, discount_cents, total_cents
        FROM transaction_items WHERE run_id = ? ORDER BY transaction_id, line_no`).all(runId) as Rec[];
      const visits = (db.prepare('SELECT visit_id, status, lines, transaction_id FROM visits WHERE run_id = ? ORDER BY visit_id').all(runId) as Rec[])
        .map((r) => ({
          visit_id: String(r.visit_id),
          status: r.status as VisitStatus,
          lines: String(r.lines),
          transaction_id: r.transaction_id === null ? null : String(r.transaction_id),
        }));
      return { staging, rejected, transactions: assembleTransactions(txRecs, itemRecs), visits };
    }),

    reset: async () => {
      await guard(() => resetTx.immediate());
      stmts = null;
      prices = null;
      knownDays.clear();
      countsCache.clear();
      await guard(() => migrateTx.immediate());
    },

    close: () => guard(() => {
      if (db.open) db.close();
    }),
  };
}

