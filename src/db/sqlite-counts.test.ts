/**
 * SQLite's counts() keeps a counted run's figures up to date from its own connection's writes (the
 * drain polls them every 100 ms), and counts again whenever another connection has committed: the
 * figures are always what a full count would give.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadFixtures } from '../cli/load-fixtures.js';
import { createSqliteDatabase } from './sqlite.js';
import { syntheticBatches } from './synthetic.js';
import type { Database, RunCounts, SinkBatch } from './types.js';

const fixtures = loadFixtures();
const RUN_A = '0196d000-0000-7000-8000-00000000000a';
const RUN_B = '0196d000-0000-7000-8000-00000000000b';

function open(path: string): { raw: BetterSqlite3.Database; db: Database } {
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  return { raw, db: createSqliteDatabase(raw, path) };
}

/** What a full count gives, from a connection that has never counted. */
async function fullCount(path: string, runId: string): Promise<RunCounts> {
  const fresh = open(path);
  try {
    return await fresh.db.counts(runId);
  } finally {
    fresh.raw.close();
  }
}

describe('SQLite counts', () => {
  let dir: string;
  let path: string;
  let a: ReturnType<typeof open>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'storesim-counts-'));
    path = join(dir, 'counts.db');
    a = open(path);
    await a.db.migrate();
    await a.db.seedDimensions(fixtures);
  });
  afterEach(() => {
    a.raw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stay exact across own writes, redeliveries, other connections\' writes and a deleted run', async () => {
    const batches: SinkBatch[] = [...syntheticBatches({ runId: RUN_A, fixtures, visits: 90, seed: 4, batchRows: 120 })];
    const other: SinkBatch[] = [...syntheticBatches({ runId: RUN_B, fixtures, visits: 30, seed: 5, batchRows: 120 })];
    expect(batches.length).toBeGreaterThan(4);

    // Counted before anything is written, then kept up to date by this connection's batches
    expect((await a.db.counts(RUN_A)).staging).toBe(0);
    for (const b of batches.slice(0, 3)) await a.db.writeBatch(b);
    expect(await a.db.counts(RUN_A)).toEqual(await fullCount(path, RUN_A));
    // A redelivered batch adds nothing; another run's batch does not touch this run's figures
    await a.db.writeBatch(batches[1]!);
    await a.db.writeBatch(other[0]!);
    expect(await a.db.counts(RUN_A)).toEqual(await fullCount(path, RUN_A));

    // Another connection (another process) writes to the same file: counted again
    const b = open(path);
    try {
      for (const x of batches.slice(3)) await b.db.writeBatch(x);
    } finally {
      b.raw.close();
    }
    const all = await a.db.counts(RUN_A);
    expect(all).toEqual(await fullCount(path, RUN_A));
    expect(all.staging).toBe(batches.reduce((n, x) => n + x.staging.length, 0));
    expect(all.transactions).toBeGreaterThan(0);
    expect(Object.keys(all.rejectedByCode).length).toBeGreaterThan(0);

    // A deleted run counts zero
    await a.db.deleteRun(RUN_A);
    expect(await a.db.counts(RUN_A)).toEqual(await fullCount(path, RUN_A));
    expect((await a.db.counts(RUN_A)).staging).toBe(0);
  });
});
