/**
 * Crashes inside the pipeline, in-process (memory bus, SQLite): a processor thrown away at three
 * points of its checkpoint cycle (CONTRACT-CASES 15), a stale snapshot planted by a zombie (16), a
 * sink torn down between its writes and its commits. After each, the run drains, verifies against
 * the engine's ledger with nothing lost, duplicated or mismatched, and the database holds exactly
 * the rows of an undisturbed run of the same seed and run id (DESIGN.md, Processor state).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, OutgoingMessage } from '../src/kafka/bus.js';
import type { Processor } from '../src/pipeline/processor.js';
import type { Sink } from '../src/pipeline/sink.js';
import { caughtUp, createPipeline, expectReplayedOutputsIdentical, finishAndCheck, interceptBus, undisturbedRows, VERIFY_OK as OK, waitUntil, type Pipeline } from './pipeline-harness.js';
import type { Database, SinkBatch } from '../src/db/types.js';
import { rejectedRow, stagingRow, transactionRow, visitRow } from '../src/db/rows.js';
import { decodePairState } from '../src/pipeline/snapshot-codec.js';

const EVENTS = 8_000;

/** Rows of an undisturbed run: what every crashed run must end up with. */
let reference: Record<string, unknown[]>;

beforeAll(async () => {
  reference = await undisturbedRows(EVENTS);
  expect(reference.staging!.length + reference.rejected!.length).toBe(EVENTS);
}, 60_000);

describe('processor crash mid-run (CONTRACT-CASES 15)', () => {
  type Point = 'after outputs, before the snapshot' | 'after the snapshot, before the commit' | 'after the commit';
  const points: Point[] = ['after outputs, before the snapshot', 'after the snapshot, before the commit', 'after the commit'];

  for (const point of points) {
    it(`restores from the last snapshot when thrown away ${point}`, async () => {
      const p = await createPipeline({ events: EVENTS });
      try {
        let armed = false;
        let crashed: Promise<void> | null = null;
        let first: Processor | null = null;
        let consumedAtCrash = 0;
        let outputsSinceArmed = 0;
        /** Armed, and outputs went out since the last snapshot taken before arming. */
        const due = (): boolean => armed && outputsSinceArmed > 0;
        const crash = (): void => {
          armed = false;
          consumedAtCrash = first!.stats().consumed;
          crashed = first!.crash();
        };
        /** Per pair, the offsets of its latest snapshot the topic acknowledged. */
        const snapshotAt = new Map<number, number>();
        const bus = interceptBus(p.bus, {
          async send(topic, messages, send) {
            if (armed && topic === p.names.clean) outputsSinceArmed += messages.length;
            if (topic === p.names.state && point === 'after outputs, before the snapshot' && due()) {
              crash(); // the snapshot never reaches the topic
              return;
            }
            await send();
            if (topic !== p.names.state) return;
            for (const m of messages) {
              const { offsets } = decodePairState(Buffer.from(m.value));
              snapshotAt.set(m.partition!, offsets.foot + offsets.shelf);
            }
          },
          async commit(group, offsets, commit) {
            if (group !== p.groups.processor || !due()) return commit();
            if (point === 'after the snapshot, before the commit') { crash(); return; }
            await commit();
            crash();
          },
        });
        await p.startSink();
        // Given a processor that checkpoints often, and has read half the run
        first = await p.startProcessor({ bus, checkpointIntervalMs: 50 });
        p.holdEngineAt(EVENTS / 2);
        p.startEngine();
        await caughtUp(p, first);
        await first.checkpoint();
        // When it is thrown away at the chosen point of its next checkpoint
        armed = true;
        p.holdEngineAt(null);
        await waitUntil(() => crashed !== null, 'the crash');
        await crashed;
        // Then a new processor restores from the snapshot and the run completes as if nothing happened
        const second = await p.startProcessor();
        await finishAndCheck(p, reference);
        expect(consumedAtCrash).toBeLessThan(await p.rawMessages()); // it did crash mid-run
        // What came after the snapshot was judged again, byte-identically
        const replayed = await expectReplayedOutputsIdentical(p);
        if (point === 'after outputs, before the snapshot') expect(replayed).toBeGreaterThan(0);
        // The new processor started each pair exactly at its latest acknowledged snapshot (the one of
        // the interrupted checkpoint once its snapshot was sent): it judged everything after, nothing before.
        const fromSnapshots = [...snapshotAt.values()].reduce((a, b) => a + b, 0);
        expect(snapshotAt.size).toBeGreaterThan(0);
        expect(second.stats().consumed).toBe((await p.rawMessages()) - fromSnapshots);
      } finally {
        await p.cleanup();
      }
    }, 40_000);
  }
});

describe('a stale snapshot planted by a zombie (CONTRACT-CASES 16)', () => {
  it('restarts from the older snapshot and ends with the same rows', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      await p.startSink();
      // Given a processor that checkpoints only when asked, with snapshots at a quarter and at three quarters
      const first = await p.startProcessor({ checkpointIntervalMs: 3_600_000, checkpointEvery: Number.MAX_SAFE_INTEGER });
      p.holdEngineAt(EVENTS / 4);
      p.startEngine();
      await caughtUp(p, first);
      await first.checkpoint();
      const older = await stateMessages(p);
      p.holdEngineAt((EVENTS * 3) / 4);
      await caughtUp(p, first);
      await first.checkpoint();
      const newer = await stateMessages(p);
      expect(newer.map((m) => m.offset)).not.toEqual(older.map((m) => m.offset));
      // When a zombie writes the older snapshots after the newer ones, and the processor crashes
      const zombie = p.bus.createProducer();
      await zombie.connect();
      for (const m of older) {
        await zombie.send(p.names.state, [{ key: m.key, value: m.value, partition: m.partition, headers: m.headers } satisfies OutgoingMessage]);
      }
      await first.crash();
      const reread = first.stats().consumed - (await p.rawMessages()) ;
      expect(reread).toBe(0);
      // Then the next processor loads the older snapshots and judges the rest again, identically
      const second = await p.startProcessor();
      p.holdEngineAt(null);
      await finishAndCheck(p, reference);
      const replayed = await expectReplayedOutputsIdentical(p);
      expect(replayed).toBeGreaterThan(0);
      expect(second.stats().consumed).toBeGreaterThan((await p.rawMessages()) - first.stats().consumed);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});

/** The latest message of every partition of the state topic. */
async function stateMessages(p: Pipeline): Promise<IncomingMessage[]> {
  const parts = await p.bus.partitionCount(p.names.state);
  const out: IncomingMessage[] = [];
  for (let i = 0; i < parts; i++) {
    const m = await p.bus.readLast(p.names.state, i);
    if (m) out.push(m);
  }
  return out;
}

describe('sink', () => {
  it('writes the same batch twice and leaves the same rows', async () => {
    const p = await createPipeline({ events: 2_000 });
    try {
      // Given the outputs of a whole run, as one batch
      await p.startProcessor();
      p.startEngine();
      await p.drained(1_000).catch(() => false); // nothing writes: the drain gives up
      await p.stopAll();
      const batch: SinkBatch = { staging: [], rejected: [], transactions: [], visits: [] };
      for (const m of await p.readTopic(p.names.clean)) batch.staging.push(stagingRow(m));
      for (const m of await p.readTopic(p.names.rejected)) batch.rejected.push(rejectedRow(m));
      for (const m of await p.readTopic(p.names.pos)) batch.transactions.push(transactionRow(m));
      for (const m of await p.readTopic(p.names.visits)) batch.visits.push(visitRow(m));
      // When it is written twice
      await p.db.db.writeBatch(batch);
      const once = await p.rows();
      await p.db.db.writeBatch(batch);
      // Then the rows are the same, and they verify
      expect(await p.rows()).toEqual(once);
      expect(await p.verify()).toMatchObject(OK);
    } finally {
      await p.cleanup();
    }
  }, 30_000);

  it('crashes after some batches without committing; a new sink absorbs the redelivered batches', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      let commits = 0;
      const sinkBus = interceptBus(p.bus, {
        async commit(group, offsets, commit) {
          if (group !== p.groups.sink) return commit();
          // Given a sink whose commits stop going through after a few batches (they are written)
          if (++commits < 4) return commit();
        },
      });
      const first = await p.startSink({ bus: sinkBus, maxBatch: 500 });
      await p.startProcessor();
      p.startEngine();
      await waitUntil(() => first.stats().batches >= 8, 'eight sink batches');
      // When it crashes: its written but uncommitted batches come again to the next member
      await first.crash();
      const second = await p.startSink();
      await finishAndCheck(p, reference);
      // Then rows written before the crash were written again (absorbed), and nothing is doubled
      const { staging, rejected, transactions, visits } = await p.rows();
      const distinct = staging!.length + rejected!.length + transactions!.length + visits!.length;
      expect(first.stats().written + second.stats().written).toBeGreaterThan(distinct);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
  it('retries a database write that fails: nothing lost, nothing doubled', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      // Given a database whose every third write fails (an outage, retriable)
      let calls = 0;
      const flaky: Database = { ...p.db.db, async writeBatch(b) {
        if (++calls % 3 === 0) throw Object.assign(new Error('database is locked'), { retriable: true });
        return p.db.db.writeBatch(b);
      } };
      const errors: unknown[] = [];
      const sink = await p.startSink({ db: flaky, onError: (e) => errors.push(e) });
      await p.startProcessor();
      p.startEngine();
      // Then the run completes as if the database had never failed
      await finishAndCheck(p, reference);
      expect(errors.length).toBeGreaterThan(0);
      expect(sink.stats().failedWrites).toBe(errors.length);
    } finally {
      await p.cleanup();
    }
  }, 40_000);

  it('stops promptly under load and writes nothing after stop() resolves; the next sink picks up where it left off', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      let writes = 0;
      let stopRequested = false;
      let stopped = false;
      let stopping: Promise<void> | null = null;
      let writesDuringStop = 0;
      let writesAfterStop = 0;
      let first: Sink | null = null;
      const watched: Database = { ...p.db.db, async writeBatch(b) {
        if (stopped) writesAfterStop++;
        else if (stopRequested) writesDuringStop++;
        if (stopRequested) for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        await p.db.db.writeBatch(b);
        // Given a sink asked to stop in the middle of a delivered batch, just after a write, while
        // its writes are slow and batches keep coming
        if (++writes === 5) {
          queueMicrotask(() => {
            stopRequested = true;
            stopping = first!.stop().then(() => { stopped = true; });
          });
        }
      } };
      first = await p.startSink({ db: watched, maxBatch: 300 });
      await p.startProcessor();
      p.startEngine();
      await waitUntil(() => stopping !== null, 'the stop');
      await stopping;
      // When another sink takes over and the run completes
      await p.startSink();
      await finishAndCheck(p, reference);
      // Then the stopped sink wrote at most what it had taken (one write in flight, one flush), and
      // nothing after it said it had stopped
      expect(writesDuringStop).toBeLessThanOrEqual(2);
      expect(writesAfterStop).toBe(0);
    } finally {
      await p.cleanup();
    }
  }, 40_000);

  it('a processor stopped under load leaves a final snapshot that covers everything it judged', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      await p.startSink();
      // Given a processor stopped in the middle of a busy stream
      let stopping: Promise<void> | null = null;
      let first: Processor | null = null;
      let outputs = 0;
      const bus = interceptBus(p.bus, {
        async send(topic, messages, send) {
          await send();
          if (topic === p.names.clean && (outputs += messages.length) > EVENTS / 3 && !stopping) stopping = first!.stop();
        },
      });
      first = await p.startProcessor({ bus, checkpointIntervalMs: 100 });
      p.startEngine();
      await waitUntil(() => stopping !== null, 'the stop');
      await stopping;
      // When the next processor takes over
      await p.startProcessor();
      await finishAndCheck(p, reference);
      // Then it judged nothing again
      expect(await expectReplayedOutputsIdentical(p)).toBe(0);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});
