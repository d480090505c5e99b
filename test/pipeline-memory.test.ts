/**
 * Memory stays flat on a long run (DESIGN.md, Promises): the processor's carts, held events and
 * dedup ids, sampled through the run, do not grow with it. In-process (memory bus, SQLite); the
 * memory bus itself keeps every message, so this looks at the processor's state only.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from '../src/db/types.js';
import { OUTPUT_BACKLOG } from '../src/pipeline/processor.js';
import type { PendingCounts } from '../src/pipeline/processor-core.js';
import { createPipeline, VERIFY_OK, waitUntil } from './pipeline-harness.js';

describe('memory', () => {
  it('keeps carts, held events and dedup ids bounded on a long run', async () => {
    // Given a long run at a steady, busy rate
    const events = 200_000;
    const p = await createPipeline({ events, partitions: 4, ratePerMin: 60, trafficCurve: 'flat', faultRate: 0.002, recordLedger: false });
    try {
      await p.startSink();
      const processor = await p.startProcessor();
      // Sampled through the run, placed afterwards by how far the processor had read
      const samples: { at: number; counts: PendingCounts }[] = [];
      const timer = setInterval(() => samples.push({ at: processor.stats().consumed, counts: processor.pendingCounts() }), 20);
      p.startEngine();
      // When it has all gone through
      try {
        expect(await p.drained(20_000)).toBe(true);
      } finally {
        clearInterval(timer);
      }
      const total = await p.rawMessages();
      const quarters: PendingCounts[] = Array.from({ length: 4 }, () => ({ runs: 0, carts: 0, held: 0, dedupIds: 0 }));
      for (const { at, counts } of samples) {
        const q = quarters[Math.min(3, Math.floor((at / total) * 4))]!;
        q.runs = Math.max(q.runs, counts.runs);
        q.carts = Math.max(q.carts, counts.carts);
        q.held = Math.max(q.held, counts.held);
        q.dedupIds = Math.max(q.dedupIds, counts.dedupIds);
      }
      // Then what the processor holds did not grow with the run: the last quarter holds no more
      // than the second (steady state), and stays well below the number of events
      const [, second, , last] = quarters as [PendingCounts, PendingCounts, PendingCounts, PendingCounts];
      expect(second.carts, JSON.stringify(quarters)).toBeGreaterThan(0);
      expect(last.carts, JSON.stringify(quarters)).toBeLessThanOrEqual(Math.max(50, second.carts * 1.5));
      expect(last.held, JSON.stringify(quarters)).toBeLessThanOrEqual(Math.max(50, second.held * 1.5));
      expect(last.dedupIds, JSON.stringify(quarters)).toBeLessThanOrEqual(Math.max(500, second.dedupIds * 1.5));
      expect(last.runs).toBeLessThanOrEqual(4); // one per pair
      for (const q of quarters) {
        expect(q.carts).toBeLessThan(2_000);
        expect(q.held).toBeLessThan(200);
        expect(q.dedupIds).toBeLessThan(5_000);
      }
      expect(processor.pendingCounts()).toEqual({ runs: 0, carts: 0, held: 0, dedupIds: 0 });
    } finally {
      await p.cleanup();
    }
  }, 60_000);
});

describe("the processor's outputs awaiting acknowledgement", () => {
  it('stay bounded while its sends are held: it waits, and the run completes once they flow', async () => {
    // Given a sink whose database writes wait for a gate, so its group commits nothing and the
    // in-process bus holds the processor's sends once that group is 40,000 messages behind
    const p = await createPipeline({ events: 90_000 });
    let open = (): void => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const gated: Database = { ...p.db.db, async writeBatch(b) {
      await gate;
      return p.db.db.writeBatch(b);
    } };
    try {
      await p.startSink({ db: gated });
      // Checkpoints every 5,000 events: the bus caps the raw topics by what the processor has
      // committed too, and a commit waits for its outputs' acknowledgement, so once its sends are
      // held the processor commits nothing more. With the default (every second, 20-40k events here)
      // the engine could be held at the raw topics' cap before the processor's outputs reach the
      // bound, and the run would wait for the database with the processor short of it.
      const processor = await p.startProcessor({ checkpointEvery: 5_000 });
      p.startEngine();
      // When the processor has judged as much as that allows (checkpoints no longer hold it back)
      await waitUntil(() => processor.stats().waitingForRoom, 'the processor waiting for room among its outputs');
      // Then it waits at the bound, one batch's outputs over at most, with raw messages still unread
      const s = processor.stats();
      expect(s.outputsPending).toBeGreaterThanOrEqual(OUTPUT_BACKLOG);
      expect(s.outputsPending).toBeLessThan(OUTPUT_BACKLOG + 2_000);
      expect(s.consumed).toBeLessThan(await p.rawMessages());
      // And once the database writes again, every event arrives, once
      open();
      expect(await p.drained(30_000)).toBe(true);
      expect(await p.verify()).toMatchObject(VERIFY_OK);
    } finally {
      open();
      await p.cleanup();
    }
  }, 60_000);
});

describe('responsiveness', () => {
  it('leaves the event loop to timers while the processor and sink work through a backlog', async () => {
    // Given a run whose engine is far ahead of the processor and sink (all of it published at once)
    const p = await createPipeline({ events: 20_000 });
    try {
      let last = performance.now();
      let longest = 0;
      const tick = setInterval(() => {
        const t = performance.now();
        longest = Math.max(longest, t - last);
        last = t;
      }, 10);
      try {
        await p.startEngine().done;
        await p.startSink();
        await p.startProcessor();
        // When they work through it
        expect(await p.drained()).toBe(true);
      } finally {
        clearInterval(tick);
      }
      // Then a 10 ms timer (heartbeat lease, progress lines, signals, the dashboard) never waited
      // long: the in-process bus hands batches over in microtasks, so the loop has to yield
      expect(longest).toBeLessThan(1_000);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});
