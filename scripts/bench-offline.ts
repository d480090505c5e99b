/**
 * npm run bench:offline — end-to-end raw events/s of the offline pipeline (engine → in-process bus →
 * processor → sink → SQLite) with verify ok, and the latency from publish to database commit.
 * Two stores: the default corner shop, and a busy supermarket (denser events per simulated second).
 * On a machine shared with other work the events/s swing by 2× between runs; the CPU seconds of the
 * process (when bench-run reports them) move far less, so they are printed too, per raw event. They
 * include a fixed ~1.5 s (start-up under tsx, migrations, verify).
 * Under each case, the reference: the same run's rows written again into SQLite with nothing else
 * running (bench-sqlite-ceiling.ts), the most raw events/s this machine's SQLite allows that run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fmt, runHeadless } from './bench-run.js';
import { sqliteWriteCeiling } from './bench-sqlite-ceiling.js';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 200_000);
const dir = mkdtempSync(join(tmpdir(), 'storesim-bench-'));
const cases: [string, string[]][] = [
  ['corner shop, default rate', []],
  ['supermarket, 60 arrivals/min', ['--layout', 'supermarket', '--rate', '60']],
  ['corner shop, every data fault at 1 %', ['--faults', 'all=0.01']],
];
console.log(`bench:offline — ${fmt(EVENTS)} raw events per case, SQLite in ${dir}`);
let best = 0;
let bestCeiling = 0;
try {
  for (const [name, args] of cases) {
    const db = join(dir, `${name.replace(/\W+/g, '-')}.db`);
    const { summary: s, wallS, cpuS } = await runHeadless(['--seed', '42', '--events', String(EVENTS), '--sqlite', db, ...args]);
    const cpu = Number.isFinite(cpuS) && cpuS > 0 ? `, CPU ${cpuS.toFixed(1)} s = ${fmt((cpuS * 1e6) / EVENTS)} µs/event` : '';
    console.log(`${name.padEnd(38)} ${fmt(s.events_per_sec).padStart(8)} events/s end to end  ` +
      `latency p50 ${s.latency_ms.p50} ms p99 ${s.latency_ms.p99} ms  verify ${s.verify.ok ? 'ok' : 'FAILED'}  (process ${wallS.toFixed(1)} s${cpu})`);
    const c = await sqliteWriteCeiling(db, join(dir, 'ceiling.db'));
    console.log(`${''.padEnd(38)} reference, SQLite alone: the run's ${fmt(c.rows)} rows in ${c.allS.toFixed(2)} s = at most ${fmt(EVENTS / c.allS)} events/s` +
      ` (the run reached ${(s.events_per_sec * c.allS / EVENTS).toFixed(2)} of it);` +
      ` without report_totals (the warehouse's own table) at most ${fmt(EVENTS / c.operationalS)} events/s; its ${fmt(c.stagingRows)} staging rows alone: ${fmt(c.stagingRows / c.stagingS)} rows/s`);
    best = Math.max(best, s.events_per_sec);
    bestCeiling = Math.max(bestCeiling, EVENTS / c.allS);
  }
  console.log(`goal 200,000 raw events/s end to end: ${best >= 200_000 ? 'met' : 'not met'} (best case ${fmt(best)}; SQLite alone allows at most ${fmt(bestCeiling)})`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
