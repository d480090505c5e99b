/**
 * npm run bench:dashboard — what the dashboard costs: CPU seconds of the same offline run (fixed
 * seed and event count) with the dashboard in a pseudo-terminal versus headless. Reports the ratio
 * and the extra CPU as a share of one core over the run's wall time (goal: at most 5 %).
 * CPU is read from /proc/<pid>/stat (utime + stime) until the process exits.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as pty from 'node-pty';
import { ROOT } from './bench-run.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 150_000);
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const dir = mkdtempSync(join(tmpdir(), 'storesim-bench-ui-'));

function cpuSeconds(pid: number): number | null {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  } catch {
    return null;
  }
}

async function measure(pid: number, exited: Promise<unknown>): Promise<{ cpu: number; wall: number }> {
  const t0 = performance.now();
  let cpu = 0;
  let done = false;
  void exited.then(() => { done = true; });
  while (!done) {
    cpu = cpuSeconds(pid) ?? cpu;
    await new Promise((r) => setTimeout(r, 20));
  }
  return { cpu, wall: (performance.now() - t0) / 1000 };
}

const args = (name: string): string[] => [join(ROOT, 'bin/storesim.js'), 'run', '--seed', '42', '--events', String(EVENTS), '--sqlite', join(dir, `${name}.db`)];

execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
try {
  const h = spawn(process.execPath, [...args('headless'), '--headless', '--interval', '60s'], { cwd: dir, stdio: 'ignore' });
  const headless = await measure(h.pid!, new Promise((r) => h.on('exit', r)));
  const t = pty.spawn(process.execPath, [...args('tui'), '--tui', 'on'], { cols: 80, rows: 24, cwd: dir, env: process.env as Record<string, string> });
  t.onData(() => undefined);
  const tui = await measure(t.pid, new Promise((r) => t.onExit(r)));
  const extra = tui.cpu - headless.cpu;
  console.log(`bench:dashboard — ${EVENTS.toLocaleString('en-US')} raw events, seed 42, offline`);
  console.log(`headless : ${headless.cpu.toFixed(2)} CPU s in ${headless.wall.toFixed(2)} s`);
  console.log(`dashboard: ${tui.cpu.toFixed(2)} CPU s in ${tui.wall.toFixed(2)} s (80x24 pseudo-terminal)`);
  console.log(`ratio ${(tui.cpu / headless.cpu).toFixed(3)}; the dashboard adds ${(100 * extra / tui.wall).toFixed(1)} % of one core (goal <= 5 %)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
