/**
 * The database as the sink, verify and the commands see it: one interface, two dialects
 * (SQLite via better-sqlite3, PostgreSQL via pg). Money in integer cents; times as ISO-8601 UTC strings
 * at this boundary (DESIGN.md, Database; Identity and counting).
 */
import type { Fixtures, VisitStatus } from '../engine/types.js';

export interface StagingRow {
  run_id: string;
  event_id: string;
  seq: number;
  topic: string;
  event_type: string;
  customer_id: string;
  visit_id: string;
  event_time: string;
  /** The clean event's JSON text, as published. */
  payload: string;
}

export interface RejectedRow {
  /** Null for `foreign` messages (no storesim headers): those are keyed by source topic/partition/offset. */
  run_id: string | null;
  seq: number | null;
  code: string;
  reason: string;
  source_topic: string;
  source_partition: number;
  source_offset: number;
  key: string | null;
  /** The original bytes, untouched. */
  value: Buffer;
  /** Every header of the dead letter, as JSON text. */
  headers: string;
  /** Wall clock, ISO-8601. */
  rejected_at: string;
}

export interface TransactionItemRow {
  line_no: number;
  item_id: string;
  quantity: number;
  unit_price_cents: number;
  discount_rate: number;
  discount_cents: number;
  total_cents: number;
}

export interface TransactionRow {
  run_id: string;
  transaction_id: string;
  visit_id: string;
  customer_id: string;
  store_id: string;
  lane: number | null;
  payment_method: string | null;
  transaction_time: string;
  subtotal_cents: number;
  discount_cents: number;
  total_cents: number;
  items: TransactionItemRow[];
}

export interface VisitRow {
  run_id: string;
  visit_id: string;
  /** UUIDv5(run namespace, visit_id + ":visit"). */
  record_id: string;
  customer_id: string;
  store_id: string;
  status: VisitStatus;
  entry_time: string;
  exit_time: string | null;
  lane: number | null;
  queue_joined_at: string | null;
  service_started_at: string | null;
  payment_method: string | null;
  transaction_id: string | null;
  /** JSON text: [{item_id, quantity}]. */
  lines: string;
  items: number;
  stale: boolean;
}

/** One sink batch: written in one database transaction, idempotently (ON CONFLICT DO NOTHING). */
export interface SinkBatch {
  staging: StagingRow[];
  rejected: RejectedRow[];
  transactions: TransactionRow[];
  visits: VisitRow[];
}

export type RunStatus = 'live' | 'completed' | 'stopped' | 'failed';

export interface CommandLogEntry {
  /** Engine step index at which it took effect. */
  step: number;
  /** Simulated time, epoch ms. */
  sim_ms: number;
  /** The command or scenario step, e.g. {type:'set_rate', perMin: 40}. */
  command: Record<string, unknown>;
}

export interface RunRow {
  run_id: string;
  seed: number;
  started_at: string;
  bus: 'memory' | 'kafka';
  db: 'sqlite' | 'postgres';
  topic_prefix: string;
  /** Configuration without secrets, JSON text. */
  config: string;
  command_log: CommandLogEntry[];
  /** Where the engine stopped: produced count and simulated time, when known. */
  stopped_at_seq: number | null;
  stopped_at_ms: number | null;
  status: RunStatus;
  heartbeat_at: string;
  produced: number | null;
  /** The headless summary, JSON text, when the run ended. */
  summary: string | null;
  verify_ok: boolean | null;
}

export interface RunCounts {
  staging: number;
  rejected: number;
  rejectedByCode: Record<string, number>;
  transactions: number;
  revenueCents: number;
  visits: number;
  visitsByStatus: Record<string, number>;
}

/** What verify reads back for one run (it compares these with the engine's ledger). */
export interface RunContents {
  staging: { seq: number; event_id: string }[];
  rejected: { seq: number; code: string }[];
  transactions: { transaction_id: string; visit_id: string; total_cents: number; subtotal_cents: number; discount_cents: number; items: TransactionItemRow[] }[];
  visits: { visit_id: string; status: VisitStatus; lines: string; transaction_id: string | null }[];
}

/** Fact rows a warehouse rebuild wrote. */
export interface WarehouseCounts {
  /** fact_sales lines. */
  sales: number;
  /** fact_visits rows. */
  visits: number;
  /** Runs rebuilt. */
  runs: number;
}

/**
 * Tables holding a run's rows, in the order `deleteRun` empties them. `transaction_items` and
 * `fact_visits` are views of `fact_sales` and `visits` (migration 4), emptied with them.
 */
export const RUN_TABLES = [
  'report_totals', 'fact_sales', 'transactions', 'visits', 'staging_events', 'rejected_events', 'runs',
] as const;
export type RunTable = (typeof RUN_TABLES)[number];

export interface Database {
  readonly dialect: 'sqlite' | 'postgres';
  /** Whether writeBatch also loads the star schema's facts (openDatabase's `warehouse` option). */
  readonly warehouse: boolean;
  /** For the header: `sqlite ./storesim.db` or `postgres postgres://user:***@host/db`. */
  readonly description: string;
  /** Applies pending versioned migrations (idempotent). */
  migrate(): Promise<void>;
  /** Writes the batch in one transaction; idempotent on natural keys. */
  writeBatch(batch: SinkBatch): Promise<void>;

  createRun(run: RunRow): Promise<void>;
  updateRun(runId: string, patch: Partial<Omit<RunRow, 'run_id'>>): Promise<void>;
  appendCommand(runId: string, entry: CommandLogEntry): Promise<void>;
  getRun(runId: string): Promise<RunRow | null>;
  listRuns(): Promise<RunRow[]>;
  /** A run on this prefix whose lease (heartbeat) is newer than `since` and status live. */
  liveRun(topicPrefix: string, sinceIso: string): Promise<RunRow | null>;
  /**
   * Creates `run` unless another run on its prefix is live (lease newer than `sinceIso`), atomically:
   * two `storesim run` starting together cannot both win. Returns null when created, else the holder.
   */
  claimRun(run: RunRow, sinceIso: string): Promise<RunRow | null>;

  counts(runId: string): Promise<RunCounts>;
  contents(runId: string): Promise<RunContents>;
  /**
   * Upserts dim_product, dim_customer and dim_store from the fixtures (idempotent: a changed fixture
   * updates its row). Abandoned carts are valued at dim_product's list prices.
   */
  seedDimensions(fixtures: Fixtures): Promise<void>;
  /**
   * The batch path: recomputes the facts from the operational columns alone (each fact_sales line's
   * transaction columns from `transactions`; each visit's fact columns from `visits` and
   * dim_product), the dim_date days they touch and report_totals, for one run or, without `runId`,
   * for every run. One transaction per run.
   */
  rebuildWarehouse(runId?: string): Promise<WarehouseCounts>;
  /** Deletes every row of the run from every table, in one transaction. Returns rows deleted per table. */
  deleteRun(runId: string): Promise<Record<RunTable, number>>;
  /**
   * Read-only SQL for reports and export, with `?` placeholders (PostgreSQL gets $1, $2, …). Values
   * come back as each driver gives them: read them with decode.ts's num()/readIso().
   */
  select(sql: string, params?: readonly unknown[]): Promise<Record<string, unknown>[]>;
  /** Drops every storesim table and migrates again (`storesim db reset`). */
  reset(): Promise<void>;
  close(): Promise<void>;
}
