/** Shared by the benchmarks: runs the CLI headless and returns its summary line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { classifyPgOpenError, maskUrl } from '../src/db/errors.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Summary {
  run_id: string; produced: number; accepted: number; rejected: number; transactions: number;
  elapsed_s: number; events_per_sec: number; latency_ms: { p50: number | null; p99: number | null };
  verify: { ok: boolean; lost: number; duplicated: number; mismatched: number };
}

/** A headless progress line (src/monitor.ts), the fields the benchmarks read. */
export interface Progress {
  elapsed_s: number;
  latency_recent_ms: { p50: number | null; p99: number | null; window_s: number | null };
}

/**
 * Runs `storesim run --headless ARGS` and returns its summary, its progress lines, its wall time and
 * the CPU seconds (user + system) of its process: bash runs it and reports them with `times`.
 * Progress lines come every 60 s unless ARGS has its own `--interval`.
 */
export async function runHeadless(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ summary: Summary; progress: Progress[]; cpuS: number; wallS: number }> {
  const started = process.hrtime.bigint();
  return await new Promise((resolve, reject) => {
    const interval = args.includes('--interval') ? [] : ['--interval', '60s'];
    const argv = [process.execPath, '--import', 'tsx', 'src/cli/index.ts', 'run', '--headless', ...interval, ...args];
    const child = spawn('bash', ['-c', '"$@"; rc=$?; printf "storesim-bench-times " >&2; times >&2; exit $rc', 'bash', ...argv], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => {
      const line = out.trim().split('\n').filter((l) => l.includes('"type":"summary"')).pop();
      if (!line) {
        reject(new Error(`run exited ${code}: ${err.replace(/storesim-bench-times[\s\S]*$/, '').trim().split('\n').slice(-3).join(' | ')}`));
        return;
      }
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      // `times`: the shell's user and system time, then (the line wanted) its children's, as 0m8.410s 0m0.940s.
      const t = /storesim-bench-times \S+ \S+\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s/.exec(err);
      const cpuS = t ? Number(t[1]) * 60 + Number(t[2]) + Number(t[3]) * 60 + Number(t[4]) : NaN;
      const progress = out.split('\n').filter((l) => l.includes('"type":"progress"')).map((l) => JSON.parse(l) as Progress);
      resolve({ summary: JSON.parse(line) as Summary, progress, cpuS, wallS });
    });
  });
}

/**
 * Creates the benchmark's own database when it does not exist (benchmarks never write to a shared one
 * by default). A server it cannot reach (exit 3) or that refuses the login (exit 4) ends the benchmark
 * with storesim's own line for it (classifyPgOpenError) and its exit code.
 */
export async function ensureBenchDatabase(url: string): Promise<void> {
  const { default: pg } = await import('pg');
  const u = new URL(url);
  const name = decodeURIComponent(u.pathname.slice(1));
  u.pathname = '/postgres';
  const c = new pg.Client({ connectionString: u.toString() });
  try {
    await c.connect();
  } catch (err) {
    const e = classifyPgOpenError(err, maskUrl(url));
    process.stderr.write(`benchmark: ${e.message}\n`);
    process.exit(e.exitCode);
  }
  try {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created meanwhile by another benchmark
    });
  } finally {
    await c.end();
  }
}

/**
 * CHECKPOINT on the benchmark's server, so that the measured run's commits find recycled WAL segments:
 * a server whose WAL has grown since its last checkpoint creates each new 16 MB segment (written with
 * zeros, then synced: wait events IO:WALInitWrite and IO:WALInitSync) inside the commit that needs it.
 * Returns null when done, or why not (CHECKPOINT needs a superuser or pg_checkpoint).
 */
export async function checkpointPostgres(url: string): Promise<string | null> {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: url });
  try {
    await c.connect();
    await c.query('CHECKPOINT');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
