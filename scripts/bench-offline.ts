/**
 * npm run bench:offline — end-to-end raw events/s of the offline pipeline (engine → in-process bus →
 * processor → sink → SQLite) with verify ok, and the latency from publish to database commit.
 * Two stores: the default corner shop, and a busy supermarket (denser events per simulated second).
 * On a machine shared with other work the events/s swing by 2× between runs; the CPU seconds of the
 * process (when bench-run reports them) move far less, so they are printed too, per raw event. They
 * include a fixed ~1.5 s (start-up under tsx, migrations, verify).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, runHeadless } from './bench-run.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'storesim-bench-'));
const cases: [string, string[]][] = [
  ['corner shop, default rate', []],
  ['supermarket, 60 arrivals/min', ['--layout', 'supermarket', '--rate', '60']],
  ['corner shop, every data fault at 1 %', ['--faults', 'all=0.01']],
];
console.log(`bench:offline — ${fmt(EVENTS)} raw events per case, SQLite in ${dir}`);
try {
  for (const [name, args] of cases) {
    const db = join(dir, `${name.replace(/\W+/g, '-')}.db`);
    const { summary: s, wallS, cpuS } = await runHeadless(['--seed', '42', '--events', String(EVENTS), '--sqlite', db, ...args]);
    const cpu = Number.isFinite(cpuS) && cpuS > 0 ? `, CPU ${cpuS.toFixed(1)} s = ${fmt((cpuS * 1e6) / EVENTS)} µs/event` : '';
    console.log(`${name.padEnd(38)} ${fmt(s.events_per_sec).padStart(8)} events/s end to end  ` +
      `latency p50 ${s.latency_ms.p50} ms p99 ${s.latency_ms.p99} ms  verify ${s.verify.ok ? 'ok' : 'FAILED'}  (process ${wallS.toFixed(1)} s${cpu})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
