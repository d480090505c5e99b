/**
 * The processor loop in a consumer group and on a redelivering wire, in-process (memory bus,
 * SQLite): a member leaving mid-run hands its pairs over (CONTRACT-CASES 19), and a message published
 * twice is a redelivery and never a dead letter (10), and a member whose final commit the group
 * refuses (it was dropped) still stops, its successor resuming from its snapshot.
 * Case 18 (a failed batch retried before anything newer) is covered at the publisher level by
 * src/kafka/publisher.test.ts ("keeps order and delivers exactly once when the 1st and 3rd sends
 * fail", "retries the same batch until it goes through, before anything newer").
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { OutgoingMessage, TopicPartition } from '../src/kafka/bus.js';
import { BusError } from '../src/kafka/errors.js';
import type { Processor } from '../src/pipeline/processor.js';
import { HEADERS } from '../src/pipeline/types.js';
import { caughtUp, createPipeline, expectReplayedOutputsIdentical, finishAndCheck, interceptBus, undisturbedRows, VERIFY_OK as OK, waitUntil } from './pipeline-harness.js';

const EVENTS = 8_000;

let reference: Record<string, unknown[]>;

beforeAll(async () => {
  reference = await undisturbedRows(EVENTS);
}, 60_000);

describe('two processors in one group, one leaves mid-run (CONTRACT-CASES 19)', () => {
  for (const how of ['stop', 'crash'] as const) {
    it(`the other takes over its pairs when it leaves by ${how}, while one of its partitions is paused`, async () => {
      const p = await createPipeline({ events: EVENTS });
      try {
        let leaver: Processor | null = null;
        let left: Promise<void> | null = null;
        let pausedAtLeave: TopicPartition[] = [];
        let armed = false;
        // Given two members, the second of which leaves right after it pauses a side ahead of the other
        const leaverBus = interceptBus(p.bus, {
          pause(group, tps) {
            if (!armed || group !== p.groups.processor || left) return;
            armed = false;
            pausedAtLeave = tps;
            left = how === 'stop' ? leaver!.stop() : leaver!.crash();
          },
        });
        await p.startSink();
        const stayer = await p.startProcessor({ checkpointIntervalMs: 100 });
        leaver = await p.startProcessor({ bus: leaverBus, checkpointIntervalMs: 100 });
        await waitUntil(() => stayer.stats().pairs > 0 && leaver!.stats().pairs > 0, 'both members to own pairs');
        expect(stayer.stats().pairs + leaver.stats().pairs).toBe(4);
        p.holdEngineAt(EVENTS / 4);
        p.startEngine();
        await waitUntil(async () => stayer.stats().consumed + leaver!.stats().consumed >= (await p.rawMessages()), 'both to catch up');
        // When it leaves mid-run
        armed = true;
        p.holdEngineAt(null);
        await waitUntil(() => left !== null, 'the member to pause a partition and leave');
        await left;
        expect(pausedAtLeave.length).toBeGreaterThan(0);
        // Then the other owns every pair, resumes them from the snapshots, and the run verifies
        await waitUntil(() => stayer.stats().pairs === 4, 'the stayer to own all four pairs');
        await finishAndCheck(p, reference);
        await expectReplayedOutputsIdentical(p);
      } finally {
        await p.cleanup();
      }
    }, 40_000);
  }
});

describe('a member the group dropped', () => {
  it('stops though its last commit is refused, and the next member resumes from its snapshot: nothing replayed', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      // Given a member whose commits the group refuses from some point on (it was dropped after a long stall)
      let refuse = false;
      let refused = 0;
      const dropped = interceptBus(p.bus, {
        async commit(group, _offsets, commit) {
          if (refuse && group === p.groups.processor) {
            refused++;
            throw new BusError('The coordinator is not aware of this member', { retriable: false });
          }
          await commit();
        },
      });
      await p.startSink();
      const first = await p.startProcessor({ bus: dropped, checkpointIntervalMs: 100 });
      p.holdEngineAt(EVENTS / 2);
      p.startEngine();
      await caughtUp(p, first);
      // When it stops with its final commit refused
      refuse = true;
      await first.stop();
      expect(refused).toBeGreaterThan(0);
      // Then a new member resumes from the final snapshot, and the run verifies with nothing judged twice
      const second = await p.startProcessor({ checkpointIntervalMs: 100 });
      p.holdEngineAt(null);
      await finishAndCheck(p, reference);
      expect(second.stats().redelivered).toBe(0);
      expect(await expectReplayedOutputsIdentical(p)).toBe(0);
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});

describe('redelivery on the wire (CONTRACT-CASES 10)', () => {
  it('a send delivered twice is counted redelivered, never dead-lettered', async () => {
    const p = await createPipeline({ events: EVENTS });
    try {
      let sends = 0;
      let doubled: OutgoingMessage[] = [];
      // Given a producer whose 3rd send to shelf_events went through twice (a retry after a lost ack)
      const wire = interceptBus(p.bus, {
        async send(topic, messages, send) {
          await send();
          if (topic === p.names.shelf && ++sends === 3) {
            doubled = messages;
            await send();
          }
        },
      });
      await p.startSink();
      const processor = await p.startProcessor();
      p.startEngine({ bus: wire });
      // When the pipeline has read it all
      await p.drained();
      // Then every event of the doubled send is a redelivery, counted and not written twice
      const seqs = doubled.filter((m) => m.headers[HEADERS.seq] !== undefined).length;
      expect(seqs).toBeGreaterThan(0);
      expect(processor.stats().redelivered).toBe(seqs);
      expect(processor.stats().rejected + processor.stats().accepted).toBe(EVENTS);
      await p.stopAll();
      expect(await p.verify()).toMatchObject(OK);
      // the same rows as a run without the redelivery, but for the dead letters' source offsets (one more message on the wire)
      const withoutOffsets = (rows: Record<string, unknown[]>) => ({
        ...rows,
        rejected: rows.rejected!.map((r) => {
          const { source_offset: _o, headers, ...rest } = r as { source_offset: number; headers: Record<string, string> };
          const { [HEADERS.sourceOffset]: _h, ...h } = headers;
          return { ...rest, headers: h };
        }),
      });
      expect(withoutOffsets(await p.rows())).toEqual(withoutOffsets(reference));
    } finally {
      await p.cleanup();
    }
  }, 40_000);
});
