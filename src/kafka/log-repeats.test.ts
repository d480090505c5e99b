import { describe, expect, it } from 'vitest';
import { createRepeatFilter } from './log-repeats.js';

describe('repeat filter (kafkajs log lines)', () => {
  it('writes a line once per window, then with the count of the repeats held; flush gives the rest', () => {
    let t = Date.UTC(2026, 11, 3, 12, 59, 7);
    const f = createRepeatFilter(30_000, () => t);
    const a = 'kafkajs error [Connection] Connection error: connect ECONNREFUSED 127.0.0.1:9092';
    const b = 'kafkajs error [BrokerPool] Failed to connect to seed broker';
    expect(f.pass(a)).toBe(a);
    expect(f.pass(b)).toBe(b);
    for (let i = 0; i < 5; i++) {
      t += 1_000;
      expect(f.pass(a)).toBeNull();
      expect(f.pass(b)).toBeNull();
    }
    t += 30_000;
    expect(f.pass(a)).toBe(`${a} (5 more like it since 12:59:07 UTC)`);
    t += 1_000;
    expect(f.pass(a)).toBeNull();
    expect(f.flush()).toEqual([
      `${a} (1 more like it since 12:59:42 UTC)`,
      `${b} (5 more like it since 12:59:07 UTC)`,
    ]);
    expect(f.flush()).toEqual([]);
    expect(f.pass(a)).toBe(a);
  });

  it('passes a line seen once, and a line after a quiet window, as it is', () => {
    let t = 0;
    const f = createRepeatFilter(30_000, () => t);
    expect(f.pass('x')).toBe('x');
    t = 31_000;
    expect(f.pass('x')).toBe('x');
    expect(f.flush()).toEqual([]);
  });
});
