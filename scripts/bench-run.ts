/** Shared by the benchmarks: runs the CLI headless and returns its summary line. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface Summary {
  run_id: string; produced: number; accepted: number; rejected: number; transactions: number;
  elapsed_s: number; events_per_sec: number; latency_ms: { p50: number | null; p99: number | null };
  verify: { ok: boolean; lost: number; duplicated: number; mismatched: number };
}

export async function runHeadless(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ summary: Summary; cpuS: number; wallS: number }> {
  const started = process.hrtime.bigint();
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', 'run', '--headless', '--interval', '60s', ...args], {
      cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => {
      const line = out.trim().split('\n').filter((l) => l.includes('"type":"summary"')).pop();
      if (!line) { reject(new Error(`run exited ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}`)); return; }
      const wallS = Number(process.hrtime.bigint() - started) / 1e9;
      resolve({ summary: JSON.parse(line) as Summary, cpuS: 0, wallS });
    });
  });
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
