/**
 * Opens the database a run writes to: PostgreSQL for a postgres:// URL, otherwise a SQLite file
 * (DESIGN.md, Configuration). Every failure becomes a one-line DatabaseError that names the problem
 * and the fix, classified for the exit code; passwords never appear.
 */
import { existsSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Duplex } from 'node:stream';
import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { DatabaseError, classifyPgOpenError, classifySqliteOpenError, maskUrl } from './errors.js';
import { createPostgresDatabase } from './postgres.js';
import { createSqliteDatabase, openSqliteConnection } from './sqlite.js';
import { openSqliteInWorker } from './sqlite-worker-client.js';
import type { Database } from './types.js';
import type { Fixtures } from '../engine/types.js';

export { DatabaseError, isRetriable, maskUrl, EXIT_CODES } from './errors.js';
export type { DatabaseErrorCode } from './errors.js';

/** The SQLite file used when no database is configured. */
export const DEFAULT_SQLITE_PATH = './storesim.db';

export interface DatabaseTarget {
  /** `postgres://…` (or `postgresql://…`); `sqlite:PATH` or a bare path also selects SQLite. */
  url?: string;
  sqlitePath?: string;
}

export interface OpenOptions {
  /** PostgreSQL schema for every table (created if missing; tests isolate in their own). Default: the server's search_path. */
  schema?: string;
  /** Apply pending migrations on open. Default true. */
  migrate?: boolean;
  /** PostgreSQL connection timeout, ms. Default 5 000. */
  connectTimeoutMs?: number;
  /** PostgreSQL pool size. Default 4. */
  poolSize?: number;
  /** SQLite busy timeout, ms: how long a write waits for another writer's lock before a retriable error. Default 200. */
  busyTimeoutMs?: number;
  /** Builds the socket for each PostgreSQL connection (infrastructure faults wrap it). Default: a plain TCP socket. */
  pgStream?: () => Duplex;
  /** Errors of idle pooled PostgreSQL connections (the next query reports them anyway). Default: ignored. */
  onPoolError?: (err: Error) => void;
  /** Load the star schema's facts inside writeBatch's transaction (off only to measure what it costs). Default true. */
  warehouse?: boolean;
  /** Seed dim_product, dim_customer and dim_store from these fixtures after migrating (idempotent). Default: not seeded. */
  fixtures?: Fixtures;
  /**
   * Run the SQLite connection in its own worker thread (sqlite-worker.ts), so writes and a held lock
   * never stop the main thread. Default true; false keeps it on the calling thread.
   */
  sqliteWorker?: boolean;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

export async function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Promise<Database> {
  const url = target.url?.trim();
  if (url !== undefined && url !== '') {
    if (/^postgres(ql)?:\/\//i.test(url)) return openPostgres(url, opts);
    const sqliteUrl = /^(sqlite|file):(\/\/)?(.+)$/i.exec(url);
    if (sqliteUrl?.[3] !== undefined) return openSqlite(sqliteUrl[3], opts);
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
      throw new DatabaseError('usage', `unsupported database URL ${maskUrl(url)} (use postgres://user:password@host:5432/database, or a SQLite file path)`);
    }
    return openSqlite(url, opts);
  }
  return openSqlite(target.sqlitePath ?? DEFAULT_SQLITE_PATH, opts);
}

async function openPostgres(url: string, opts: OpenOptions): Promise<Database> {
  const where = maskUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseError('usage', `malformed database URL ${where} (expected postgres://user:password@host:5432/database)`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
    throw new DatabaseError('usage', `malformed database URL ${where}: no host (expected postgres://user:password@host:5432/database)`);
  }
  const { schema } = opts;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new DatabaseError('usage', `invalid PostgreSQL schema name ${JSON.stringify(schema)} (use letters, digits and _)`);
  }

  const config: pg.PoolConfig = {
    connectionString: url,
    max: opts.poolSize ?? 4,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 10_000,
    application_name: 'storesim',
  };
  if (schema !== undefined) config.options = `-c search_path=${schema}`;
  if (opts.pgStream) config.stream = opts.pgStream;
  let pool: pg.Pool;
  try {
    pool = new pg.Pool(config);
  } catch (err) {
    throw new DatabaseError('usage', `malformed database URL ${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // An idle client's error would otherwise crash the process (STYLE.md, Errors).
  pool.on('error', (err) => opts.onPoolError?.(err));

  try {
    await pool.query('SELECT 1');
    if (schema !== undefined) await createSchema(pool, schema);
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw classifyPgOpenError(err, where);
  }

  const description = `postgres ${where}${schema !== undefined ? ` (schema ${schema})` : ''}`;
  const db = createPostgresDatabase({ pool, where, description, warehouse: opts.warehouse });
  if (opts.migrate !== false || opts.fixtures) {
    try {
      if (opts.migrate !== false) await db.migrate();
      if (opts.fixtures) await db.seedDimensions(opts.fixtures);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw err instanceof DatabaseError ? err : classifyPgOpenError(err, where);
    }
  }
  return db;
}

async function createSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    // Two processes creating the same schema at once: the loser sees a unique violation.
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

async function openSqlite(path: string, opts: OpenOptions): Promise<Database> {
  const fix = '(create it or pass --sqlite PATH)';
  if (path !== ':memory:') {
    const dir = dirname(path);
    if (!existsSync(dir)) {
      throw new DatabaseError('usage', `cannot open SQLite database ${path}: directory ${dir} does not exist ${fix}`);
    }
    if (!statSync(dir).isDirectory()) {
      throw new DatabaseError('usage', `cannot open SQLite database ${path}: ${dir} is not a directory (pass --sqlite PATH)`);
    }
    if (existsSync(path) && statSync(path).isDirectory()) {
      throw new DatabaseError('usage', `cannot open SQLite database ${path}: it is a directory (pass --sqlite PATH to a file)`);
    }
  }

  if (opts.sqliteWorker ?? true) {
    const db = await openSqliteInWorker({ path, busyTimeoutMs: opts.busyTimeoutMs ?? 200, warehouse: opts.warehouse });
    if (opts.migrate !== false || opts.fixtures) {
      try {
        if (opts.migrate !== false) await db.migrate();
        if (opts.fixtures) await db.seedDimensions(opts.fixtures);
      } catch (err) {
        await db.close().catch(() => undefined);
        throw err instanceof DatabaseError ? err : classifySqliteOpenError(err, path);
      }
    }
    return db;
  }

  let raw: BetterSqlite3.Database;
  try {
    raw = openSqliteConnection(path, opts.busyTimeoutMs ?? 200);
  } catch (err) {
    throw classifySqliteOpenError(err, path);
  }

  const db = createSqliteDatabase(raw, path, { warehouse: opts.warehouse });
  if (opts.migrate !== false || opts.fixtures) {
    try {
      if (opts.migrate !== false) await db.migrate();
      if (opts.fixtures) await db.seedDimensions(opts.fixtures);
    } catch (err) {
      raw.close();
      throw err instanceof DatabaseError ? err : classifySqliteOpenError(err, path);
    }
  }
  return db;
}
