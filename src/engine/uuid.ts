/**
 * UUIDv7 (RFC 9562 section 5.7) from simulated time and the seeded generator: 48-bit Unix ms,
 * version 7, 12 random bits, variant 10, 62 random bits. The engine makes one per event, so it is
 * built with String.fromCharCode (one flat string, about twice as fast as concatenating table
 * lookups), with the `xxxxxxxx-xxxx-` time prefix cached per millisecond.
 */
import type { Rng } from './random.js';

const H = new Uint8Array(16);
for (let i = 0; i < 16; i++) H[i] = '0123456789abcdef'.charCodeAt(i);
const DASH = 45;
const SEVEN = 55;
const fc = String.fromCharCode;

export class UuidV7 {
  private lastMs = -1;
  private prefix = '';

  /** A UUIDv7 for epoch ms `ms` (0 <= ms < 2^48), random bits from `rng` (three 32-bit draws). */
  make(ms: number, rng: Rng): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      const hi = Math.floor(ms / 16777216) | 0;
      const lo = (ms - hi * 16777216) | 0;
      this.prefix = fc(H[(hi >>> 20) & 15]!, H[(hi >>> 16) & 15]!, H[(hi >>> 12) & 15]!, H[(hi >>> 8) & 15]!,
        H[(hi >>> 4) & 15]!, H[hi & 15]!, H[(lo >>> 20) & 15]!, H[(lo >>> 16) & 15]!, DASH,
        H[(lo >>> 12) & 15]!, H[(lo >>> 8) & 15]!, H[(lo >>> 4) & 15]!, H[lo & 15]!, DASH);
    }
    const a = rng.nextU32();
    const b = rng.nextU32();
    const c = rng.nextU32();
    // a: 12 bits rand_a, then 2 + 12 bits after the variant; b and c: the last 48 bits of rand_b.
    return this.prefix + fc(SEVEN, H[(a >>> 8) & 15]!, H[(a >>> 4) & 15]!, H[a & 15]!, DASH,
      H[8 | ((a >>> 12) & 3)]!, H[(a >>> 14) & 15]!, H[(a >>> 18) & 15]!, H[(a >>> 22) & 15]!, DASH,
      H[b & 15]!, H[(b >>> 4) & 15]!, H[(b >>> 8) & 15]!, H[(b >>> 12) & 15]!,
      H[(b >>> 16) & 15]!, H[(b >>> 20) & 15]!, H[(b >>> 24) & 15]!, H[b >>> 28]!,
      H[c & 15]!, H[(c >>> 4) & 15]!, H[(c >>> 8) & 15]!, H[(c >>> 12) & 15]!);
  }
}
