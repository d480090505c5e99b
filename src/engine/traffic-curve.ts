/**
 * Arrival-rate curves as a fraction (0..1] of the configured peak rate by time of day (UTC, which
 * is the store's clock). `opening-hours`: a small shop open early to late, with a lunch peak and a
 * bigger after-work peak, and a trickle at night (a corner shop that never quite closes).
 */
import type { EngineConfig } from './types.js';

/** Fraction of the peak at each whole hour 0..24 (linear in between). */
const OPENING_HOURS: readonly number[] = [
  0.04, 0.03, 0.02, 0.02, 0.02, 0.04, 0.1, 0.3, 0.55, 0.5, 0.45, 0.6, 0.95, 0.85, 0.55, 0.5,
  0.65, 0.9, 1.0, 0.8, 0.55, 0.35, 0.18, 0.08, 0.04,
];

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export function curveFactor(curve: EngineConfig['trafficCurve'], ms: number): number {
  if (curve === 'flat') return 1;
  const inDay = ((ms % DAY_MS) + DAY_MS) % DAY_MS;
  const h = Math.floor(inDay / HOUR_MS);
  const f = (inDay - h * HOUR_MS) / HOUR_MS;
  const a = OPENING_HOURS[h]!;
  const b = OPENING_HOURS[h + 1]!;
  return a + (b - a) * f;
}
