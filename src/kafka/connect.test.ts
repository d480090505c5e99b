/** connectWithin: the first connection's deadline, and what happens to a connect that outlives it. */
import { describe, expect, it } from 'vitest';
import { KafkaUnreachableError } from './errors.js';
import { connectWithin } from './connect.js';

describe('connectWithin', () => {
  it('gives up at the deadline, and aborts again a connect that succeeds after it', async () => {
    // kafkajs retries a connect after disconnect(): one that succeeded late kept a finished run alive.
    let succeed!: () => void;
    const late = new Promise<void>((resolve) => { succeed = resolve; });
    let aborts = 0;
    let abortedAgain!: () => void;
    const again = new Promise<void>((resolve) => { abortedAgain = resolve; });
    const abort = async (): Promise<void> => {
      if (++aborts === 2) abortedAgain();
    };

    const err = await connectWithin('test connection', '127.0.0.1:9092', 50, () => late, abort).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KafkaUnreachableError);
    expect((err as Error).message).toMatch(/did not answer within 0 s \(test connection\)/);
    expect(aborts).toBe(1);

    succeed();
    await again; // times out (the test fails) when the late connection is left open
    expect(aborts).toBe(2);
  });

  it('does not abort a connect that succeeds in time', async () => {
    let aborts = 0;
    await connectWithin('test connection', '127.0.0.1:9092', 1_000, async () => undefined, async () => { aborts++; });
    expect(aborts).toBe(0);
  });
});
