/**
 * Test support for the CLI-level acceptance tests: spawn `node --import tsx src/cli/index.ts …`
 * from the repository root, collect its output and exit code, and read a SQLite file as a user
 * would (better-sqlite3, read-only unless asked).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { expect } from 'vitest';
import type { RunCounts } from '../src/db/types.js';
import type { Summary } from '../src/main.js';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stdout's bytes (for hashing `simulate` output exactly). */
  stdoutBytes: Buffer;
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout so far. */
  stdout(): string;
  stderr(): string;
  done: Promise<CliResult>;
}

/** Starts the CLI; `done` resolves when it exits (never rejects). */
export function startCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], {
    cwd: REPO_ROOT,
    // No Kafka or database from the environment: offline defaults unless a test says otherwise.
    env: { ...withoutServices(process.env), ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const timeoutMs = opts.timeoutMs ?? 55_000;
  const done = new Promise<CliResult>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
  });
  return {
    child,
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    done,
  };
}

export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, opts).done;
}

function withoutServices(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) continue;
    if (['KAFKA_BROKERS', 'KAFKA_BOOTSTRAP_SERVERS', 'DATABASE_URL', 'STORESIM_TOPIC_PREFIX'].includes(k)) continue;
    out[k] = v;
  }
  return out;
}

/** The lines of stderr that are not npm/node noise. */
export function stderrLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^npm warn|ExperimentalWarning|--trace-warnings/.test(l));
}

/** The headless summary line: the one type the composition root prints. */
export type SummaryLine = Summary;

/**
 * What the tables hold for one run, counted with plain SQL (SQLite or PostgreSQL), not through the
 * database layer's own counts: the same figures, plus the distinct seqs among the staging rows.
 */
export interface TableCounts extends RunCounts {
  stagingSeqs: number;
}

/** The summary's figures are the tables' figures (DESIGN.md: they come from the database, by run_id). */
export function expectSummaryMatchesTables(s: SummaryLine, t: TableCounts): void {
  expect(s.accepted).toBe(t.staging);
  expect(t.stagingSeqs).toBe(t.staging); // one row per produced message
  expect(s.rejected).toBe(t.rejected);
  expect(s.rejected_by_code).toEqual(t.rejectedByCode);
  expect(s.transactions).toBe(t.transactions);
  expect(s.revenue_cents).toBe(t.revenueCents);
  expect(s.visits).toBe(t.visits);
  expect(s.abandoned).toBe(t.visitsByStatus.abandoned ?? 0);
  expect(s.open_at_end).toBe(t.visitsByStatus.open_at_end ?? 0);
}

/** The last stdout line, parsed; fails the test when it is not a summary. */
export function summaryOf(r: CliResult): SummaryLine {
  const lines = r.stdout.trim().split('\n');
  const last = JSON.parse(lines[lines.length - 1]!) as SummaryLine;
  if (last.type !== 'summary') throw new Error(`last line is not a summary: ${lines[lines.length - 1]}`);
  return last;
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `storesim-${tag}-`));
}

/** Runs `fn` on the SQLite file (read-only unless `write`), closing it after. */
export function withSqlite<T>(path: string, fn: (db: BetterSqlite3.Database) => T, write = false): T {
  const db = new BetterSqlite3(path, { readonly: !write, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** A consistent copy of a SQLite database (WAL included) at `to`. */
export function copySqlite(from: string, to: string): void {
  withSqlite(from, (db) => db.prepare('VACUUM INTO ?').run(to));
}

export function sha256(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}

/** Polls `cond` every `everyMs` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(cond: () => T | Promise<T>, what: string, timeoutMs = 20_000, everyMs = 50): Promise<NonNullable<T>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v as NonNullable<T>;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
