/**
 * Every bundled scenario, headless, through the CLI on the in-process bus and SQLite: each ends with
 * verify ok (0 lost, 0 duplicated, 0 mismatched), no dead letter caused by an infrastructure fault
 * (only the codes a scenario's data faults make), and a summary that reports every infrastructure
 * fault with its start, duration, peak backlog and drain time. Wall-clock fault durations run at
 * --time-scale 0.1 (a 20 s outage lasts 2 s). The same on Kafka and PostgreSQL: faults-kafka.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listBundledScenarios } from '../src/cli/scenario.js';
import { withScenarioSettings } from '../src/cli/config.js';
import type { FaultRecord } from '../src/faults.js';
import type { CommandLogEntry } from '../src/db/types.js';
import { runCli, stderrLines, summaryOf, tempDir, withSqlite } from './cli-helpers.js';

interface Expectation {
  /** Dead-letter codes the scenario's data faults may make; none for the others. */
  codes: string[];
  /** Infrastructure faults the summary reports, in order, with the duration each should last (s, scaled), null = restarted at once. */
  faults: Array<[string, number | null]>;
  /** Extra flags (the crash loop runs at a warp so its crashes are spread over seconds, not microseconds). */
  flags?: string[];
}

const EXPECT: Record<string, Expectation> = {
  'broker-outage': { codes: [], faults: [['broker_down', 2]] },
  'db-outage': { codes: [], faults: [['db_down', 3]] },
  'black-friday': { codes: [], faults: [] },
  'poison-storm': { codes: ['unparseable', 'schema'], faults: [] },
  'consumer-crash-loop': {
    codes: [],
    faults: [
      ['processor_crash', 0.3], ['sink_crash', 0.3], ['processor_crash', 0.3], ['sink_crash', 0.3], ['processor_crash', 0.3], ['sink_crash', 0.3],
      ['processor_crash', null], ['sink_crash', null], ['processor_crash', 0.3], ['sink_crash', 0.3],
    ],
    flags: ['--warp', '60'],
  },
  'late-and-duplicates': { codes: ['late', 'duplicate'], faults: [] },
  'surge-with-sink-outage': { codes: [], faults: [['db_down', 3]] },
  'slow-services': { codes: [], faults: [['broker_slow', 3], ['db_slow', 3]] },
};

interface Summary extends ReturnType<typeof summaryOf> { faults: FaultRecord[] }

describe.concurrent('bundled scenarios, headless, in-process bus and SQLite', () => {
  it('covers every bundled scenario', () => {
    expect(listBundledScenarios().map((s) => s.name).sort()).toEqual(Object.keys(EXPECT).sort());
  });

  for (const [name, want] of Object.entries(EXPECT)) {
    it(`${name}: verify ok, no dead letter from the faults, every fault in the summary`, async () => {
      const dir = tempDir(`scenario-${name}`);
      const db = join(dir, 'run.db');
      const r = await runCli(['run', '--headless', '--seed', '7', '--scenario', name, '--time-scale', '0.1', '--sqlite', db, ...(want.flags ?? [])], { timeoutMs: 90_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(stderrLines(r)).toEqual([]);
      const s = summaryOf(r) as Summary;
      expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
      expect(s.produced).toBeGreaterThan(50);
      const codes = Object.keys(s.rejected_by_code);
      expect(codes.filter((c) => !want.codes.includes(c))).toEqual([]);
      if (want.codes.length === 0) expect(s.rejected).toBe(0);

      expect(s.faults.map((f) => f.name)).toEqual(want.faults.map(([n]) => n));
      s.faults.forEach((f, i) => {
        const planned = want.faults[i]![1];
        expect(Date.parse(f.started_at)).toBeGreaterThan(Date.now() - 120_000);
        expect(f.duration_s).not.toBeNull();
        if (planned === null) expect(f.duration_s!).toBeLessThan(5);
        else {
          expect(f.duration_s!).toBeGreaterThanOrEqual(planned - 0.05);
          expect(f.duration_s!).toBeLessThan(planned + 3);
        }
        expect(f.peak_backlog).toBeGreaterThanOrEqual(0);
        expect(f.drain_s).not.toBeNull();
      });
      if (name === 'broker-outage' || name === 'db-outage' || name === 'surge-with-sink-outage') {
        // An outage leaves a backlog behind it.
        expect(s.faults[0]!.peak_backlog).toBeGreaterThan(0);
      }

      // Every scenario step that does not change the stream is in the run's command log too.
      const log = withSqlite(db, (d) => JSON.parse((d.prepare('SELECT command_log FROM runs WHERE run_id = ?').pluck().get(s.run_id) as string)) as CommandLogEntry[]);
      expect(log.filter((e) => e.command.type === 'start_fault').map((e) => e.command.fault)).toEqual(want.faults.map(([n]) => n));
    });
  }

  it('refuses a bad scenario before anything starts: every problem on one line, exit 2, nothing written', async () => {
    const dir = tempDir('scenario-bad');
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({
      description: 'two problems',
      steps: [{ at: '10s', do: 'explode' }, { at: '20s', do: 'start_fault', fault: 'brokr_down' }],
    }));
    const db = join(dir, 'run.db');
    const r = await runCli(['run', '--headless', '--scenario', file, '--sqlite', db]);
    expect(r.code).toBe(2);
    const lines = stderrLines(r);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/2 problems/);
    expect(lines[0]).toMatch(/explode/);
    expect(lines[0]).toMatch(/did you mean "broker_down"/);
    expect(r.stdout).toBe('');
  });
});

describe('scenario settings under the flags', () => {
  it('takes a scenario setting only where no flag was given', () => {
    const scenario = { settings: { rate: 6, seed: 3, warp: 'max', faults: { late: 0.05 }, layout: 'supermarket', events: 100 } };
    expect(withScenarioSettings({ scenario, rate: 40, layout: undefined })).toMatchObject({
      rate: 40, seed: 3, warp: 'max', faults: 'late=0.05', layout: 'supermarket', events: 100,
    });
    expect(withScenarioSettings({ scenario, faults: 'schema=0.1', events: 5 })).toMatchObject({ faults: 'schema=0.1', events: 5 });
    expect(withScenarioSettings({ rate: 1 })).toEqual({ rate: 1 });
  });
});
