/**
 * Turns for the event loop between batches. The in-process bus delivers batches in microtasks only,
 * so a consumer must give timers (checkpoints, heartbeats, progress, signals, the dashboard) their
 * turn; but a turn after every batch costs more than the batch when batches are small (the
 * processor's flow control cuts them to tens of messages): a turn at most every `everyMs`.
 */
export function createYielder(everyMs = 4, now: () => number = () => performance.now()): () => Promise<void> | undefined {
  let last = now();
  return () => {
    const t = now();
    if (t - last < everyMs) return undefined;
    return new Promise<void>((r) => setImmediate(() => {
      last = now();
      r();
    }));
  };
}
