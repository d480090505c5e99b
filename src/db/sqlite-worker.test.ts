/**
 * The SQLite connection in a worker thread (sqlite-worker.ts, sqlite-worker-client.ts): bytes come
 * back as Buffers, errors keep their class, code, exit code and retriable flag, and a held write
 * lock stalls only the worker, never the main thread's timers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError, isRetriable } from './errors.js';
import { openDatabase } from './open.js';
import type { Database, SinkBatch } from './types.js';

const RUN = '0196b000-0000-7000-8000-000000000001';
const VALUE = Buffer.from([0xff, 0x00, 0x7b, 0x0a]);

function batch(offset: number): SinkBatch {
  return {
    staging: [],
    rejected: [{
      run_id: RUN, seq: offset, code: 'unparseable', reason: 'not JSON', source_topic: 'foot_traffic', source_partition: 0,
      source_offset: offset, key: 'c1', value: VALUE, headers: '{}', rejected_at: '2026-11-23T08:00:00.000Z',
    }],
    transactions: [],
    visits: [],
  };
}

describe('SQLite in a worker thread', () => {
  let dir: string;
  let path: string;
  let db: Database | null = null;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'storesim-worker-'));
    path = join(dir, 'test.db');
  });
  afterEach(async () => {
    await db?.close();
    db = null;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes and reads back bytes as Buffers', async () => {
    db = await openDatabase({ sqlitePath: path });
    await db.writeBatch(batch(1));
    const rows = await db.select('SELECT value FROM rejected_events WHERE run_id = ?', [RUN]);
    expect(Buffer.isBuffer(rows[0]!.value)).toBe(true);
    expect(Buffer.compare(rows[0]!.value as Buffer, VALUE)).toBe(0);
    expect((await db.counts(RUN)).rejectedByCode).toEqual({ unparseable: 1 });
  });

  it('keeps errors as they are: a plain Error, a SQLite error code, a DatabaseError for a bad file', async () => {
    db = await openDatabase({ sqlitePath: path });
    await expect(db.updateRun('missing', { status: 'live' })).rejects.toThrow(/updateRun: no run missing/);
    const err = await db.select('SELECT * FROM no_such_table').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe('SQLITE_ERROR');

    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'this is not a database, just some text long enough to have a header....................');
    const open = await openDatabase({ sqlitePath: garbage }).catch((e: unknown) => e);
    expect(open).toBeInstanceOf(DatabaseError);
    expect((open as DatabaseError).exitCode).toBe(2);
    expect((open as DatabaseError).message).toMatch(/file is not a database/);
  });

  it('a held write lock fails the write as retriable, and the main thread keeps running meanwhile', async () => {
    db = await openDatabase({ sqlitePath: path }, { busyTimeoutMs: 400 });
    const lock = new BetterSqlite3(path);
    lock.exec('BEGIN IMMEDIATE');
    let ticks = 0;
    const timer = setInterval(() => { ticks++; }, 10);
    try {
      const err = await db.writeBatch(batch(2)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DatabaseError);
      expect(isRetriable(err)).toBe(true);
      expect((err as DatabaseError).exitCode).toBe(3);
      // The worker waited its busy timeout; the main thread's timers kept firing (a synchronous wait would give 0).
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(timer);
      lock.exec('ROLLBACK');
      lock.close();
    }
    await db.writeBatch(batch(2));
    expect((await db.counts(RUN)).rejected).toBe(1);
  });

  it('answers calls in order: a read after a write sees it', async () => {
    db = await openDatabase({ sqlitePath: path });
    const writes = [1, 2, 3, 4, 5].map((o) => db!.writeBatch(batch(o)));
    const counted = db.counts(RUN);
    await Promise.all(writes);
    expect((await counted).rejected).toBe(5);
  });
});
