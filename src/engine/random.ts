/**
 * Seeded randomness for the engine: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator,
 * 32-bit variant, as in PractRand) seeded through splitmix32. Never Math.random: a run must replay.
 * Separate streams (behaviour, faults) come from the same seed with different salts, so that fault
 * draws never shift the store's own draws.
 */
import type { Distribution } from './types.js';

/** One step of splitmix32 on `state`; returns [next state, output]. */
function splitmix32(state: number): [number, number] {
  const s = (state + 0x9e3779b9) | 0;
  let z = s;
  z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
  z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
  z = z ^ (z >>> 15);
  return [s, z >>> 0];
}

const TWO_POW_32 = 4294967296;

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** A spare normal deviate from Box-Muller. */
  private spare = NaN;

  constructor(seed: number, salt = 0) {
    let s = (Math.floor(seed) ^ Math.imul(salt | 0, 0x632be5ab)) | 0;
    // Mix the high bits of seeds above 2^32 in too.
    s = (s ^ Math.floor(seed / TWO_POW_32)) | 0;
    let out: number;
    [s, out] = splitmix32(s); this.a = out | 0;
    [s, out] = splitmix32(s); this.b = out | 0;
    [s, out] = splitmix32(s); this.c = out | 0;
    [, out] = splitmix32(s); this.d = out | 0;
    // Warm up, as recommended for sfc32.
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Next unsigned 32-bit integer. */
  nextU32(): number {
    const a = this.a, b = this.b, c = this.c, d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    this.c = ((c << 21) | (c >>> 11)) + t | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / TWO_POW_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  normal(): number {
    if (this.spare === this.spare) {
      const s = this.spare;
      this.spare = NaN;
      return s;
    }
    let u = this.float();
    while (u === 0) u = this.float();
    const v = this.float();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** A draw from `dist` (never negative for the distributions the engine uses). */
  sample(dist: Distribution): number {
    switch (dist.kind) {
      case 'exponential': return this.exponential(dist.mean);
      case 'fixed': return dist.value;
      case 'uniform': return dist.min + this.float() * (dist.max - dist.min);
      case 'lognormal': {
        if (dist.sd <= 0) return dist.mean;
        const s2 = Math.log(1 + (dist.sd * dist.sd) / (dist.mean * dist.mean));
        const mu = Math.log(dist.mean) - s2 / 2;
        return Math.exp(mu + Math.sqrt(s2) * this.normal());
      }
    }
  }
}

/** Stream salts: one generator per concern, all from the run's seed. */
export const STREAM = { behaviour: 1, faults: 2 } as const;
