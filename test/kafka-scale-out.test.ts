/**
 * Acceptance ("Real Kafka and PostgreSQL"), scale-out: the engine, two processors and two sinks as
 * five processes sharing the work through Kafka partitions and consumer groups (DESIGN.md, The
 * pipeline: roles). The engine's process drains, verifies and exits 0; `storesim verify --run`
 * agrees; the others stop on SIGTERM with exit 0, each having done part of the work.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startCli, summaryOf, type CliProcess, type CliResult } from './cli-helpers.js';
import {
  KAFKA_BROKERS, createTestDatabase, expectSummaryMatchesTables, kafkaClient, pgTableCounts, stopWith, stoppedLine,
  uniquePrefix, waitForGroup, type TestPgDatabase,
} from './kafka-helpers.js';

const EVENTS = 12_000;

function failure(r: CliResult): string {
  return `exit ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr.slice(-2_000)}; last stdout line: ${r.stdout.trim().split('\n').at(-1)?.slice(0, 1_000)}`;
}

describe('scale-out: engine, two processors and two sinks in five processes', () => {
  const prefix = uniquePrefix('scale');
  const common = ['--kafka', KAFKA_BROKERS, '--topic-prefix', prefix, '--partitions', '6'];
  let db: TestPgDatabase;
  const workers: CliProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('scaleout');
  });

  afterAll(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.done));
    await db?.drop();
  });

  it('drains and verifies in the engine process; verify --run agrees; the others stop on SIGTERM with exit 0', async () => {
    // Given two processors and two sinks, each its own process, joined to their groups
    const role = (r: string): CliProcess => startCli(['run', '--headless', '--role', r, ...common, '--database-url', db.url], { timeoutMs: 170_000 });
    const processors = [role('processor'), role('processor')];
    const sinks = [role('sink'), role('sink')];
    workers.push(...processors, ...sinks);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await waitForGroup(admin, `${prefix}storesim-processor`, 2);
      await waitForGroup(admin, `${prefix}storesim-sink`, 2);
    } finally {
      await admin.disconnect();
    }
    for (const w of workers) expect(w.child.exitCode, w.stderr()).toBeNull();

    // When an engine process publishes 12 000 raw events with every data fault on
    const engine = await runCli([
      'run', '--headless', '--role', 'engine', '--seed', '5', '--events', String(EVENTS), '--faults', 'all=0.01',
      ...common, '--database-url', db.url, '--drain-timeout', '60s',
    ], { timeoutMs: 150_000 });

    // Then it waited for the drain, verified and exited 0
    expect(engine.code, failure(engine)).toBe(0);
    const summary = summaryOf(engine);
    expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(summary.produced).toBe(EVENTS);
    expect(summary.accepted + summary.rejected).toBe(EVENTS);
    expectSummaryMatchesTables(summary, await pgTableCounts(db, summary.run_id));
    const s = summary as typeof summary & { events_per_sec: number };
    console.log(`scale-out (2 processors, 2 sinks): ${EVENTS} raw events, ${s.events_per_sec} events/s end to end`);

    // And storesim verify --run, from yet another process, agrees
    const verify = await runCli(['verify', '--run', summary.run_id, '--database-url', db.url, '--json'], { timeoutMs: 90_000 });
    expect(verify.code, failure(verify)).toBe(0);
    expect(JSON.parse(verify.stdout.trim().split('\n').at(-1)!)).toMatchObject({ run_id: summary.run_id, ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    const human = await runCli(['verify', '--run', summary.run_id, '--database-url', db.url], { timeoutMs: 90_000 });
    expect(human.code, failure(human)).toBe(0);
    expect(human.stdout).toMatch(/verify: ok/);

    // When the processors and sinks get SIGTERM, they stop with exit 0, each having done a share of the work
    const stopped = await Promise.all(workers.map((w) => stopWith(w, 'SIGTERM')));
    for (const r of stopped) expect(r.code, failure(r)).toBe(0);
    const consumed = stopped.slice(0, 2).map((r) => stoppedLine(r).processor?.consumed ?? 0);
    const written = stopped.slice(2).map((r) => stoppedLine(r).sink?.written ?? 0);
    console.log(`processors consumed ${consumed.join(' + ')} messages, sinks wrote ${written.join(' + ')} rows`);
    for (const n of [...consumed, ...written]) expect(n).toBeGreaterThan(0);
    // Meanwhile each said what it runs, and printed its progress once a second
    for (const [i, r] of stopped.entries()) {
      expect(r.stderr).toContain(`storesim: ${i < 2 ? 'processor' : 'sink'} running for topic prefix "${prefix}"`);
      const progress = r.stdout.trim().split('\n').slice(0, -1).map((l) => JSON.parse(l) as { type: string; processor: { consumed: number } | null; sink: { written: number } | null });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.every((l) => l.type === 'progress')).toBe(true);
      expect(i < 2 ? progress.at(-1)!.processor!.consumed : progress.at(-1)!.sink!.written).toBeLessThanOrEqual(i < 2 ? consumed[i]! : written[i - 2]!);
    }
  }, 175_000);
});
