import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Socket } from 'node:net';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { DatabaseError, isRetriable, maskUrl, openDatabase } from './open.js';
import type { DatabaseTarget, OpenOptions } from './open.js';
import { TEST_PG_URL, dropSchema } from './testing.js';

const dir = mkdtempSync(join(tmpdir(), 'storesim-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openError(target: DatabaseTarget, opts?: OpenOptions): Promise<DatabaseError> {
  try {
    const db = await openDatabase(target, opts);
    await db.close();
  } catch (err) {
    expect(err).toBeInstanceOf(DatabaseError);
    const e = err as DatabaseError;
    // One line, no stack needed to understand it
    expect(e.message).not.toContain('\n');
    return e;
  }
  throw new Error('expected openDatabase to fail');
}

describe('openDatabase: SQLite', () => {
  it('opens a file in WAL mode, migrated, described by its path', async () => {
    const path = join(dir, 'ok.db');
    const db = await openDatabase({ sqlitePath: path });
    expect(db.dialect).toBe('sqlite');
    expect(db.description).toBe(`sqlite ${path}`);
    await db.close();
    const raw = new BetterSqlite3(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    raw.close();
  });

  it('a new file gets 16 KB pages, in the worker and in process; an existing file keeps its own', async () => {
    const pageSize = (path: string): unknown => {
      const raw = new BetterSqlite3(path, { readonly: true });
      try {
        return raw.pragma('page_size', { simple: true });
      } finally {
        raw.close();
      }
    };
    for (const sqliteWorker of [true, false]) {
      const path = join(dir, `pages-${sqliteWorker}.db`);
      await (await openDatabase({ sqlitePath: path }, { sqliteWorker })).close();
      expect(pageSize(path)).toBe(16384);
    }
    const old = join(dir, 'pages-4k.db');
    const raw = new BetterSqlite3(old);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    const db = await openDatabase({ sqlitePath: old });
    expect(await db.listRuns()).toEqual([]);
    await db.close();
    expect(pageSize(old)).toBe(4096);
  });

  it('takes a bare path or sqlite: URL in place of a URL', async () => {
    const a = await openDatabase({ url: join(dir, 'a.db') });
    expect(a.dialect).toBe('sqlite');
    await a.close();
    const b = await openDatabase({ url: `sqlite:${join(dir, 'b.db')}` });
    expect(b.description).toBe(`sqlite ${join(dir, 'b.db')}`);
    await b.close();
  });

  it('a path in a missing directory is a usage error naming the directory and the fix', async () => {
    const e = await openError({ sqlitePath: './no-such-dir-x/y.db' });
    expect(e.code).toBe('usage');
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('cannot open SQLite database ./no-such-dir-x/y.db: directory ./no-such-dir-x does not exist (create it or pass --sqlite PATH)');
  });

  it('a file that is not SQLite is a usage error: "not a database"', async () => {
    const path = join(dir, 'garbage.db');
    writeFileSync(path, 'this is not a sqlite file at all, just some text that is long enough '.repeat(20));
    const e = await openError({ sqlitePath: path });
    expect(e.code).toBe('usage');
    expect(e.message).toContain('file is not a database');
    expect(e.message).toContain(path);
  });

  it('a directory in place of the file is a usage error', async () => {
    const path = join(dir, 'adir');
    mkdirSync(path);
    const e = await openError({ sqlitePath: path });
    expect(e.code).toBe('usage');
    expect(e.message).toContain('is a directory');
  });

  it('a write lock held by another connection fails fast with a retriable error, then succeeds', async () => {
    const path = join(dir, 'locked.db');
    const db = await openDatabase({ sqlitePath: path }, { busyTimeoutMs: 20 });
    const other = new BetterSqlite3(path);
    other.exec('BEGIN IMMEDIATE');
    const row = {
      run_id: 'r', event_id: 'e', seq: 1, topic: 'foot_traffic', event_type: 'entry', customer_id: 'c', visit_id: 'v',
      event_time: '2026-11-23T08:00:00.000Z', payload: '{}',
    };
    const started = Date.now();
    const err = await db.writeBatch({ staging: [row], rejected: [], transactions: [], visits: [] }).then(() => null, (e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(isRetriable(err)).toBe(true);
    other.exec('ROLLBACK');
    other.close();
    await db.writeBatch({ staging: [row], rejected: [], transactions: [], visits: [] });
    expect((await db.counts('r')).staging).toBe(1);
    await db.close();
  });

  it('refuses a database migrated by a newer storesim', async () => {
    const path = join(dir, 'newer.db');
    await (await openDatabase({ sqlitePath: path })).close();
    const raw = new BetterSqlite3(path);
    raw.prepare(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')`).run();
    raw.close();
    const e = await openError({ sqlitePath: path });
    expect(e.code).toBe('usage');
    expect(e.message).toMatch(/schema version 999, newer than this storesim/);
  });
});

describe('openDatabase: PostgreSQL', () => {
  it('a closed port is unreachable (exit 3), password masked', async () => {
    const e = await openError({ url: 'postgres://postgres:sekret@127.0.0.1:1/x' });
    expect(e.code).toBe('unreachable');
    expect(e.exitCode).toBe(3);
    expect(e.message).toBe('cannot reach PostgreSQL at postgres://postgres:***@127.0.0.1:1/x: connection refused (start PostgreSQL or fix DATABASE_URL / --database-url)');
    expect(e.message).not.toContain('sekret');
  });

  it('an unknown host is unreachable', async () => {
    const e = await openError({ url: 'postgres://postgres@no-such-host.invalid:5432/x' });
    expect(e.code).toBe('unreachable');
    expect(e.message).toContain('host not found');
  });

  it('a database that does not exist is a usage error that says how to create it', async () => {
    const e = await openError({ url: 'postgres://postgres@127.0.0.1:5432/storesim_no_such_db' });
    expect(e.code).toBe('usage');
    expect(e.message).toContain('database "storesim_no_such_db" does not exist');
    expect(e.message).toContain('createdb');
  });

  it('an unknown user is refused (exit 4)', async () => {
    const e = await openError({ url: 'postgres://storesim_no_such_user:pw@127.0.0.1:5432/test' });
    expect(e.code).toBe('refused');
    expect(e.exitCode).toBe(4);
    expect(e.message).toContain('role "storesim_no_such_user" does not exist');
    expect(e.message).not.toContain(':pw@');
  });

  it('a malformed URL, an unsupported scheme or a bad schema name is a usage error', async () => {
    expect((await openError({ url: 'postgres://u:secret@[bad/x' })).code).toBe('usage');
    expect((await openError({ url: 'postgres://u:secret@[bad/x' })).message).not.toContain('secret');
    const mysql = await openError({ url: 'mysql://u:secret@host/db' });
    expect(mysql.code).toBe('usage');
    expect(mysql.message).toContain('unsupported database URL mysql://u:***@host/db');
    expect((await openError({ url: TEST_PG_URL }, { schema: 'x; drop' })).code).toBe('usage');
  });

  it('opens in its own schema (created if missing) and describes itself with the password masked', async () => {
    const schema = `t_open_${process.pid}`;
    const url = TEST_PG_URL.replace('postgres@', 'postgres:hunter2@');
    try {
      const db = await openDatabase({ url }, { schema });
      expect(db.dialect).toBe('postgres');
      expect(db.description).toContain('postgres:***@');
      expect(db.description).not.toContain('hunter2');
      expect(db.description).toContain(`(schema ${schema})`);
      await db.close();
      // Opening again finds the schema and its migrations in place
      const again = await openDatabase({ url }, { schema });
      await again.close();
    } finally {
      await dropSchema(schema);
    }
  });
});

describe('PostgreSQL outage after open', () => {
  it('fails a write with a retriable error while the server is away, and writes once it is back', async () => {
    // Given a database whose connections go through a socket factory we can cut
    let down = false;
    const sockets: Socket[] = [];
    const pgStream = () => {
      const socket = new Socket();
      sockets.push(socket);
      const connect = socket.connect.bind(socket) as (port: number, host: string) => Socket;
      (socket as unknown as { connect: (port: number, host: string) => Socket }).connect = (port, host) => (down ? connect(1, '127.0.0.1') : connect(port, host));
      return socket;
    };
    const schema = `t_outage_${process.pid}`;
    const db = await openDatabase({ url: TEST_PG_URL }, { schema, pgStream, connectTimeoutMs: 1000 });
    const row = {
      run_id: 'r', event_id: 'e', seq: 1, topic: 'foot_traffic', event_type: 'entry', customer_id: 'c', visit_id: 'v',
      event_time: '2026-11-23T08:00:00.000Z', payload: '{}',
    };
    try {
      // When the database goes away
      down = true;
      for (const s of sockets) s.destroy();
      await new Promise((r) => setImmediate(r));
      const err = await db.writeBatch({ staging: [row], rejected: [], transactions: [], visits: [] }).then(() => null, (e: unknown) => e);
      // Then the write fails as retriable, with a message that says so
      expect(err).toBeInstanceOf(DatabaseError);
      expect(isRetriable(err)).toBe(true);
      expect((err as DatabaseError).message).toMatch(/^lost PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:5432\/test: .*\(retrying\)$/);
      // And once it is back, the same batch goes in
      down = false;
      await db.writeBatch({ staging: [row], rejected: [], transactions: [], visits: [] });
      expect((await db.counts('r')).staging).toBe(1);
    } finally {
      await db.close();
      await dropSchema(schema);
    }
  });
});

describe('maskUrl', () => {
  it('masks the password, and only the password', () => {
    expect(maskUrl('postgres://u:p%40ss@h:5432/db?sslmode=require')).toBe('postgres://u:***@h:5432/db?sslmode=require');
    expect(maskUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(maskUrl('postgres://u:secret@[bad/x')).toBe('postgres://u:***@[bad/x');
  });
});
