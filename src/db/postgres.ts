/**
 * The PostgreSQL dialect (pg). A batch is one transaction of UNNEST inserts, one statement per
 * table, ON CONFLICT DO NOTHING (DESIGN.md measured this at about 71k staging rows/s).
 */
import type pg from 'pg';
import { assembleCounts, assembleTransactions, num, runFromRecord } from './decode.js';
import { DatabaseError, classifyPgRuntimeError } from './errors.js';
import { isoUtc, isoUtcOrNull } from './iso.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_POSTGRES, STORESIM_TABLES, pendingMigrations } from './migrations.js';
import { runPatchColumns } from './run-columns.js';
import type { Database, RunContents, RunCounts, RunRow, SinkBatch } from './types.js';
import type { VisitStatus } from '../engine/types.js';

type Rec = Record<string, unknown>;

const RUN_SELECT = `SELECT run_id, seed, started_at, bus, db, topic_prefix, config::text AS config, command_log::text AS command_log,
  stopped_at_seq, stopped_at_ms, status, heartbeat_at, produced, summary::text AS summary, verify_ok FROM runs`;

const INSERT_STAGING = `INSERT INTO staging_events (run_id, event_id, seq, topic, event_type, customer_id, visit_id, event_time, payload)
  SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[], $9::jsonb[])
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

const INSERT_ITEMS = `INSERT INTO transaction_items (run_id, transaction_id, line_no, item_id, quantity, unit_price_cents, discount_rate,
    discount_cents, total_cents)
  SELECT * FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::integer[], $6::bigint[], $7::double precision[],
    $8::bigint[], $9::bigint[])
  ON CONFLICT DO NOTHING`;

const INSERT_VISITS = `INSERT INTO visits (run_id, visit_id, record_id, customer_id, store_id, status, entry_time, exit_time, lane, queue_joined_at,
    service_started_at, payment_method, transaction_id, lines, items, stale)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[],
    $9::integer[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::json[], $15::integer[], $16::boolean[])
  ON CONFLICT DO NOTHING`;

/** Column arrays for UNNEST: one array per column, rows in order. */
function columns<T>(rows: readonly T[], pick: ((r: T) => unknown)[]): unknown[][] {
  return pick.map((f) => rows.map(f));
}

export interface PostgresDatabaseOptions {
  pool: pg.Pool;
  /** Masked, for messages and the header. */
  where: string;
  description: string;
}

export function createPostgresDatabase({ pool, where, description }: PostgresDatabaseOptions): Database {
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

  return {
    dialect: 'postgres',
    description,

    migrate: () => tx(migrateOn),

    async writeBatch(batch: SinkBatch): Promise<void> {
      const { staging, rejected, transactions, visits } = batch;
      if (staging.length + rejected.length + transactions.length + visits.length === 0) return;
      await tx(async (c) => {
        if (staging.length > 0) {
          await c.query(INSERT_STAGING, columns(staging, [
            (r) => r.run_id, (r) => r.event_id, (r) => r.seq, (r) => r.topic, (r) => r.event_type, (r) => r.customer_id, (r) => r.visit_id,
            (r) => isoUtc(r.event_time), (r) => r.payload,
          ]));
        }
        if (rejected.length > 0) {
          await c.query(INSERT_REJECTED, columns(rejected, [
            (r) => r.run_id, (r) => r.seq, (r) => r.code, (r) => r.reason, (r) => r.source_topic, (r) => r.source_partition, (r) => r.source_offset,
            (r) => r.key, (r) => r.value, (r) => r.headers, (r) => isoUtc(r.rejected_at),
          ]));
        }
        if (transactions.length > 0) {
          await c.query(INSERT_TRANSACTIONS, columns(transactions, [
            (t) => t.run_id, (t) => t.transaction_id, (t) => t.visit_id, (t) => t.customer_id, (t) => t.store_id, (t) => t.lane,
            (t) => t.payment_method, (t) => isoUtc(t.transaction_time), (t) => t.subtotal_cents, (t) => t.discount_cents, (t) => t.total_cents,
          ]));
          const items = transactions.flatMap((t) => t.items.map((i) => ({ t, i })));
          if (items.length > 0) {
            await c.query(INSERT_ITEMS, columns(items, [
              ({ t }) => t.run_id, ({ t }) => t.transaction_id, ({ i }) => i.line_no, ({ i }) => i.item_id, ({ i }) => i.quantity,
              ({ i }) => i.unit_price_cents, ({ i }) => i.discount_rate, ({ i }) => i.discount_cents, ({ i }) => i.total_cents,
            ]));
          }
        }
        if (visits.length > 0) {
          await c.query(INSERT_VISITS, columns(visits, [
            (v) => v.run_id, (v) => v.visit_id, (v) => v.record_id, (v) => v.customer_id, (v) => v.store_id, (v) => v.status,
            (v) => isoUtc(v.entry_time), (v) => isoUtcOrNull(v.exit_time), (v) => v.lane, (v) => isoUtcOrNull(v.queue_joined_at),
            (v) => isoUtcOrNull(v.service_started_at), (v) => v.payment_method, (v) => v.transaction_id, (v) => v.lines, (v) => v.items,
            (v) => v.stale,
          ]));
        }
      });
    },

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
        await c.query(`DROP TABLE IF EXISTS ${STORESIM_TABLES.join(', ')} CASCADE`);
        await migrateOn(c);
      });
    },

    async close() {
      await pool.end();
    },
  };
}
