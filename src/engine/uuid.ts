/**
 * UUIDv7 (RFC 9562 section 5.7) from simulated time and the seeded generator: 48-bit Unix ms,
 * version 7, 12 random bits, variant 10, 62 random bits. Built from a 4-hex-digit lookup table and
 * a per-millisecond cached prefix, because the engine makes one per event.
 */
import type { Rng } from './random.js';

const HEX4: string[] = new Array<string>(65536);
for (let i = 0; i < 65536; i++) HEX4[i] = i.toString(16).padStart(4, '0');

export class UuidV7 {
  private lastMs = -1;
  private prefix = '';

  /** A UUIDv7 for epoch ms `ms`, random bits from `rng` (three 32-bit draws). */
  make(ms: number, rng: Rng): string {
    if (ms !== this.lastMs) {
      this.lastMs = ms;
      const hi = Math.floor(ms / 4294967296) & 0xffff;
      const mid = Math.floor(ms / 65536) & 0xffff;
      const lo = ms & 0xffff;
      this.prefix = HEX4[hi]! + HEX4[mid]! + '-' + HEX4[lo]! + '-';
    }
    const r1 = rng.nextU32();
    const r2 = rng.nextU32();
    const r3 = rng.nextU32();
    return this.prefix + HEX4[0x7000 | (r1 & 0xfff)]! + '-' + HEX4[0x8000 | ((r1 >>> 12) & 0x3fff)]! + '-' +
      HEX4[r2 & 0xffff]! + HEX4[r2 >>> 16]! + HEX4[r3 & 0xffff]!;
  }
}
