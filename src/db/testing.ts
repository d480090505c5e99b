/**
 * Test support: a fresh database of either dialect, isolated from every other test (a temp SQLite
 * file, or a unique PostgreSQL schema), and its cleanup. For tests only.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
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
