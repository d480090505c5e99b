/**
 * What each bundled scenario should end with, checked the same way on the in-process bus and SQLite
 * (faults-scenarios.test.ts) and on Kafka and PostgreSQL (faults-scenarios-kafka.test.ts).
 */
import { expect } from 'vitest';
import type { FaultRecord } from '../src/faults.js';
import type { CommandLogEntry } from '../src/db/types.js';
import type { summaryOf } from './cli-helpers.js';

export interface ScenarioSummary extends ReturnType<typeof summaryOf> { faults: FaultRecord[] }

export interface Expectation {
  /** Dead-letter codes the scenario's data faults may make; none for the others. */
  codes: string[];
  /** Infrastructure faults the summary reports, in order, with the duration each should last (s, scaled), null = restarted at once. */
  faults: Array<[string, number | null]>;
  /** Extra flags (the crash loop runs at a warp so its crashes are spread over seconds, not microseconds). */
  flags?: string[];
}

export const EXPECT: Record<string, Expectation> = {
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


/**
 * Verify ok; no dead letter but the codes of the scenario's data faults; every infrastructure fault
 * in the summary with its start, duration (scaled by `timeScale`, 0.1 in the table), peak backlog
 * and drain time.
 */
export function expectScenarioSummary(name: string, want: Expectation, s: ScenarioSummary, slackS = 3): void {
  expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
  expect(s.produced).toBeGreaterThan(50);
  const codes = Object.keys(s.rejected_by_code);
  expect(codes.filter((c) => !want.codes.includes(c))).toEqual([]);
  if (want.codes.length === 0) expect(s.rejected).toBe(0);

  expect(s.faults.map((f) => f.name)).toEqual(want.faults.map(([n]) => n));
  s.faults.forEach((f, i) => {
    const planned = want.faults[i]![1];
    expect(Date.parse(f.started_at)).toBeGreaterThan(Date.now() - 300_000);
    expect(f.duration_s).not.toBeNull();
    if (planned === null) expect(f.duration_s!).toBeLessThan(5 + slackS);
    else {
      expect(f.duration_s!).toBeGreaterThanOrEqual(planned - 0.05);
      expect(f.duration_s!).toBeLessThan(planned + slackS);
    }
    expect(f.peak_backlog).toBeGreaterThanOrEqual(0);
    expect(f.drain_s).not.toBeNull();
  });
  if (name === 'broker-outage' || name === 'db-outage' || name === 'surge-with-sink-outage') {
    // An outage leaves a backlog behind it.
    expect(s.faults[0]!.peak_backlog).toBeGreaterThan(0);
  }
}

/** Every scenario step that does not change the stream is in the run's command log too. */
export function expectFaultsLogged(want: Expectation, log: CommandLogEntry[]): void {
  expect(log.filter((e) => e.command.type === 'start_fault').map((e) => e.command.fault)).toEqual(want.faults.map(([n]) => n));
}
