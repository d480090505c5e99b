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
import type { CommandLogEntry } from '../src/db/types.js';
import { runCli, stderrLines, summaryOf, tempDir, withSqlite } from './cli-helpers.js';
import { EXPECT, expectFaultsLogged, expectScenarioSummary, type ScenarioSummary } from './scenario-expect.js';

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
      const s = summaryOf(r) as ScenarioSummary;
      expectScenarioSummary(name, want, s);

      // Every scenario step that does not change the stream is in the run's command log too.
      const log = withSqlite(db, (d) => JSON.parse((d.prepare('SELECT command_log FROM runs WHERE run_id = ?').pluck().get(s.run_id) as string)) as CommandLogEntry[]);
      expectFaultsLogged(want, log);
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
