/**
 * Test support: a fresh database of either dialect, isolated from every other test (a temp SQLite
 * file, or a unique PostgreSQL schema), and its cleanup. For tests only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { num } from './decode.js';
import { readIsoOrNull } from './iso.js';
import { MIGRATIONS, SCHEMA_MIGRATIONS_POSTGRES, SCHEMA_MIGRATIONS_SQLITE } from './migrations.js';
import { openDatabase } from './open.js';
import type { OpenOptions } from './open.js';
import type { Database } from './types.js';

/** The PostgreSQL integration tests use (STORESIM_TEST_DATABASE_URL overrides). */
export const TEST_PG_URL = process.env.STORESIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  db: Database;
  /** The SQLite path or the PostgreSQL schema. */
  location: string;
  /** Runs SQL on a separate connection to the same database (for assertions the interface does not cover). */
  query(sql: string): Promise<Record<string, unknown>[]>;
  /** Runs a write on a separate connection to the same database (to spoil rows a test then repairs). */
  exec(sql: string): Promise<void>;
  /** Closes the database and removes the file or drops the schema. */
  cleanup(): Promise<void>;
}

let counter = 0;

export async function openTestDatabase(dialect: 'sqlite' | 'postgres', opts: OpenOptions = {}): Promise<TestDatabase> {
  counter += 1;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'storesim-db-'));
    const path = join(dir, 'test.db');
    const db = await openDatabase({ sqlitePath: path }, opts);
    return {
      db,
      location: path,
      query: async (sql) => {
        const raw = new BetterSqlite3(path, { readonly: true });
        try {
          return raw.prepare(sql).all() as Record<string, unknown>[];
        } finally {
          raw.close();
        }
      },
      exec: async (sql) => {
        const raw = new BetterSqlite3(path);
        try {
          raw.exec(sql);
        } finally {
          raw.close();
        }
      },
      async cleanup() {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const schema = `t_${process.pid}_${Date.now().toString(36)}_${counter}`;
  const db = await openDatabase({ url: TEST_PG_URL }, { ...opts, schema });
  return {
    db,
    location: schema,
    query: async (sql) => {
      const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        return (await client.query(sql)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    },
    exec: async (sql) => {
      const client = new pg.Client({ connectionString: TEST_PG_URL, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    },
    async cleanup() {
      await db.close();
      await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * A row read back from either dialect, in one form (`cols`, default all of them): times (`*_at`,
 * `*_time`) as canonical ISO strings, numeric columns (keys, counts, cents, ms, rates) as numbers,
 * nulls as null, the rest as they came. pg gives Date for timestamptz and strings for bigint.
 */
export function normalisedRow(r: Record<string, unknown>, cols: readonly string[] = Object.keys(r)): Record<string, unknown> {
  return Object.fromEntries(cols.map((k) => {
    const v = r[k];
    if (/(_at|_time)$/.test(k)) return [k, readIsoOrNull(v)];
    if (v !== null && /(_key|_no|_hour|_cents|_ms|quantity|items|lane|rate)$/.test(k)) return [k, num(v)];
    return [k, v];
  }));
}

/**
 * A SQLite file at schema `version` (migrations up to it, as an older storesim left it), filled by
 * `fill` on the raw connection. Opening it with openDatabase then applies the newer migrations.
 */
export function sqliteAtVersion(path: string, version: number, fill: (raw: BetterSqlite3.Database) => void): void {
  const raw = new BetterSqlite3(path);
  try {
    raw.exec(SCHEMA_MIGRATIONS_SQLITE);
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
      raw.exec(m.sqlite);
      raw.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, new Date().toISOString());
    }
    raw.transaction(() => fill(raw))();
  } finally {
    raw.close();
  }
}

/** The PostgreSQL counterpart of sqliteAtVersion: a new schema at `version`, filled by `fill`. */
export async function postgresAtVersion(schema: string, version: number, fill: (c: pg.Client) => Promise<void>): Promise<void> {
  const c = new pg.Client({ connectionString: TEST_PG_URL });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA "${schema}"`);
    await c.query(`SET search_path TO "${schema}"`);
    await c.query(SCHEMA_MIGRATIONS_POSTGRES);
    for (const m of MIGRATIONS.filter((x) => x.version <= version)) {
      await c.query(m.postgres);
      await c.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    }
    await fill(c);
  } finally {
    await c.end();
  }
}
