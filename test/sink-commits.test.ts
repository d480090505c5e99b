/**
 * The sink's offset commits (DESIGN.md, Promises: commit offsets only after the database
 * transaction): a commit travels while the next batch is written, the offsets of batches written
 * meanwhile go out together in the next commit, never ahead of a write, and stop() returns only
 * once every written batch's offsets are committed. In-process (memory bus, SQLite).
 */
import { describe, expect, it } from 'vitest';
import type { TopicPartitionOffset } from '../src/kafka/bus.js';
import type { Database } from '../src/db/types.js';
import { createPipeline, interceptBus, VERIFY_OK, waitUntil } from './pipeline-harness.js';

/** The sink's group has committed every message of the sink's topics. */
async function expectAllCommitted(p: Awaited<ReturnType<typeof createPipeline>>): Promise<void> {
  for (const topic of [p.names.clean, p.names.pos, p.names.visits, p.names.rejected]) {
    const ends = await p.bus.topicOffsets(topic);
    const committed = await p.bus.groupOffsets(p.groups.sink, topic);
    for (const { partition, high } of ends) {
      if (high === 0) continue;
      expect(committed.find((o) => o.partition === partition)?.offset, `${topic}/${partition}`).toBe(high);
    }
  }
}

describe('sink commits', () => {
  it('write on while a commit is in flight, merge what was written meanwhile, and are all sent when stop() returns', async () => {
    const p = await createPipeline({ events: 6_000 });
    let release!: () => void;
    const held = new Promise<void>((r) => { release = r; });
    try {
      // Given a sink whose first offset commit hangs until released, and a database that counts writes
      const calls: { offsets: TopicPartitionOffset[]; writesBefore: number }[] = [];
      let writes = 0;
      const bus = interceptBus(p.bus, {
        async commit(group, offsets, commit) {
          if (group !== p.groups.sink) return commit();
          calls.push({ offsets, writesBefore: writes });
          if (calls.length === 1) await held;
          await commit();
        },
      });
      const counted: Database = { ...p.db.db, async writeBatch(b) {
        await p.db.db.writeBatch(b);
        writes++;
      } };
      const sink = await p.startSink({ bus, db: counted, maxBatch: 200 });
      await p.startProcessor();
      p.startEngine();

      // When the first commit is held, the sink still writes the batches after it
      await waitUntil(() => writes >= 4, 'three more writes while the first commit is held');
      expect(calls).toHaveLength(1);
      const writtenWhileHeld = writes;
      release();

      // Then the next commit carries what was written meanwhile in one request
      await waitUntil(() => calls.length >= 2, 'the second commit');
      expect(calls[1]!.writesBefore).toBeGreaterThanOrEqual(writtenWhileHeld);
      expect(await p.drained()).toBe(true);
      await sink.stop();
      expect(calls.length).toBeLessThan(writes);
      // Offsets only move forward, partition by partition, from one commit to the next
      const last = new Map<string, number>();
      for (const c of calls) {
        for (const o of c.offsets) {
          const k = `${o.topic}/${o.partition}`;
          expect(o.offset).toBeGreaterThanOrEqual(last.get(k) ?? 0);
          last.set(k, o.offset);
        }
      }
      // And once stop() has returned, the group has committed every message of the sink's topics
      await expectAllCommitted(p);
      await p.stopAll();
      expect(await p.verify()).toMatchObject(VERIFY_OK);
    } finally {
      release();
      await p.cleanup();
    }
  }, 40_000);

  it('commit at most once per commitEveryMs while running, and everything at once on stop', async () => {
    const p = await createPipeline({ events: 6_000 });
    try {
      // Given a sink that may commit once per 150 ms, writing small batches
      const EVERY = 150;
      const starts: number[] = [];
      let stopping = false;
      let writes = 0;
      const bus = interceptBus(p.bus, {
        async commit(group, _offsets, commit) {
          if (group === p.groups.sink && !stopping) starts.push(performance.now());
          await commit();
        },
      });
      const counted: Database = { ...p.db.db, async writeBatch(b) {
        await p.db.db.writeBatch(b);
        writes++;
      } };
      const sink = await p.startSink({ bus, db: counted, maxBatch: 100, commitEveryMs: EVERY });
      await p.startProcessor();
      p.startEngine();

      // When the run drains
      expect(await p.drained()).toBe(true);

      // Then the commits while running were at least EVERY ms apart (a timer's 1 ms of rounding
      // aside), far fewer than the writes
      expect(starts.length).toBeGreaterThan(1);
      for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(EVERY - 1);
      expect(starts.length).toBeLessThan(writes);

      // And stop() still leaves every message of the sink's topics committed
      stopping = true;
      await sink.stop();
      await expectAllCommitted(p);
      await p.stopAll();
      expect(await p.verify()).toMatchObject(VERIFY_OK);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});
