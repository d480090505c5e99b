/**
 * Scenarios: a timeline of steps played against a run — set the arrival rate or the warp, set a
 * data-fault rate, start or stop an infrastructure fault, end the run (format: docs/scenarios.md).
 * Steps are timed in simulated time since the run's start; infrastructure-fault durations are
 * wall-clock and scaled by `--time-scale` (DESIGN.md, "Headless, clocks and exit codes").
 *
 * Everything here is pure except `loadScenario`, `checkScenarioFile` and `listBundledScenarios`,
 * which read files. A bad scenario is refused before the run starts with every problem listed,
 * each with its JSON path (exit 2).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { FAULT_ALIASES, FAULT_KINDS, type EngineCommand, type FaultKind, type FaultRates } from '../engine/types.js';
import { UserError } from './errors.js';
import { defaultFixturesDir } from './load-fixtures.js';

// ---------------------------------------------------------------------------------------------
// The format

/** Infrastructure faults a scenario can start and stop (DESIGN.md, "Infrastructure faults"). */
export const INFRA_FAULTS = ['broker_down', 'broker_slow', 'db_down', 'db_slow', 'processor_crash', 'sink_crash'] as const;
export type InfraFault = (typeof INFRA_FAULTS)[number];

/** The step kinds, by their `do` value. */
export const STEP_KINDS = ['set_rate', 'rate_multiplier', 'set_warp', 'set_fault', 'start_fault', 'stop_fault', 'end'] as const;
export type StepKind = (typeof STEP_KINDS)[number];

/** Latency of a `broker_slow` / `db_slow` step that names none (wall-clock, before --time-scale). */
export const DEFAULT_SLOW_LATENCY_MS = 500;

/** Run settings a scenario brings; explicit command-line flags win over them. */
export interface ScenarioSettings {
  /** Store layout from fixtures/layouts (checked against the fixtures by the caller). */
  layout?: string;
  seed?: number;
  /** Arrivals per simulated minute (the base rate that `rate_multiplier` multiplies). */
  rate?: number;
  trafficCurve?: 'flat' | 'opening-hours';
  warp?: number | 'max';
  /** Data-fault rates from the start, by canonical name (aliases resolved). */
  faults?: Partial<FaultRates>;
  /** Stop the engine after this many raw messages. */
  events?: number;
}

interface StepBase {
  /** Position in the file's `steps` array (for messages and the command log). */
  index: number;
  /** Simulated ms since the run's start. */
  atMs: number;
  note?: string;
}

/** A checked step, times in milliseconds, fault names canonical. */
export type ScenarioStep = StepBase & (
  | { do: 'set_rate'; perMin: number }
  /** Simulated duration; null = until the next multiplier. */
  | { do: 'rate_multiplier'; factor: number; durationMs: number | null }
  | { do: 'set_warp'; warp: number | 'max' }
  | { do: 'set_fault'; fault: FaultKind; rate: number }
  /**
   * Wall-clock, unscaled. Down/slow: null = until a stop_fault or the end. Crashes: how long the
   * consumer stays down before it is restarted (0 = at once).
   */
  | { do: 'start_fault'; fault: InfraFault; durationMs: number | null; latencyMs: number | null }
  | { do: 'stop_fault'; fault: InfraFault }
  | { do: 'end' }
);

export interface Scenario {
  /** Kebab-case; defaults to the file's name without `.json`. */
  name: string;
  description: string;
  /** What the user should see on the dashboard and in the summary ('' when the file says nothing). */
  expect: string;
  /** The path the scenario was read from (or the `source` given to parseScenario). */
  source: string;
  settings: ScenarioSettings;
  /** In time order (equal times in file order). */
  steps: ScenarioStep[];
}

// ---------------------------------------------------------------------------------------------
// Problems: every one, each with its JSON path

type PathPart = string | number;

/** `steps[3].fault`, `settings.faults.schema`, `(top level)` for the document itself. */
export function jsonPath(path: readonly PathPart[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(p)}]`;
  }
  return out === '' ? '(top level)' : out;
}

class Problems {
  readonly list: string[] = [];
  add(path: readonly PathPart[], message: string): void {
    this.list.push(`${jsonPath(path)}: ${message}`);
  }
}

function show(v: unknown): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function didYouMean(input: string, known: readonly string[]): string {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(input.toLowerCase(), k);
    if (d < bestD) { best = k; bestD = d; }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(best.length / 3)) ? ` — did you mean "${best}"?` : '';
}

// ---------------------------------------------------------------------------------------------
// Times: `30s`, `2m`, `1m30s`, `1.5h`, `250ms`, or a number of seconds

const TIME_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A time or duration → integer ms, or null when it is not one. */
export function parseScenarioTime(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? Math.round(v * 1000) : null;
  if (typeof v !== 'string') return null;
  const s = v.replace(/\s+/g, '');
  if (/^\d+(?:\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  if (s === '') return null;
  let ms = 0;
  TIME_PART.lastIndex = 0;
  while (TIME_PART.lastIndex < s.length) {
    const m = TIME_PART.exec(s);
    if (!m) return null;
    ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  return Math.round(ms);
}

/** 90 000 → `1m30s`, 250 → `250ms`, 0 → `0s`. */
export function formatScenarioTime(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let out = '';
  for (const [unit, size] of [['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) { out += `${n}${unit}`; rest -= n * size; }
  }
  if (rest > 0) out += `${rest}ms`;
  return out;
}

const TIME_HINT = 'a time like 30s, 2m, 1m30s or 250ms, or a number of seconds';

// ---------------------------------------------------------------------------------------------
// Schemas (zod) for the shapes; names, order and cross-step rules are checked by hand below

type IssueLike = { input?: unknown };
const must = (what: string) => (iss: IssueLike) => (iss.input === undefined ? `missing (${what})` : `must be ${what}, got ${show(iss.input)}`);

const num = (what: string) => z.number({ error: must(what) });
const nonNegative = (what: string) => num(what).min(0, { error: must(what) });
const rate01 = num('a rate between 0 and 1').min(0, { error: must('a rate between 0 and 1') }).max(1, { error: must('a rate between 0 and 1') });
const text = (what: string) => z.string({ error: must(what) });

/** An optional time field checked by parseScenarioTime (absent: undefined). */
function time(what: string, opts: { positive?: boolean } = {}) {
  return z.unknown().transform((v, ctx): number => {
    const ms = parseScenarioTime(v);
    if (ms === null || (opts.positive && ms <= 0)) {
      ctx.issues.push({ code: 'custom', message: `${show(v)} is not ${opts.positive ? 'a positive duration' : what} (use ${TIME_HINT})`, input: v });
      return z.NEVER;
    }
    return ms;
  });
}

const warp = z.unknown().transform((v, ctx): number | 'max' => {
  if (v === 'max') return 'max';
  if (typeof v === 'number' && Number.isFinite(v) && v > 0) return v;
  ctx.issues.push({ code: 'custom', message: must('a positive factor (e.g. 20) or "max"')(v === undefined ? {} : { input: v }), input: v });
  return z.NEVER;
});

const rootSchema = z.strictObject({
  name: text('a kebab-case name like "black-friday"').regex(/^[a-z0-9][a-z0-9-]*$/, { error: must('a kebab-case name like "black-friday"') }).optional(),
  description: text('one sentence saying what the scenario does').min(1, { error: 'must not be empty' }),
  expect: text('what the user should see on the dashboard and in the summary').optional(),
  settings: z.unknown().optional(),
  steps: z.array(z.unknown(), { error: must('an array of steps') }),
});

const settingsSchema = z.strictObject({
  layout: text('a layout name from fixtures/layouts').min(1, { error: 'must not be empty' }).optional(),
  seed: num('an integer >= 0').int({ error: must('an integer >= 0') }).min(0, { error: must('an integer >= 0') }).optional(),
  rate: nonNegative('arrivals per simulated minute (>= 0)').optional(),
  trafficCurve: z.enum(['flat', 'opening-hours'], { error: must('"flat" or "opening-hours"') }).optional(),
  warp: warp.optional(),
  faults: z.record(z.string(), rate01, { error: must('an object of data-fault rates like {"schema": 0.01}') }).optional(),
  events: num('a whole number of raw messages >= 1').int({ error: must('a whole number >= 1') }).min(1, { error: must('a whole number >= 1') }).optional(),
});

// at, do and fault are checked by hand (their messages need the other steps and the fault lists).
const stepCommon = { at: z.unknown().optional(), do: z.unknown().optional(), note: text('a note for humans').optional() };
const stepSchemas = {
  set_rate: z.strictObject({ ...stepCommon, perMin: nonNegative('arrivals per simulated minute (>= 0)') }),
  rate_multiplier: z.strictObject({
    ...stepCommon,
    factor: nonNegative('a factor >= 0 applied to the base rate'),
    duration: time('a simulated duration', { positive: true }).optional(),
  }),
  set_warp: z.strictObject({ ...stepCommon, warp }),
  set_fault: z.strictObject({ ...stepCommon, fault: z.unknown().optional(), rate: rate01 }),
  start_fault: z.strictObject({
    ...stepCommon,
    fault: z.unknown().optional(),
    duration: time('a wall-clock duration').optional(),
    latency: time('a wall-clock latency', { positive: true }).optional(),
  }),
  stop_fault: z.strictObject({ ...stepCommon, fault: z.unknown().optional() }),
  end: z.strictObject(stepCommon),
} satisfies Record<StepKind, z.ZodType>;

const ROOT_KEYS = Object.keys(rootSchema.shape);
const SETTINGS_KEYS = Object.keys(settingsSchema.shape);

function addZodIssues(problems: Problems, error: z.ZodError, at: readonly PathPart[], knownKeys: (path: readonly PathPart[]) => readonly string[]): void {
  for (const issue of error.issues) {
    const path = [...at, ...(issue.path as PathPart[])];
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(issue.path as PathPart[]);
      for (const key of issue.keys) problems.add([...path, key], `unknown field (known: ${known.join(', ')})${didYouMean(key, known)}`);
    } else {
      problems.add(path, issue.message);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Fault names

const DATA_HINT = `${FAULT_KINDS.join(', ')}; aliases ${Object.keys(FAULT_ALIASES).join(', ')}`;

function dataFault(v: unknown, path: readonly PathPart[], problems: Problems): FaultKind | null {
  if (typeof v !== 'string') {
    problems.add(path, v === undefined ? `missing (a data fault: ${DATA_HINT})` : `must be a data-fault name (${DATA_HINT}), got ${show(v)}`);
    return null;
  }
  const n = v.trim().toLowerCase();
  const kind = (FAULT_KINDS as readonly string[]).includes(n) ? (n as FaultKind) : FAULT_ALIASES[n];
  if (kind) return kind;
  if ((INFRA_FAULTS as readonly string[]).includes(n)) {
    problems.add(path, `"${v}" is an infrastructure fault: use {"do": "start_fault", "fault": "${n}", "duration": "20s"} (set_fault and settings.faults take data faults)`);
  } else {
    problems.add(path, `unknown fault "${v}" (known: ${DATA_HINT})${didYouMean(n, [...FAULT_KINDS, ...Object.keys(FAULT_ALIASES)])}`);
  }
  return null;
}

function infraFault(v: unknown, path: readonly PathPart[], problems: Problems): InfraFault | null {
  if (typeof v !== 'string') {
    problems.add(path, v === undefined ? `missing (one of ${INFRA_FAULTS.join(', ')})` : `must be an infrastructure-fault name (${INFRA_FAULTS.join(', ')}), got ${show(v)}`);
    return null;
  }
  const n = v.trim().toLowerCase();
  if ((INFRA_FAULTS as readonly string[]).includes(n)) return n as InfraFault;
  const data = (FAULT_KINDS as readonly string[]).includes(n) ? n : FAULT_ALIASES[n];
  if (data) {
    problems.add(path, `"${v}" is a data fault: use {"do": "set_fault", "fault": "${data}", "rate": 0.05} (and rate 0 to stop it)`);
  } else {
    problems.add(path, `unknown fault "${v}" (known: ${INFRA_FAULTS.join(', ')})${didYouMean(n, INFRA_FAULTS)}`);
  }
  return null;
}

const isSlow = (f: InfraFault): boolean => f === 'broker_slow' || f === 'db_slow';
const isCrash = (f: InfraFault): boolean => f === 'processor_crash' || f === 'sink_crash';

// ---------------------------------------------------------------------------------------------
// Parsing

export type ParseResult = { scenario: Scenario } | { problems: string[] };

/**
 * Where JSON.parse gave up, found by a small scanner of its own: V8's messages give a position for
 * some errors and only a snippet for others.
 */
export function locateJsonError(text: string): { pos: number; what: string } | null {
  let i = 0;
  // A declaration (not an arrow) so that TypeScript narrows after calls that never return.
  function fail(what: string): never { throw { pos: i, what }; }
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const word = (w: string) => { if (text.startsWith(w, i)) i += w.length; else fail('expected a value (a string, number, object, array, true, false or null)'); };
  const str = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail('a string is not closed (missing ")');
      const c = text[i]!;
      if (c === '"') { i++; return; }
      if (c === '\n' || c < ' ') fail('a string is not closed on its line (missing ", or a raw line break inside it)');
      if (c === '\\') {
        const e = text[i + 1] ?? '';
        if (e === 'u') { if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) fail('bad \\u escape in a string'); i += 6; continue; }
        if (!'"\\/bfnrt'.includes(e) || e === '') fail(`bad escape \\${e} in a string`);
        i += 2;
        continue;
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === undefined) fail('unexpected end of file (a bracket or brace not closed?)');
    if (c === '{') {
      i++; ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        if (i >= text.length) fail('unexpected end of file (a brace not closed?)');
        if (text[i] !== '"') fail(text[i] === '}' ? 'a comma before } (JSON allows no trailing comma)' : 'expected a property name in double quotes');
        str(); ws();
        if (text[i] !== ':') fail('expected : after the property name');
        i++; value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return; }
        fail(i >= text.length ? 'unexpected end of file (a brace not closed?)' : 'expected , or } after a property value');
      }
    }
    if (c === '[') {
      i++; ws();
      if (text[i] === ']') { i++; return; }
      for (;;) {
        ws();
        if (text[i] === ']') fail('a comma before ] (JSON allows no trailing comma)');
        if (text[i] === ',') fail('expected a value before the comma');
        value(); ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === ']') { i++; return; }
        fail(i >= text.length ? 'unexpected end of file (a bracket not closed?)' : 'expected , or ] after an array element');
      }
    }
    if (c === '"') return str();
    if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) fail('bad number');
      i += m[0].length;
      return;
    }
    if (c === 't') return word('true');
    if (c === 'f') return word('false');
    if (c === 'n') return word('null');
    fail(c === "'" ? 'strings need double quotes' : 'expected a value (a string, number, object, array, true, false or null)');
  };
  try {
    value(); ws();
    if (i < text.length) fail('more text after the end of the JSON value');
    return null;
  } catch (e) {
    if (typeof e === 'object' && e !== null && 'pos' in e) return e as { pos: number; what: string };
    throw e;
  }
}

/** `line 3, column 5: not valid JSON: …` for a document JSON.parse refused. */
function jsonProblem(text: string, err: unknown): string {
  if (text.trim() === '') return '(top level): the file is empty (a scenario is a JSON object: see docs/scenarios.md)';
  const found = locateJsonError(text);
  const pos = found?.pos ?? text.length;
  const what = found?.what ?? (err instanceof Error ? err.message : String(err));
  const before = text.slice(0, pos).split('\n');
  return `line ${before.length}, column ${(before[before.length - 1] ?? '').length + 1}: not valid JSON: ${what}`;
}

function defaultName(source: string): string {
  return basename(source).replace(/\.json$/i, '');
}

/**
 * Checks a scenario's text. Returns the scenario, or every problem found (each `path: message`).
 * `source` names the file (its base name is the default scenario name).
 */
export function parseScenario(text: string, source: string): ParseResult {
  const body = text.replace(/^\uFEFF/, '');
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (err) {
    return { problems: [jsonProblem(body, err)] };
  }
  const problems = new Problems();
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    problems.add([], `must be a JSON object like {"description": "…", "steps": […]}, got ${Array.isArray(doc) ? 'an array' : show(doc)}`);
    return { problems: problems.list };
  }
  const obj = doc as Record<string, unknown>;

  const root = rootSchema.safeParse(obj);
  if (!root.success) addZodIssues(problems, root.error, [], () => ROOT_KEYS);

  const settings = parseSettings(obj.settings, problems);
  const steps = Array.isArray(obj.steps) ? parseSteps(obj.steps, problems) : [];

  if (problems.list.length > 0 || !root.success) return { problems: problems.list };
  return {
    scenario: {
      name: root.data.name ?? defaultName(source),
      description: root.data.description,
      expect: root.data.expect ?? '',
      source,
      settings,
      steps,
    },
  };
}

function parseSettings(raw: unknown, problems: Problems): ScenarioSettings {
  if (raw === undefined) return {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.add(['settings'], `must be an object like {"rate": 6}, got ${show(raw)}`);
    return {};
  }
  const parsed = settingsSchema.safeParse(raw);
  if (!parsed.success) addZodIssues(problems, parsed.error, ['settings'], () => SETTINGS_KEYS);
  const out: ScenarioSettings = {};
  if (parsed.success) {
    const { faults: _faults, ...rest } = parsed.data;
    for (const [k, v] of Object.entries(rest)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  const faults = (raw as Record<string, unknown>).faults;
  if (typeof faults === 'object' && faults !== null && !Array.isArray(faults)) {
    const rates: Partial<FaultRates> = {};
    for (const [name, rate] of Object.entries(faults)) {
      const kind = dataFault(name, ['settings', 'faults', name], problems);
      if (kind && typeof rate === 'number') {
        if (rates[kind] !== undefined) problems.add(['settings', 'faults', name], `sets "${kind}" a second time (aliases: invalid = schema, poison = unparseable)`);
        rates[kind] = rate;
      }
    }
    out.faults = rates;
  }
  return out;
}

function parseSteps(raw: readonly unknown[], problems: Problems): ScenarioStep[] {
  const steps: ScenarioStep[] = [];
  let latest: { ms: number; index: number } | null = null;
  let end: number | null = null;
  /** Infra faults started without a duration and not stopped yet, by the step that started them. */
  const open = new Map<InfraFault, number>();
  const started = new Set<InfraFault>();

  raw.forEach((item, i) => {
    const at: PathPart[] = ['steps', i];
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      problems.add(at, `must be an object like {"at": "30s", "do": "set_rate", "perMin": 12}, got ${show(item)}`);
      return;
    }
    const step = item as Record<string, unknown>;
    const before = problems.list.length;

    // Time and order are checked whatever the kind, so one pass reports everything.
    let atMs: number | null = null;
    if (step.at === undefined) problems.add([...at, 'at'], `missing (${TIME_HINT}, simulated time since the run's start)`);
    else {
      atMs = parseScenarioTime(step.at);
      if (atMs === null) problems.add([...at, 'at'], `${show(step.at)} is not a time (use ${TIME_HINT})`);
    }
    if (atMs !== null) {
      if (latest !== null && atMs < latest.ms) {
        problems.add([...at, 'at'], `${formatScenarioTime(atMs)} is before steps[${latest.index}].at ${formatScenarioTime(latest.ms)} (steps must be in time order)`);
      } else {
        latest = { ms: atMs, index: i };
      }
    }
    if (end !== null) problems.add(at, `comes after the end step (steps[${end}]): move it before the end, or the end after it`);

    const kind = step.do;
    if (typeof kind !== 'string' || !(STEP_KINDS as readonly string[]).includes(kind)) {
      problems.add([...at, 'do'], kind === undefined
        ? `missing (one of ${STEP_KINDS.join(', ')})`
        : `unknown step kind ${show(kind)} (known: ${STEP_KINDS.join(', ')})${typeof kind === 'string' ? didYouMean(kind, STEP_KINDS) : ''}`);
      return;
    }
    const k = kind as StepKind;
    if (k === 'end') {
      if (end === null) end = i;
      else problems.add([...at, 'do'], `a second end step (the first is steps[${end}])`);
    }

    const shape = stepSchemas[k].safeParse(step);
    if (!shape.success) addZodIssues(problems, shape.error, at, () => Object.keys(stepSchemas[k].shape));

    let fault: FaultKind | InfraFault | null = null;
    if (k === 'set_fault') fault = dataFault(step.fault, [...at, 'fault'], problems);
    if (k === 'start_fault' || k === 'stop_fault') fault = infraFault(step.fault, [...at, 'fault'], problems);

    if (k === 'start_fault' && fault !== null) {
      const f = fault as InfraFault;
      if (step.latency !== undefined && !isSlow(f)) problems.add([...at, 'latency'], `only broker_slow and db_slow take a latency ("${f}" does not)`);
      if (!isCrash(f) && step.duration !== undefined && parseScenarioTime(step.duration) === 0) {
        problems.add([...at, 'duration'], `must be above 0 (leave it out to keep ${f} on until a stop_fault or the end)`);
      }
      const openAt = open.get(f);
      if (openAt !== undefined) problems.add([...at, 'fault'], `${f} is already on since steps[${openAt}] (no duration, no stop_fault yet): add a stop_fault first`);
      if (step.duration === undefined && !isCrash(f)) open.set(f, i);
      started.add(f);
    }
    if (k === 'stop_fault' && fault !== null) {
      const f = fault as InfraFault;
      if (!started.has(f)) problems.add([...at, 'fault'], `stop_fault "${f}" has no start_fault of it before (start it first)`);
      open.delete(f);
    }

    if (problems.list.length > before || !shape.success || atMs === null) return;
    const base: StepBase = { index: i, atMs, ...(typeof step.note === 'string' ? { note: step.note } : {}) };
    const d = shape.data as Record<string, unknown>;
    switch (k) {
      case 'set_rate': steps.push({ ...base, do: k, perMin: d.perMin as number }); break;
      case 'rate_multiplier': steps.push({ ...base, do: k, factor: d.factor as number, durationMs: (d.duration as number | undefined) ?? null }); break;
      case 'set_warp': steps.push({ ...base, do: k, warp: d.warp as number | 'max' }); break;
      case 'set_fault': steps.push({ ...base, do: k, fault: fault as FaultKind, rate: d.rate as number }); break;
      case 'start_fault': {
        const f = fault as InfraFault;
        const duration = (d.duration as number | undefined) ?? null;
        const latency = (d.latency as number | undefined) ?? null;
        steps.push({
          ...base, do: k, fault: f,
          durationMs: isCrash(f) ? (duration ?? 0) : duration,
          latencyMs: isSlow(f) ? (latency ?? DEFAULT_SLOW_LATENCY_MS) : null,
        });
        break;
      }
      case 'stop_fault': steps.push({ ...base, do: k, fault: fault as InfraFault }); break;
      case 'end': steps.push({ ...base, do: k }); break;
    }
  });
  return steps;
}

// ---------------------------------------------------------------------------------------------
// Files

/** Where the bundled scenarios live (`<package>/fixtures/scenarios`). */
export function bundledScenariosDir(): string {
  return join(defaultFixturesDir(), 'scenarios');
}

function bundledNames(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
}

/** A bundled name (`black-friday`) or a path → the file to read, or null when there is neither. */
export function findScenarioFile(pathOrName: string, dir: string = bundledScenariosDir()): string | null {
  if (isBundledName(pathOrName) && existsSync(join(dir, `${pathOrName}.json`))) return join(dir, `${pathOrName}.json`);
  return existsSync(pathOrName) ? pathOrName : null;
}

const isBundledName = (s: string): boolean => /^[a-z0-9][a-z0-9-]*$/.test(s);

function notFound(pathOrName: string, dir: string): string {
  const bundled = bundledNames(dir).join(', ') || 'none';
  return `no such file${isBundledName(pathOrName) ? ' and no bundled scenario of that name' : ''} (bundled: ${bundled}; see storesim scenario list)`;
}

/** A scenario with problems: the message is one line listing them all; `problems` has them one by one. */
export class ScenarioError extends UserError {
  override readonly name = 'ScenarioError';
  constructor(readonly file: string, readonly problems: readonly string[]) {
    super(`scenario ${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems.join('; ')}`);
  }
}

/** One line per problem, `FILE: path: message` (what `scenario validate` prints). */
export function scenarioProblemLines(file: string, problems: readonly string[]): string[] {
  return problems.map((p) => `${file}: ${p}`);
}

/** Writes every problem of a ScenarioError one per line (the one-line message is for the top-level handler). */
export function printScenarioProblems(err: ScenarioError, write: (s: string) => void = (s) => process.stderr.write(s)): void {
  for (const line of scenarioProblemLines(err.file, err.problems)) write(`${line}\n`);
}

/** Reads and checks a scenario file or bundled name; problems (including an unreadable file) are returned, not thrown. */
export function checkScenarioFile(pathOrName: string, dir: string = bundledScenariosDir()): ParseResult {
  const file = findScenarioFile(pathOrName, dir);
  if (file === null) return { problems: [notFound(pathOrName, dir)] };
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problems: [`cannot read it (${code === 'EISDIR' ? 'a folder, not a file' : code ?? String(err)})`] };
  }
  return parseScenario(text, file);
}

/** A bundled scenario name or a file path → the checked scenario; throws ScenarioError (exit 2). */
export function loadScenario(pathOrName: string, dir: string = bundledScenariosDir()): Scenario {
  const result = checkScenarioFile(pathOrName, dir);
  if ('problems' in result) throw new ScenarioError(pathOrName, result.problems);
  return result.scenario;
}

export interface BundledScenario { name: string; description: string; expect: string }

/** The bundled scenarios, by name. */
export function listBundledScenarios(dir: string = bundledScenariosDir()): BundledScenario[] {
  return bundledNames(dir).map((name) => {
    const s = loadScenario(join(dir, `${name}.json`), dir);
    return { name, description: s.description, expect: s.expect };
  });
}

// ---------------------------------------------------------------------------------------------
// Playing a scenario

/** A step as the composition root applies it: simulated time since the run's start, wall durations scaled. */
export type TimelineStep = { index: number; atSimMs: number; note?: string } & (
  | { do: 'set_rate'; perMin: number }
  /**
   * Effective rate = base rate × factor (the base is the last set_rate, else the run's rate).
   * `restores` marks the step that ends a multiplier's duration (factor 1).
   */
  | { do: 'rate_multiplier'; factor: number; restores: boolean }
  | { do: 'set_warp'; warp: number | 'max' }
  | { do: 'set_fault'; fault: FaultKind; rate: number }
  /**
   * Wall-clock ms × time scale: the caller stops the fault after `durationWallMs` with a wall timer
   * (null = until a stop_fault or the end). `latencyWallMs` for *_slow, else null.
   */
  | { do: 'start_fault'; fault: InfraFault; durationWallMs: number | null; latencyWallMs: number | null }
  | { do: 'stop_fault'; fault: InfraFault }
  | { do: 'end' }
);

/**
 * The steps to apply, in order. Only wall-clock durations (infrastructure faults) are multiplied by
 * `timeScale`; simulated times are not. A multiplier with a duration adds a `restores` step at its
 * end, unless a later multiplier starts before then (it replaces the first, end included) or the
 * run ends first. At equal times a restore goes before the file's steps.
 */
export function scenarioTimeline(s: Scenario, timeScale = 1): TimelineStep[] {
  if (!(Number.isFinite(timeScale) && timeScale > 0)) {
    throw new UserError(`--time-scale: "${timeScale}" must be a positive number (e.g. 0.1 makes every wall-clock duration 10 times shorter)`);
  }
  const wall = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * timeScale));
  const endMs = s.steps.find((x) => x.do === 'end')?.atMs ?? Infinity;
  const out: { step: TimelineStep; rank: number }[] = [];
  s.steps.forEach((st, pos) => {
    const base = { index: st.index, atSimMs: st.atMs, ...(st.note !== undefined ? { note: st.note } : {}) };
    switch (st.do) {
      case 'set_rate': out.push({ rank: 1, step: { ...base, do: st.do, perMin: st.perMin } }); break;
      case 'rate_multiplier': {
        out.push({ rank: 1, step: { ...base, do: st.do, factor: st.factor, restores: false } });
        if (st.durationMs !== null) {
          const until = st.atMs + st.durationMs;
          const replaced = s.steps.some((o, j) => j > pos && o.do === 'rate_multiplier' && o.atMs < until);
          if (!replaced && until < endMs) out.push({ rank: 0, step: { index: st.index, atSimMs: until, do: 'rate_multiplier', factor: 1, restores: true } });
        }
        break;
      }
      case 'set_warp': out.push({ rank: 1, step: { ...base, do: st.do, warp: st.warp } }); break;
      case 'set_fault': out.push({ rank: 1, step: { ...base, do: st.do, fault: st.fault, rate: st.rate } }); break;
      case 'start_fault':
        out.push({ rank: 1, step: { ...base, do: st.do, fault: st.fault, durationWallMs: wall(st.durationMs), latencyWallMs: wall(st.latencyMs) } });
        break;
      case 'stop_fault': out.push({ rank: 1, step: { ...base, do: st.do, fault: st.fault } }); break;
      case 'end': out.push({ rank: 1, step: { ...base, do: st.do } }); break;
    }
  });
  // Array.prototype.sort is stable: file order is kept among equals.
  out.sort((a, b) => a.step.atSimMs - b.step.atSimMs || a.rank - b.rank);
  return out.map((x) => x.step);
}

export interface ScenarioPlayer {
  /** Steps whose time has come (atSimMs <= simElapsedMs), each returned once, in timeline order. */
  due(simElapsedMs: number): TimelineStep[];
  /** When the next step is due (simulated ms since start), or null when all have been played: run the engine no further than this before calling `due`. */
  readonly nextAtSimMs: number | null;
  readonly done: boolean;
}

/** Plays a timeline between engine chunks. Pure: the caller passes the simulated time elapsed. */
export function createScenarioPlayer(timeline: readonly TimelineStep[]): ScenarioPlayer {
  const steps = [...timeline].sort((a, b) => a.atSimMs - b.atSimMs);
  let next = 0;
  return {
    due(simElapsedMs: number): TimelineStep[] {
      const start = next;
      while (next < steps.length && steps[next]!.atSimMs <= simElapsedMs) next++;
      return steps.slice(start, next);
    },
    get nextAtSimMs() { return next < steps.length ? steps[next]!.atSimMs : null; },
    get done() { return next >= steps.length; },
  };
}

/**
 * Turns rate and data-fault steps into engine commands, keeping the base rate and the multiplier
 * apart so that a multiplier's end restores the base rate, and a set_rate during a multiplier
 * changes the base. Returns null for steps that are not engine commands (warp, infrastructure
 * faults, end): the composition root handles those.
 */
export function createStepCommands(baseRatePerMin: number): {
  engineCommand(step: TimelineStep): EngineCommand | null;
  /** The effective rate after the steps so far. */
  readonly ratePerMin: number;
} {
  let base = baseRatePerMin;
  let factor = 1;
  return {
    engineCommand(step) {
      switch (step.do) {
        case 'set_rate': base = step.perMin; return { type: 'set_rate', perMin: base * factor };
        case 'rate_multiplier': factor = step.factor; return { type: 'set_rate', perMin: base * factor };
        case 'set_fault': return { type: 'set_fault', fault: step.fault, rate: step.rate };
        default: return null;
      }
    },
    get ratePerMin() { return base * factor; },
  };
}
