import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScenarioList, runScenarioAction } from './commands/scenario.js';
import { EXIT, UserError } from './errors.js';
import {
  ScenarioError, bundledScenariosDir, createScenarioPlayer, createStepCommands, listBundledScenarios, loadScenario,
  parseScenario, parseScenarioTime, scenarioTimeline, type Scenario, type TimelineStep,
} from './scenario.js';

const REQUIRED = ['broker-outage', 'db-outage', 'black-friday', 'poison-storm', 'consumer-crash-loop', 'late-and-duplicates', 'surge-with-sink-outage'];

function parse(doc: unknown): ReturnType<typeof parseScenario> {
  return parseScenario(JSON.stringify(doc, null, 2), 'test.json');
}

function ok(doc: unknown): Scenario {
  const r = parse(doc);
  if ('problems' in r) throw new Error(r.problems.join('\n'));
  return r.scenario;
}

function problems(doc: unknown): string[] {
  const r = parse(doc);
  if ('scenario' in r) throw new Error('expected problems, got a valid scenario');
  return r.problems;
}

describe('bundled scenarios', () => {
  const files = readdirSync(bundledScenariosDir()).filter((f) => f.endsWith('.json'));

  it('include every scenario the issue asks for', () => {
    expect(files.map((f) => f.replace(/\.json$/, ''))).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(files)('%s is valid, named after its file, says what to expect and ends', (file) => {
    const s = loadScenario(join(bundledScenariosDir(), file));
    expect(s.name).toBe(file.replace(/\.json$/, ''));
    expect(s.description.length).toBeGreaterThan(20);
    expect(s.expect).toMatch(/verify ok/);
    const ends = s.steps.some((x) => x.do === 'end') || s.settings.events !== undefined;
    expect(ends).toBe(true);
    // The corner shop's default pace: a surge is a multiple of a handful of arrivals a minute.
    expect(s.settings.rate ?? 3).toBeLessThanOrEqual(10);
  });

  it('load by name as well as by path', () => {
    expect(loadScenario('black-friday').name).toBe('black-friday');
  });

  it('black-friday multiplies arrivals by 10 for 2 simulated minutes, then restores them', () => {
    const t = scenarioTimeline(loadScenario('black-friday'));
    const rate = createStepCommands(loadScenario('black-friday').settings.rate ?? 6);
    const surge = t.filter((x) => x.do === 'rate_multiplier');
    expect(surge.map((x) => [x.atSimMs, rate.engineCommand(x)])).toEqual([
      [60_000, { type: 'set_rate', perMin: 60 }],
      [180_000, { type: 'set_rate', perMin: 6 }],
    ]);
  });

  it('list them for `scenario list` within 80 columns', () => {
    const list = listBundledScenarios();
    expect(list.map((s) => s.name)).toEqual(expect.arrayContaining(REQUIRED));
    const text = formatScenarioList(list, 80);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).toMatch(/^black-friday +Arrivals/m);
  });
});

describe('bad scenarios: every problem, with its JSON path', () => {
  it('reports an unknown step kind, times out of order and an unknown fault name together', () => {
    // Given a file with three unrelated mistakes
    const p = problems({
      description: 'three mistakes',
      steps: [
        { at: '5s', do: 'explode' },
        { at: '20s', do: 'set_rate', perMin: 12 },
        { at: '10s', do: 'set_rate', perMin: 6 },
        { at: '30s', do: 'start_fault', fault: 'brokr_down', duration: '20s' },
      ],
    });
    // Then each is reported, at its own path
    expect(p).toEqual([
      expect.stringMatching(/^steps\[0\]\.do: unknown step kind "explode" \(known: set_rate, .*end\)/),
      'steps[2].at: 10s is before steps[1].at 20s (steps must be in time order)',
      expect.stringMatching(/^steps\[3\]\.fault: unknown fault "brokr_down" \(known: broker_down, broker_slow, db_down, db_slow, processor_crash, sink_crash\) — did you mean "broker_down"\?/),
    ]);
  });

  it('refuses bad JSON with one problem giving the line and column', () => {
    const r = parseScenario('{\n  "description": "x",\n  "steps": [,]\n}\n', 'bad.json');
    expect(r).toEqual({ problems: [expect.stringMatching(/^line 3, column 13: not valid JSON: /)] });
    expect(parseScenario('', 'empty.json')).toEqual({ problems: [expect.stringMatching(/empty/)] });
    expect(parseScenario('{"description": "x", "steps": [', 'cut.json')).toEqual({ problems: [expect.stringMatching(/^line 1, column 32: .*end of file/)] });
  });

  it('reports fields, types and fault families', () => {
    const p = problems({
      name: 'Bad Name',
      descripton: 'typo',
      settings: { rate: -1, warp: 0, faults: { poison: 0.5, unparseable: 0.1, broker_down: 1, schema: 2 }, colour: 'red' },
      steps: [
        { at: 'soon', do: 'set_rate', perMin: '6' },
        { at: 60, do: 'set_fault', fault: 'db_down', rate: 0.1 },
        { at: 60, do: 'start_fault', fault: 'schema' },
        { at: 70, do: 'start_fault', fault: 'db_down', latency: '100ms', durtion: '5s' },
        { at: 80, do: 'stop_fault', fault: 'sink_crash' },
        { at: 90, do: 'rate_multiplier', factor: 3, duration: '0s' },
        { at: 100, do: 'end' },
        { at: 100, do: 'set_warp', warp: 'fast' },
        { do: 'end' },
      ],
    });
    const expected = [
      /^name: must be a kebab-case name/,
      /^descripton: unknown field \(known: name, description, expect, settings, steps\) — did you mean "description"\?/,
      /^description: missing/,
      /^settings\.rate: must be arrivals per simulated minute/,
      /^settings\.warp: must be a positive factor/,
      /^settings\.faults\.schema: must be a rate between 0 and 1, got 2/,
      /^settings\.colour: unknown field/,
      /^settings\.faults\.unparseable: sets "unparseable" a second time/,
      /^settings\.faults\.broker_down: "broker_down" is an infrastructure fault: use \{"do": "start_fault"/,
      /^steps\[0\]\.at: "soon" is not a time/,
      /^steps\[0\]\.perMin: must be arrivals per simulated minute \(>= 0\), got "6"/,
      /^steps\[1\]\.fault: "db_down" is an infrastructure fault/,
      /^steps\[2\]\.fault: "schema" is a data fault: use \{"do": "set_fault", "fault": "schema"/,
      /^steps\[3\]\.durtion: unknown field .* did you mean "duration"\?/,
      /^steps\[3\]\.latency: only broker_slow and db_slow take a latency/,
      /^steps\[4\]\.fault: stop_fault "sink_crash" has no start_fault of it before/,
      /^steps\[5\]\.duration: "0s" is not a positive duration/,
      /^steps\[7\]: comes after the end step \(steps\[6\]\)/,
      /^steps\[7\]\.warp: must be a positive factor \(e\.g\. 20\) or "max", got "fast"/,
      /^steps\[8\]\.at: missing/,
      /^steps\[8\]: comes after the end step/,
      /^steps\[8\]\.do: a second end step/,
    ];
    for (const re of expected) expect(p, `no problem matches ${re}`).toContainEqual(expect.stringMatching(re));
    expect(p).toHaveLength(expected.length);
  });

  it('refuses a document that is not an object, and steps that are not objects', () => {
    expect(problems([1, 2])).toEqual(['(top level): must be a JSON object like {"description": "…", "steps": […]}, got an array']);
    expect(problems({ description: 'x', steps: [42] })).toEqual([expect.stringMatching(/^steps\[0\]: must be an object/)]);
    expect(problems({ description: 'x', steps: {} })).toEqual(['steps: must be an array of steps, got {}']);
  });

  it('loadScenario throws one UserError (exit 2) whose one-line message lists every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storesim-scenario-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ description: 'x', steps: [{ at: '2m', do: 'explode' }, { at: '1m', do: 'end' }] }));
    let err: unknown;
    try { loadScenario(file); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ScenarioError);
    expect(err).toBeInstanceOf(UserError);
    const e = err as ScenarioError;
    expect(e.exitCode).toBe(EXIT.usage);
    expect(e.message).not.toContain('\n');
    expect(e.message).toMatch(new RegExp(`^scenario ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: 2 problems: steps\\[0\\]\\.do: unknown step kind "explode".*; steps\\[1\\]\\.at: 1m is before steps\\[0\\]\\.at 2m`));
    expect(() => loadScenario('no-such-scenario')).toThrow(/no such file and no bundled scenario of that name \(bundled: .*black-friday/);
  });
});

describe('times', () => {
  it('accept units, compounds and numbers of seconds', () => {
    expect([30, '30s', '2m', '1m30s', '1.5h', '250ms', '90', ' 1m 5s '].map(parseScenarioTime)).toEqual([30_000, 30_000, 120_000, 90_000, 5_400_000, 250, 90_000, 65_000]);
    expect(['', 'soon', '-5s', '5 parsecs', '1m30', null, -1].map(parseScenarioTime)).toEqual([null, null, null, null, null, null, null]);
  });
});

describe('timeline and player', () => {
  const scenario = ok({
    description: 'a bit of everything',
    settings: { rate: 6 },
    steps: [
      { at: '30s', do: 'set_fault', fault: 'poison', rate: 0.1 },
      { at: '1m', do: 'rate_multiplier', factor: 10, duration: '2m' },
      { at: '1m', do: 'start_fault', fault: 'db_slow', duration: '20s', latency: '300ms' },
      { at: '2m', do: 'start_fault', fault: 'broker_down' },
      { at: '2m30s', do: 'stop_fault', fault: 'broker_down' },
      { at: '3m', do: 'set_rate', perMin: 12 },
      { at: '3m', do: 'set_warp', warp: 'max' },
      { at: '4m', do: 'start_fault', fault: 'sink_crash' },
      { at: '5m', do: 'end' },
    ],
  });

  it('--time-scale scales only wall-clock durations', () => {
    const one = scenarioTimeline(scenario, 1);
    const tenth = scenarioTimeline(scenario, 0.1);
    // Simulated times (steps, the multiplier's end) do not move.
    expect(tenth.map((s) => s.atSimMs)).toEqual(one.map((s) => s.atSimMs));
    expect(one.map((s) => s.atSimMs)).toEqual([30_000, 60_000, 60_000, 120_000, 150_000, 180_000, 180_000, 180_000, 240_000, 300_000]);
    const slow = (t: TimelineStep[]) => t.find((s) => s.do === 'start_fault' && s.fault === 'db_slow');
    expect(slow(one)).toMatchObject({ durationWallMs: 20_000, latencyWallMs: 300 });
    expect(slow(tenth)).toMatchObject({ durationWallMs: 2_000, latencyWallMs: 30 });
    expect(tenth.find((s) => s.do === 'start_fault' && s.fault === 'broker_down')).toMatchObject({ durationWallMs: null, latencyWallMs: null });
    expect(tenth.find((s) => s.do === 'start_fault' && s.fault === 'sink_crash')).toMatchObject({ durationWallMs: 0 });
    expect(() => scenarioTimeline(scenario, 0)).toThrow(UserError);
  });

  it('puts a multiplier\'s end before the file\'s steps at the same time, and maps poison to unparseable', () => {
    const t = scenarioTimeline(scenario);
    expect(t[0]).toMatchObject({ do: 'set_fault', fault: 'unparseable', rate: 0.1 });
    expect(t.slice(5, 8).map((s) => s.do)).toEqual(['rate_multiplier', 'set_rate', 'set_warp']);
    expect(t[5]).toMatchObject({ restores: true, factor: 1 });
  });

  it('a later multiplier replaces an earlier one, end included', () => {
    const t = scenarioTimeline(ok({
      description: 'two surges',
      steps: [{ at: '1m', do: 'rate_multiplier', factor: 10, duration: '5m' }, { at: '2m', do: 'rate_multiplier', factor: 2, duration: '1m' }],
    }));
    expect(t.map((s) => s.do === 'rate_multiplier' && [s.atSimMs, s.factor])).toEqual([[60_000, 10], [120_000, 2], [180_000, 1]]);
  });

  it('the player returns each step once, in order, as simulated time passes', () => {
    const timeline = scenarioTimeline(scenario);
    const player = createScenarioPlayer(timeline);
    expect(player.nextAtSimMs).toBe(30_000);
    expect(player.due(0)).toEqual([]);
    expect(player.due(29_999)).toEqual([]);
    const seen: TimelineStep[] = [...player.due(30_000), ...player.due(30_000)];
    expect(seen).toHaveLength(1);
    expect(player.nextAtSimMs).toBe(60_000);
    for (let ms = 30_000; ms <= 400_000; ms += 7_000) seen.push(...player.due(ms));
    seen.push(...player.due(10_000)); // time going back changes nothing
    expect(seen).toEqual(timeline);
    expect(player.done).toBe(true);
    expect(player.nextAtSimMs).toBeNull();
    expect(player.due(1e12)).toEqual([]);
  });

  it('a set_rate during a multiplier changes the base rate', () => {
    const rate = createStepCommands(6);
    const cmds = scenarioTimeline(scenario).map((s) => rate.engineCommand(s));
    expect(cmds.filter((c) => c !== null)).toEqual([
      { type: 'set_fault', fault: 'unparseable', rate: 0.1 },
      { type: 'set_rate', perMin: 60 },
      { type: 'set_rate', perMin: 6 },
      { type: 'set_rate', perMin: 12 },
    ]);
    expect(rate.ratePerMin).toBe(12);
  });
});

describe('scenario validate', () => {
  it('prints ok or every problem, and returns exit 2 when any file has one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'storesim-validate-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ description: 'x', steps: [{ at: '1m', do: 'nap' }, { at: '1m', do: 'stop_fault', fault: 'dbdown' }] }));
    let out = '';
    const io = { write: (s: string) => { out += s; }, columns: 80, dir: bundledScenariosDir() };
    expect(runScenarioAction('validate', ['black-friday', bad], io)).toBe(EXIT.usage);
    expect(out.split('\n')).toEqual([
      'ok black-friday',
      expect.stringMatching(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: steps\\[0\\]\\.do: unknown step kind "nap"`)),
      expect.stringMatching(/: steps\[1\]\.fault: unknown fault "dbdown" .*did you mean "db_down"/),
      '',
    ]);
    out = '';
    expect(runScenarioAction('validate', ['db-outage'], io)).toBe(EXIT.ok);
    expect(out).toBe('ok db-outage\n');
    expect(runScenarioAction('validate', [join(dir, 'missing.json')], io)).toBe(EXIT.usage);
    expect(out).toMatch(/missing\.json: no such file/);
    expect(() => runScenarioAction('validate', [], io)).toThrow(UserError);
  });
});
