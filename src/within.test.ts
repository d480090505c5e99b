import { afterEach, describe, expect, it, vi } from 'vitest';
import { within } from './within.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('within', () => {
  it('gives the promise\'s value when it comes first, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    await expect(within(Promise.resolve(7), 1_000)).resolves.toBe(7);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives undefined once the time has passed first, and leaves no timer behind', async () => {
    vi.useFakeTimers();
    const never = new Promise<number>(() => undefined);
    const waited = within(never, 1_000);
    await vi.advanceTimersByTimeAsync(999);
    let settled = false;
    void waited.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(waited).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes a rejection on', async () => {
    await expect(within(Promise.reject(new Error('refused')), 1_000)).rejects.toThrow('refused');
  });
});
