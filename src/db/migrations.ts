/**
 * Versioned migrations: one schema in two dialects (DESIGN.md, Database). Append new versions at
 * the end; never edit one that has shipped. Each dialect's runner applies the pending ones in one
 * transaction and records them in `schema_migrations`.
 *
 * Conventions: money in integer cents (INTEGER / bigint); times as ISO-8601 UTC text in SQLite and
 * timestamptz in PostgreSQL; JSON as TEXT in SQLite, jsonb in PostgreSQL where it is queried and
 * `json` where the exact text must come back (config, summary, visit lines).
 */

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** Every table the migrations leave, so `reset` can drop them all (a test keeps this list honest). */
export const STORESIM_TABLES = [
  'report_totals',
  'fact_sales',
  'dim_date',
  'dim_product',
  'dim_customer',
  'dim_store',
  'transactions',
  'visits',
  'rejected_events',
  'staging_events',
  'runs',
  'schema_migrations',
] as const;

/**
 * Every view the migrations leave (migration 4): `transaction_items` over `fact_sales`, `fact_visits`
 * over `visits`. Tables in migrations 1–3, so `reset` looks each name up before dropping it.
 */
export const STORESIM_VIEWS = ['transaction_items', 'fact_visits'] as const;

const v1Sqlite = `
CREATE TABLE runs (
  run_id          TEXT PRIMARY KEY,
  seed            INTEGER NOT NULL,
  started_at      TEXT NOT NULL,
  bus             TEXT NOT NULL CHECK (bus IN ('memory', 'kafka')),
  db              TEXT NOT NULL CHECK (db IN ('sqlite', 'postgres')),
  topic_prefix    TEXT NOT NULL,
  config          TEXT NOT NULL,
  command_log     TEXT NOT NULL DEFAULT '[]',
  stopped_at_seq  INTEGER,
  stopped_at_ms   INTEGER,
  status          TEXT NOT NULL CHECK (status IN ('live', 'completed', 'stopped', 'failed')),
  heartbeat_at    TEXT NOT NULL,
  produced        INTEGER,
  summary         TEXT,
  verify_ok       INTEGER
);
CREATE INDEX runs_live ON runs (topic_prefix, status, heartbeat_at);

-- Time-ordered UUIDv7 keys + WITHOUT ROWID: the fastest layout measured (DESIGN.md, Events).
CREATE TABLE staging_events (
  run_id       TEXT NOT NULL,
  event_id     TEXT NOT NULL,
  seq          INTEGER NOT NULL,
  topic        TEXT NOT NULL,
  event_type   TEXT NOT NULL,
  customer_id  TEXT NOT NULL,
  visit_id     TEXT NOT NULL,
  event_time   TEXT NOT NULL,
  payload      TEXT NOT NULL,
  PRIMARY KEY (run_id, event_id)
) WITHOUT ROWID;

CREATE TABLE rejected_events (
  id                INTEGER PRIMARY KEY,
  run_id            TEXT,
  seq               INTEGER,
  code              TEXT NOT NULL,
  reason            TEXT NOT NULL,
  source_topic      TEXT NOT NULL,
  source_partition  INTEGER NOT NULL,
  source_offset     INTEGER NOT NULL,
  key               TEXT,
  value             BLOB NOT NULL,
  headers           TEXT NOT NULL,
  rejected_at       TEXT NOT NULL,
  CHECK ((run_id IS NULL) = (seq IS NULL))
);
CREATE UNIQUE INDEX rejected_events_run_seq ON rejected_events (run_id, seq);
CREATE UNIQUE INDEX rejected_events_foreign_source ON rejected_events (source_topic, source_partition, source_offset) WHERE run_id IS NULL;

CREATE TABLE transactions (
  run_id            TEXT NOT NULL,
  transaction_id    TEXT NOT NULL,
  visit_id          TEXT NOT NULL,
  customer_id       TEXT NOT NULL,
  store_id          TEXT NOT NULL,
  lane              INTEGER,
  payment_method    TEXT,
  transaction_time  TEXT NOT NULL,
  subtotal_cents    INTEGER NOT NULL,
  discount_cents    INTEGER NOT NULL,
  total_cents       INTEGER NOT NULL,
  PRIMARY KEY (run_id, transaction_id)
);

CREATE TABLE transaction_items (
  run_id            TEXT NOT NULL,
  transaction_id    TEXT NOT NULL,
  line_no           INTEGER NOT NULL,
  item_id           TEXT NOT NULL,
  quantity          INTEGER NOT NULL,
  unit_price_cents  INTEGER NOT NULL,
  discount_rate     REAL NOT NULL,
  discount_cents    INTEGER NOT NULL,
  total_cents       INTEGER NOT NULL,
  PRIMARY KEY (run_id, transaction_id, line_no),
  FOREIGN KEY (run_id, transaction_id) REFERENCES transactions (run_id, transaction_id) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE visits (
  run_id              TEXT NOT NULL,
  visit_id            TEXT NOT NULL,
  record_id           TEXT NOT NULL,
  customer_id         TEXT NOT NULL,
  store_id            TEXT NOT NULL,
  status              TEXT NOT NULL CHECK (status IN ('purchased', 'abandoned', 'left_empty', 'open_at_end')),
  entry_time          TEXT NOT NULL,
  exit_time           TEXT,
  lane                INTEGER,
  queue_joined_at     TEXT,
  service_started_at  TEXT,
  payment_method      TEXT,
  transaction_id      TEXT,
  lines               TEXT NOT NULL,
  items               INTEGER NOT NULL,
  stale               INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, visit_id)
);
`;

const v1Postgres = `
CREATE TABLE runs (
  run_id          text PRIMARY KEY,
  seed            bigint NOT NULL,
  started_at      timestamptz NOT NULL,
  bus             text NOT NULL CHECK (bus IN ('memory', 'kafka')),
  db              text NOT NULL CHECK (db IN ('sqlite', 'postgres')),
  topic_prefix    text NOT NULL,
  config          json NOT NULL,
  command_log     jsonb NOT NULL DEFAULT '[]'::jsonb,
  stopped_at_seq  bigint,
  stopped_at_ms   bigint,
  status          text NOT NULL CHECK (status IN ('live', 'completed', 'stopped', 'failed')),
  heartbeat_at    timestamptz NOT NULL,
  produced        bigint,
  summary         json,
  verify_ok       boolean
);
CREATE INDEX runs_live ON runs (topic_prefix, status, heartbeat_at);

CREATE TABLE staging_events (
  run_id       text NOT NULL,
  event_id     text NOT NULL,
  seq          bigint NOT NULL,
  topic        text NOT NULL,
  event_type   text NOT NULL,
  customer_id  text NOT NULL,
  visit_id     text NOT NULL,
  event_time   timestamptz NOT NULL,
  payload      jsonb NOT NULL,
  PRIMARY KEY (run_id, event_id)
);

CREATE TABLE rejected_events (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id            text,
  seq               bigint,
  code              text NOT NULL,
  reason            text NOT NULL,
  source_topic      text NOT NULL,
  source_partition  integer NOT NULL,
  source_offset     bigint NOT NULL,
  key               text,
  value             bytea NOT NULL,
  headers           jsonb NOT NULL,
  rejected_at       timestamptz NOT NULL,
  CHECK ((run_id IS NULL) = (seq IS NULL))
);
CREATE UNIQUE INDEX rejected_events_run_seq ON rejected_events (run_id, seq);
CREATE UNIQUE INDEX rejected_events_foreign_source ON rejected_events (source_topic, source_partition, source_offset) WHERE run_id IS NULL;

CREATE TABLE transactions (
  run_id            text NOT NULL,
  transaction_id    text NOT NULL,
  visit_id          text NOT NULL,
  customer_id       text NOT NULL,
  store_id          text NOT NULL,
  lane              integer,
  payment_method    text,
  transaction_time  timestamptz NOT NULL,
  subtotal_cents    bigint NOT NULL,
  discount_cents    bigint NOT NULL,
  total_cents       bigint NOT NULL,
  PRIMARY KEY (run_id, transaction_id)
);

CREATE TABLE transaction_items (
  run_id            text NOT NULL,
  transaction_id    text NOT NULL,
  line_no           integer NOT NULL,
  item_id           text NOT NULL,
  quantity          integer NOT NULL,
  unit_price_cents  bigint NOT NULL,
  discount_rate     double precision NOT NULL,
  discount_cents    bigint NOT NULL,
  total_cents       bigint NOT NULL,
  PRIMARY KEY (run_id, transaction_id, line_no),
  FOREIGN KEY (run_id, transaction_id) REFERENCES transactions (run_id, transaction_id) ON DELETE CASCADE
);

CREATE TABLE visits (
  run_id              text NOT NULL,
  visit_id            text NOT NULL,
  record_id           text NOT NULL,
  customer_id         text NOT NULL,
  store_id            text NOT NULL,
  status              text NOT NULL CHECK (status IN ('purchased', 'abandoned', 'left_empty', 'open_at_end')),
  entry_time          timestamptz NOT NULL,
  exit_time           timestamptz,
  lane                integer,
  queue_joined_at     timestamptz,
  service_started_at  timestamptz,
  payment_method      text,
  transaction_id      text,
  lines               json NOT NULL,
  items               integer NOT NULL,
  stale               boolean NOT NULL DEFAULT false,
  PRIMARY KEY (run_id, visit_id)
);
`;


// Star schema (migration 2; docs/warehouse.md). No foreign keys from facts to dimensions: facts load
// in the sink's transaction whatever order dimensions were seeded in, and a key check per fact line
// would cost the hot path. Facts carry only their primary key (run_id first: per-run export, rebuild
// and delete). The report reads `report_totals`, per-run sums kept with the facts in the same
// transaction, keyed (run_id, dimension, member): a report is then a read of a few hundred rows
// whatever the run's size, where grouping 1,000,000 lines takes seconds in SQLite.
const v2Sqlite = `
CREATE TABLE dim_date (
  date_key      INTEGER PRIMARY KEY,
  date          TEXT NOT NULL,
  iso_week      TEXT NOT NULL,
  iso_weekday   INTEGER NOT NULL,
  weekday_name  TEXT NOT NULL,
  day_of_month  INTEGER NOT NULL,
  month         INTEGER NOT NULL,
  quarter       INTEGER NOT NULL,
  year          INTEGER NOT NULL,
  is_weekend    INTEGER NOT NULL
);

CREATE TABLE dim_product (
  item_id           TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  category          TEXT NOT NULL,
  list_price_cents  INTEGER NOT NULL
);

CREATE TABLE dim_customer (
  customer_id  TEXT PRIMARY KEY,
  segment      TEXT NOT NULL,
  loyalty      INTEGER NOT NULL
);

CREATE TABLE dim_store (
  store_id  TEXT PRIMARY KEY,
  layout    TEXT NOT NULL,
  title     TEXT NOT NULL,
  lanes     INTEGER NOT NULL
);

CREATE TABLE fact_sales (
  run_id            TEXT NOT NULL,
  transaction_id    TEXT NOT NULL,
  line_no           INTEGER NOT NULL,
  date_key          INTEGER NOT NULL,
  sold_at           TEXT NOT NULL,
  sale_hour         INTEGER NOT NULL,
  item_id           TEXT NOT NULL,
  customer_id       TEXT NOT NULL,
  store_id          TEXT NOT NULL,
  lane              INTEGER,
  payment_method    TEXT,
  quantity          INTEGER NOT NULL,
  unit_price_cents  INTEGER NOT NULL,
  discount_rate     REAL NOT NULL,
  discount_cents    INTEGER NOT NULL,
  total_cents       INTEGER NOT NULL,
  PRIMARY KEY (run_id, transaction_id, line_no)
) WITHOUT ROWID;

CREATE TABLE fact_visits (
  run_id            TEXT NOT NULL,
  visit_id          TEXT NOT NULL,
  customer_id       TEXT NOT NULL,
  store_id          TEXT NOT NULL,
  date_key          INTEGER NOT NULL,
  entry_at          TEXT NOT NULL,
  entry_hour        INTEGER NOT NULL,
  exit_at           TEXT,
  dwell_ms          INTEGER,
  items             INTEGER NOT NULL,
  cart_value_cents  INTEGER NOT NULL,
  status            TEXT NOT NULL CHECK (status IN ('purchased', 'abandoned', 'left_empty', 'open_at_end')),
  lane              INTEGER,
  payment_method    TEXT,
  queue_joined_at   TEXT,
  service_started_at TEXT,
  queue_wait_ms     INTEGER,
  transaction_id    TEXT,
  PRIMARY KEY (run_id, visit_id)
) WITHOUT ROWID;

CREATE TABLE report_totals (
  run_id     TEXT NOT NULL,
  dimension  TEXT NOT NULL,
  member     TEXT NOT NULL,
  n          INTEGER NOT NULL,
  units      INTEGER NOT NULL,
  value      INTEGER NOT NULL,
  PRIMARY KEY (run_id, dimension, member)
) WITHOUT ROWID;
`;

const v2Postgres = `
CREATE TABLE dim_date (
  date_key      integer PRIMARY KEY,
  date          date NOT NULL,
  iso_week      text NOT NULL,
  iso_weekday   smallint NOT NULL,
  weekday_name  text NOT NULL,
  day_of_month  smallint NOT NULL,
  month         smallint NOT NULL,
  quarter       smallint NOT NULL,
  year          integer NOT NULL,
  is_weekend    boolean NOT NULL
);

CREATE TABLE dim_product (
  item_id           text PRIMARY KEY,
  name              text NOT NULL,
  category          text NOT NULL,
  list_price_cents  bigint NOT NULL
);

CREATE TABLE dim_customer (
  customer_id  text PRIMARY KEY,
  segment      text NOT NULL,
  loyalty      boolean NOT NULL
);

CREATE TABLE dim_store (
  store_id  text PRIMARY KEY,
  layout    text NOT NULL,
  title     text NOT NULL,
  lanes     integer NOT NULL
);

CREATE TABLE fact_sales (
  run_id            text NOT NULL,
  transaction_id    text NOT NULL,
  line_no           integer NOT NULL,
  date_key          integer NOT NULL,
  sold_at           timestamptz NOT NULL,
  sale_hour         smallint NOT NULL,
  item_id           text NOT NULL,
  customer_id       text NOT NULL,
  store_id          text NOT NULL,
  lane              integer,
  payment_method    text,
  quantity          integer NOT NULL,
  unit_price_cents  bigint NOT NULL,
  discount_rate     double precision NOT NULL,
  discount_cents    bigint NOT NULL,
  total_cents       bigint NOT NULL,
  PRIMARY KEY (run_id, transaction_id, line_no)
);

CREATE TABLE fact_visits (
  run_id            text NOT NULL,
  visit_id          text NOT NULL,
  customer_id       text NOT NULL,
  store_id          text NOT NULL,
  date_key          integer NOT NULL,
  entry_at          timestamptz NOT NULL,
  entry_hour        smallint NOT NULL,
  exit_at           timestamptz,
  dwell_ms          bigint,
  items             integer NOT NULL,
  cart_value_cents  bigint NOT NULL,
  status            text NOT NULL CHECK (status IN ('purchased', 'abandoned', 'left_empty', 'open_at_end')),
  lane              integer,
  payment_method    text,
  queue_joined_at   timestamptz,
  service_started_at timestamptz,
  queue_wait_ms     bigint,
  transaction_id    text,
  PRIMARY KEY (run_id, visit_id)
);

CREATE TABLE report_totals (
  run_id     text NOT NULL,
  dimension  text NOT NULL,
  member     text NOT NULL,
  n          bigint NOT NULL,
  units      bigint NOT NULL,
  value      bigint NOT NULL,
  PRIMARY KEY (run_id, dimension, member)
);
`;

// Migration 3 (issue #8, docs/warehouse.md "SQLite sink cost"): fact_sales clustered by time. Its
// key was (run_id, transaction_id, line_no), and a transaction id is a UUIDv5, random within a run:
// each line went into a random leaf of a B-tree that grows with the run (~11 µs a row in SQLite,
// against ~2 µs at the right-hand edge, measured). sold_at is the transaction's time, a function of
// the transaction, so (run_id, sold_at, transaction_id, line_no) is as unique and as deterministic
// (a redelivered line still conflicts), and the sink writes transactions in about time order, so
// lines land at the edge. No secondary index on (run_id, transaction_id): nothing reads facts by
// transaction (export pages in key order, delete and rebuild go by run_id). fact_visits keeps
// (run_id, visit_id): a visit id is a UUIDv7 of the entry time, already time-ordered.
const v3Sqlite = `
CREATE TABLE fact_sales_v3 (
  run_id            TEXT NOT NULL,
  transaction_id    TEXT NOT NULL,
  line_no           INTEGER NOT NULL,
  date_key          INTEGER NOT NULL,
  sold_at           TEXT NOT NULL,
  sale_hour         INTEGER NOT NULL,
  item_id           TEXT NOT NULL,
  customer_id       TEXT NOT NULL,
  store_id          TEXT NOT NULL,
  lane              INTEGER,
  payment_method    TEXT,
  quantity          INTEGER NOT NULL,
  unit_price_cents  INTEGER NOT NULL,
  discount_rate     REAL NOT NULL,
  discount_cents    INTEGER NOT NULL,
  total_cents       INTEGER NOT NULL,
  PRIMARY KEY (run_id, sold_at, transaction_id, line_no)
) WITHOUT ROWID;
INSERT INTO fact_sales_v3 (run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id, lane, payment_method,
  quantity, unit_price_cents, discount_rate, discount_cents, total_cents)
SELECT run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id, lane, payment_method,
  quantity, unit_price_cents, discount_rate, discount_cents, total_cents FROM fact_sales;
DROP TABLE fact_sales;
ALTER TABLE fact_sales_v3 RENAME TO fact_sales;
`;

// PostgreSQL: a heap table, so only the key's index changes (its inserts then also stay at the edge).
const v3Postgres = `
ALTER TABLE fact_sales DROP CONSTRAINT fact_sales_pkey;
ALTER TABLE fact_sales ADD CONSTRAINT fact_sales_pkey PRIMARY KEY (run_id, sold_at, transaction_id, line_no);
`;


// The two views, the same text in both dialects; their columns are the tables' they replace, in order.
const V4_VIEWS = `
CREATE VIEW transaction_items AS
SELECT run_id, transaction_id, line_no, item_id, quantity, unit_price_cents, discount_rate, discount_cents, total_cents FROM fact_sales;
CREATE VIEW fact_visits AS
SELECT run_id, visit_id, customer_id, store_id, date_key, entry_time AS entry_at, entry_hour, exit_time AS exit_at, dwell_ms, items,
  cart_value_cents, status, lane, payment_method, queue_joined_at, service_started_at, queue_wait_ms, transaction_id
FROM visits WHERE date_key IS NOT NULL;
`;

// Migration 4 (issue #8, docs/warehouse.md "One stored copy"): the warehouse stops storing a second
// copy of every sale line and visit. The sink wrote each line twice (transaction_items and
// fact_sales) and each visit twice (visits and fact_visits), and in SQLite a row costs about the
// same wherever it goes, so the facts cost the sink ~20-30 % however they were laid out (measured).
// Now:
// - fact_sales is the one stored sale line, written by the sink whether or not the warehouse is
//   loaded (its extra columns are the transaction's, so they cost little), keyed by time (migration
//   3); transaction_items is a view of its operational columns.
// - visits carries the visit fact's derived columns (date_key, entry_hour, dwell_ms,
//   cart_value_cents, queue_wait_ms), NULL until the warehouse loads them (the sink, or
//   `warehouse rebuild`); fact_visits is a view of the visits whose facts are loaded.
// Existing rows: lines only in transaction_items (runs written without the warehouse) move into
// fact_sales; fact_visits' derived columns move onto their visits.
const v4Sqlite = `
ALTER TABLE visits ADD COLUMN date_key INTEGER;
ALTER TABLE visits ADD COLUMN entry_hour INTEGER;
ALTER TABLE visits ADD COLUMN dwell_ms INTEGER;
ALTER TABLE visits ADD COLUMN cart_value_cents INTEGER;
ALTER TABLE visits ADD COLUMN queue_wait_ms INTEGER;
UPDATE visits SET date_key = f.date_key, entry_hour = f.entry_hour, dwell_ms = f.dwell_ms, cart_value_cents = f.cart_value_cents,
  queue_wait_ms = f.queue_wait_ms
FROM fact_visits f WHERE f.run_id = visits.run_id AND f.visit_id = visits.visit_id;
INSERT INTO fact_sales (run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id, lane, payment_method,
  quantity, unit_price_cents, discount_rate, discount_cents, total_cents)
SELECT i.run_id, i.transaction_id, i.line_no,
  CAST(substr(t.transaction_time, 1, 4) || substr(t.transaction_time, 6, 2) || substr(t.transaction_time, 9, 2) AS INTEGER),
  t.transaction_time, CAST(substr(t.transaction_time, 12, 2) AS INTEGER), i.item_id, t.customer_id, t.store_id, t.lane, t.payment_method,
  i.quantity, i.unit_price_cents, i.discount_rate, i.discount_cents, i.total_cents
FROM transaction_items i JOIN transactions t ON t.run_id = i.run_id AND t.transaction_id = i.transaction_id
WHERE true ON CONFLICT DO NOTHING;
DROP TABLE transaction_items;
DROP TABLE fact_visits;
${V4_VIEWS}
`;

const v4Postgres = `
ALTER TABLE visits ADD COLUMN date_key integer, ADD COLUMN entry_hour smallint, ADD COLUMN dwell_ms bigint,
  ADD COLUMN cart_value_cents bigint, ADD COLUMN queue_wait_ms bigint;
UPDATE visits v SET date_key = f.date_key, entry_hour = f.entry_hour, dwell_ms = f.dwell_ms, cart_value_cents = f.cart_value_cents,
  queue_wait_ms = f.queue_wait_ms
FROM fact_visits f WHERE f.run_id = v.run_id AND f.visit_id = v.visit_id;
INSERT INTO fact_sales (run_id, transaction_id, line_no, date_key, sold_at, sale_hour, item_id, customer_id, store_id, lane, payment_method,
  quantity, unit_price_cents, discount_rate, discount_cents, total_cents)
SELECT i.run_id, i.transaction_id, i.line_no, to_char(t.transaction_time AT TIME ZONE 'UTC', 'YYYYMMDD')::integer, t.transaction_time,
  extract(hour FROM t.transaction_time AT TIME ZONE 'UTC')::smallint, i.item_id, t.customer_id, t.store_id, t.lane, t.payment_method,
  i.quantity, i.unit_price_cents, i.discount_rate, i.discount_cents, i.total_cents
FROM transaction_items i JOIN transactions t ON t.run_id = i.run_id AND t.transaction_id = i.transaction_id
ON CONFLICT DO NOTHING;
DROP TABLE transaction_items;
DROP TABLE fact_visits;
${V4_VIEWS}
`;

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'operational tables', sqlite: v1Sqlite, postgres: v1Postgres },
  { version: 2, name: 'star schema', sqlite: v2Sqlite, postgres: v2Postgres },
  { version: 3, name: 'fact_sales keyed by time', sqlite: v3Sqlite, postgres: v3Postgres },
  { version: 4, name: 'one stored copy of each sale line and visit', sqlite: v4Sqlite, postgres: v4Postgres },
];

export const SCHEMA_MIGRATIONS_SQLITE = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     INTEGER PRIMARY KEY,
  name        TEXT NOT NULL,
  applied_at  TEXT NOT NULL
)`;

export const SCHEMA_MIGRATIONS_POSTGRES = `
CREATE TABLE IF NOT EXISTS schema_migrations (
  version     integer PRIMARY KEY,
  name        text NOT NULL,
  applied_at  timestamptz NOT NULL DEFAULT now()
)`;

/** The migrations not yet in `applied`, in version order. */
export function pendingMigrations(applied: Iterable<number>): Migration[] {
  const done = new Set(applied);
  return [...MIGRATIONS].sort((a, b) => a.version - b.version).filter((m) => !done.has(m.version));
}
