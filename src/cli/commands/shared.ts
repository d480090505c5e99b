/**
 * What the warehouse, report, runs and export commands share: their database flags, how they open
 * the database, and the IO they write to (injected, so tests read what a user would see).
 */
import { openDatabase } from '../../db/open.js';
import type { OpenOptions } from '../../db/open.js';
import type { Database } from '../../db/types.js';
import { resolveDb } from '../config.js';
import type { Env } from '../config.js';
import { UserError } from '../errors.js';

/** The database flags every command receives (registered by src/cli/index.ts). */
export interface DbArgs {
  sqlite?: string;
  'database-url'?: string;
}

export interface CommandIo {
  /** Writes to stdout. */
  out(s: string): void;
  /** Writes to stderr. */
  err(s: string): void;
  isTTY: boolean;
  env: Env;
  /** Asks a yes/no question on the terminal; null when there is no terminal to ask on. */
  confirm: ((question: string) => Promise<boolean>) | null;
}

export function processIo(): CommandIo {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  return {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: Boolean(process.stdout.isTTY),
    env: process.env,
    confirm: interactive ? askYesNo : null,
  };
}

async function askYesNo(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export async function openCommandDb(argv: DbArgs, env: Env, opts: OpenOptions = {}): Promise<Database> {
  return openDatabase(resolveDb(argv, env), opts);
}

/** Runs `fn` with the database open, and closes it whatever happens. */
export async function withDb<T>(argv: DbArgs, io: CommandIo, fn: (db: Database) => Promise<T>, opts: OpenOptions = {}): Promise<T> {
  const db = await openCommandDb(argv, io.env, opts);
  try {
    return await fn(db);
  } finally {
    await db.close().catch(() => undefined);
  }
}

/** A run id the database knows (a `runs` row, or rows in the warehouse or operational tables). */
export async function requireRun(db: Database, runId: string): Promise<void> {
  if (await db.getRun(runId)) return;
  for (const table of ['fact_sales', 'fact_visits', 'transactions', 'visits', 'staging_events']) {
    if ((await db.select(`SELECT 1 AS x FROM ${table} WHERE run_id = ? LIMIT 1`, [runId])).length > 0) return;
  }
  throw new UserError(`no run ${runId} in ${db.description} (list runs with: storesim runs list)`);
}

export function noRuns(db: Database): UserError {
  return new UserError(`no runs in ${db.description} (start one with: storesim run --events 1000, or pass --sqlite PATH / --database-url URL)`);
}
