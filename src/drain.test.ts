import { describe, expect, it } from 'vitest';
import type { Database, RunCounts } from './db/types.js';
import { drain, drainPollMs } from './main.js';

const counts = (staging: number): RunCounts => ({
  staging, rejected: 0, rejectedByCode: {}, transactions: 1, revenueCents: 100, visits: 1, visitsByStatus: { purchased: 1 },
});

/** A database whose counts() answers from `answers` in turn (the last one repeats). */
function countingDb(answers: number[]): { db: Database; calls: () => number } {
  let n = 0;
  const db = { counts: async () => counts(answers[Math.min(n++, answers.length - 1)]!) } as unknown as Database;
  return { db, calls: () => n };
}

describe('drain', () => {
  it('waits 100 ms after a quick count, three times the count after a slow one, at most 2 s', () => {
    expect(drainPollMs(0)).toBe(100);
    expect(drainPollMs(30)).toBe(100);
    expect(drainPollMs(40)).toBe(120);
    expect(drainPollMs(400)).toBe(1_200);
    expect(drainPollMs(5_000)).toBe(2_000);
  });

  it('returns true once the database holds what was produced, counting until then', async () => {
    const { db, calls } = countingDb([3, 7, 10]);
    expect(await drain(db, 'run', { produced: 10, transactions: 1, visits: 1 }, 5_000)).toBe(true);
    expect(calls()).toBe(3);
  });

  it('returns false when the counts stop moving for the timeout', async () => {
    const { db } = countingDb([3, 4]);
    expect(await drain(db, 'run', { produced: 10, transactions: 1, visits: 1 }, 300)).toBe(false);
  });
});
