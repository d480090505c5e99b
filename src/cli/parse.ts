/** Pure parsers for flag values; each throws a UserError naming the flag and the fix. */
import { FAULT_ALIASES, FAULT_KINDS, NO_FAULTS, type FaultKind, type FaultRates } from '../engine/types.js';
import { UserError } from './errors.js';

export function parseFaultName(name: string, flag = '--faults'): FaultKind {
  const n = name.trim().toLowerCase();
  const kind = (FAULT_KINDS as readonly string[]).includes(n) ? (n as FaultKind) : FAULT_ALIASES[n];
  if (!kind) throw new UserError(`${flag}: unknown fault "${name}" (known: ${FAULT_KINDS.join(', ')}; aliases invalid, poison)`);
  return kind;
}

/** `schema=0.01,late=0.005` → rates; `all=0.01` sets every fault. Empty string → no faults. */
export function parseFaults(spec: string | undefined, flag = '--faults'): FaultRates {
  const rates: FaultRates = { ...NO_FAULTS };
  if (!spec || spec.trim() === '') return rates;
  for (const part of spec.split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UserError(`${flag}: "${p}" is not NAME=RATE (e.g. ${flag} schema=0.01,late=0.005)`);
    const name = p.slice(0, eq);
    const raw = p.slice(eq + 1).trim();
    const rate = Number(raw);
    if (raw === '' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
      throw new UserError(`${flag}: rate "${raw}" for ${name} must be a number between 0 and 1`);
    }
    if (name.trim().toLowerCase() === 'all') {
      for (const k of FAULT_KINDS) rates[k] = rate;
    } else {
      rates[parseFaultName(name, flag)] = rate;
    }
  }
  return rates;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `30s`, `2m`, `1.5h`, `500ms`, or a bare number of seconds → milliseconds. */
export function parseDuration(value: string | number, flag: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new UserError(`${flag}: "${value}" must be a non-negative duration like 30s, 2m or 1h`);
    return value * 1000;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value);
  if (!m) throw new UserError(`${flag}: "${value}" is not a duration (use e.g. 30s, 2m, 1h)`);
  return Number(m[1]) * UNITS[m[2] ?? 's']!;
}

/** A positive number (or zero when allowed) for a numeric flag. */
export function checkNumber(value: unknown, flag: string, opts: { min?: number; integer?: boolean; allowZero?: boolean } = {}): number {
  const n = typeof value === 'number' ? value : Number(value);
  const min = opts.min ?? 0;
  const zeroRefused = !opts.allowZero && min === 0;
  if (!Number.isFinite(n) || n < min || (zeroRefused && n === 0) || (opts.integer && !Number.isInteger(n))) {
    const what = opts.integer ? 'an integer' : 'a number';
    throw new UserError(`${flag}: "${String(value)}" must be ${what} ${zeroRefused ? '>' : '>='} ${min}`);
  }
  return n;
}

/** `--start`: an ISO date-time, `now`, or undefined → the fixed default 2026-11-23T08:00:00Z. */
export const DEFAULT_START_MS = Date.UTC(2026, 10, 23, 8, 0, 0);
export function parseStart(value: string | undefined, now: () => number = Date.now): number {
  if (value === undefined) return DEFAULT_START_MS;
  if (value === 'now') return Math.floor(now() / 1000) * 1000;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) throw new UserError(`--start: "${value}" is not a date-time (use ISO-8601 like 2026-11-23T08:00:00Z, or now)`);
  return ms;
}

/** `--warp`: a factor >= 0.1 or `max`. */
export function parseWarp(value: string | number | undefined, fallback: number | 'max'): number | 'max' {
  if (value === undefined) return fallback;
  if (value === 'max') return 'max';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`--warp: "${String(value)}" must be a positive factor (e.g. 10) or max`);
  return n;
}
