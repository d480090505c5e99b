/**
 * Engine configuration defaults (DESIGN.md "Headless, clocks", "Event time"). Every choice here is
 * documented in docs/engine.md.
 */
import { FAULT_KINDS, NO_FAULTS } from './types.js';
import type { Distribution, EngineConfig, FaultRates } from './types.js';

/** 2026-11-23T08:00:00Z: a Monday the discount fixtures cover. */
export const DEFAULT_START_MS = Date.UTC(2026, 10, 23, 8, 0, 0);

export type ResolvedEngineConfig = Required<EngineConfig>;

export interface EngineConfigOverrides extends Partial<Omit<EngineConfig, 'faults'>> {
  faults?: Partial<FaultRates>;
}

/**
 * The default configuration with `overrides` applied. Defaults: seed 1, start 2026-11-23T08:00Z,
 * layout `corner-shop`, 3 arrivals/min at the opening-hours peak (a corner shop with two tills:
 * about 1.6/min at 08:00 and 3/min at the 18:00 peak, which two lanes at 45 s a customer just
 * carry), list size lognormal mean 4, service exponential mean 45 s, shortest-queue lanes,
 * grace 30 s, markers every 10 s, dedup window 120 s, visits capped at 3 h, no forced empty
 * checkout, no data faults.
 */
export function defaultEngineConfig(overrides: EngineConfigOverrides = {}): ResolvedEngineConfig {
  const base: ResolvedEngineConfig = {
    seed: 1,
    startMs: DEFAULT_START_MS,
    layout: 'corner-shop',
    ratePerMin: 3,
    trafficCurve: 'opening-hours',
    listSize: { kind: 'lognormal', mean: 4, sd: 3 },
    serviceTimeSec: { kind: 'exponential', mean: 45 },
    queueDiscipline: 'shortest',
    faults: { ...NO_FAULTS },
    graceMs: 30_000,
    markerIntervalMs: 10_000,
    dedupWindowMs: 120_000,
    maxSessionAgeSec: 10_800,
    forceCheckoutIfEmpty: false,
    renegePatienceSec: { kind: 'exponential', mean: 480 },
    walkMsPerCell: 700,
    dwellSec: { kind: 'exponential', mean: 20 },
    abandonProb: 0.04,
    putbackProb: 0.1,
  };
  const { faults, ...rest } = overrides;
  const out: ResolvedEngineConfig = { ...base };
  for (const [k, v] of Object.entries(rest)) {
    if (v !== undefined) (out as unknown as Record<string, unknown>)[k] = v;
  }
  out.faults = { ...NO_FAULTS, ...(faults ?? {}) };
  return out;
}

/** Fills behaviour knobs a caller's config may lack and checks every field; throws a one-line Error. */
export function resolveEngineConfig(config: EngineConfig): ResolvedEngineConfig {
  const d = defaultEngineConfig();
  const c: ResolvedEngineConfig = {
    ...config,
    faults: { ...NO_FAULTS, ...config.faults },
    renegePatienceSec: config.renegePatienceSec === undefined ? d.renegePatienceSec : config.renegePatienceSec,
    walkMsPerCell: config.walkMsPerCell ?? d.walkMsPerCell,
    dwellSec: config.dwellSec ?? d.dwellSec,
    abandonProb: config.abandonProb ?? d.abandonProb,
    putbackProb: config.putbackProb ?? d.putbackProb,
  };
  const bad = (msg: string): never => { throw new Error(`engine config: ${msg}`); };
  if (!Number.isFinite(c.seed)) bad(`seed must be a number, got ${String(c.seed)}`);
  if (!Number.isFinite(c.startMs)) bad('startMs must be epoch milliseconds');
  if (!(c.ratePerMin >= 0) || !Number.isFinite(c.ratePerMin)) bad(`ratePerMin must be >= 0, got ${c.ratePerMin}`);
  if (c.trafficCurve !== 'flat' && c.trafficCurve !== 'opening-hours') bad(`unknown trafficCurve ${String(c.trafficCurve)}`);
  if (c.queueDiscipline !== 'shortest' && c.queueDiscipline !== 'shared') bad(`unknown queueDiscipline ${String(c.queueDiscipline)}`);
  for (const k of FAULT_KINDS) {
    const r = c.faults[k];
    if (!(r >= 0 && r <= 1)) bad(`fault rate ${k}=${r} must be between 0 and 1`);
  }
  for (const [k, v] of Object.entries(c.faults)) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) bad(`unknown fault kind ${k}`);
    void v;
  }
  if (!(c.graceMs >= 0)) bad('graceMs must be >= 0');
  if (!(c.markerIntervalMs > 0)) bad('markerIntervalMs must be > 0');
  if (!(c.dedupWindowMs >= 2)) bad('dedupWindowMs must be >= 2');
  if (!(c.maxSessionAgeSec > 0)) bad('maxSessionAgeSec must be > 0');
  if (!(c.walkMsPerCell >= 0)) bad('walkMsPerCell must be >= 0');
  if (!(c.abandonProb >= 0 && c.abandonProb <= 1)) bad('abandonProb must be between 0 and 1');
  if (!(c.putbackProb >= 0 && c.putbackProb <= 1)) bad('putbackProb must be between 0 and 1');
  for (const [name, dist] of [['listSize', c.listSize], ['serviceTimeSec', c.serviceTimeSec], ['dwellSec', c.dwellSec]] as [string, Distribution][]) {
    checkDistribution(name, dist, bad);
  }
  if (c.renegePatienceSec !== null) checkDistribution('renegePatienceSec', c.renegePatienceSec, bad);
  return c;
}

function checkDistribution(name: string, d: Distribution, bad: (m: string) => never): void {
  switch (d?.kind) {
    case 'exponential': if (!(d.mean >= 0)) bad(`${name}: mean must be >= 0`); return;
    case 'fixed': if (!(d.value >= 0)) bad(`${name}: value must be >= 0`); return;
    case 'uniform': if (!(d.min >= 0 && d.max >= d.min)) bad(`${name}: need 0 <= min <= max`); return;
    case 'lognormal': if (!(d.mean > 0 && d.sd >= 0)) bad(`${name}: need mean > 0 and sd >= 0`); return;
    default: bad(`${name}: unknown distribution ${JSON.stringify(d)}`);
  }
}
