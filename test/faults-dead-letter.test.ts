/**
 * If publishing a dead letter fails, the source offset is not committed (DESIGN.md, Processor
 * state: outputs acknowledged → snapshots acknowledged → offsets committed). The processor runs on
 * the in-process bus behind a producer that refuses every send holding a rejected_events message;
 * while it does, nothing of the source partition is committed; once it accepts again, the dead
 * letter lands and the commit follows.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadFixtures } from '../src/cli/load-fixtures.js';
import type { Bus, BusProducer, OutgoingMessage } from '../src/kafka/bus.js';
import { BusError } from '../src/kafka/errors.js';
import { createMemoryBus } from '../src/kafka/memory-bus.js';
import { createProcessor, type Processor } from '../src/pipeline/processor.js';
import { pairStream } from '../src/pipeline/processor-core.test-kit.js';
import { HEADERS } from '../src/pipeline/types.js';
import { groupIds, topicNames } from '../src/main.js';
import { waitFor } from './cli-helpers.js';

const running: Processor[] = [];
afterEach(async () => {
  for (const p of running.splice(0)) await p.crash().catch(() => undefined);
});

/** The bus, except that sends holding a message for `topic` fail (retriably) while `failing()`. */
function refusing(bus: Bus, topic: string, failing: () => boolean, attempts: { n: number }): Bus {
  const createProducer = (): BusProducer => {
    const inner = bus.createProducer();
    const check = (topics: string[]): void => {
      if (failing() && topics.includes(topic)) {
        attempts.n++;
        throw new BusError(`send to ${topic} refused (test)`, { retriable: true });
      }
    };
    return {
      connect: () => inner.connect(),
      async send(t, messages) { check([t]); await inner.send(t, messages); },
      async sendMany(batches) { check(batches.map((b) => b.topic)); await inner.sendMany!(batches); },
      disconnect: () => inner.disconnect(),
    };
  };
  return { ...bus, createProducer };
}

describe('a dead letter that cannot be published', () => {
  it('keeps the source offset uncommitted until it is acknowledged', async () => {
    const fixtures = loadFixtures();
    const names = topicNames('dlq-');
    const groups = groupIds('dlq-');
    const memory = createMemoryBus({ defaultPartitions: 1 });
    await memory.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions: 1 })));
    let failing = true;
    const attempts = { n: 0 };
    const bus = refusing(memory, names.rejected, () => failing, attempts);

    // Given a run whose foot partition holds an entry and then bytes that are not JSON,
    const s = pairStream({ settings: { fixtures_hash: fixtures.hash, store_id: fixtures.layouts['corner-shop']!.store_id } });
    const foot = [s.runStart('foot'), s.entry(1, 'v1', 1), s.raw('foot', 2, '{not json'), s.watermark('foot', 20)];
    const shelf = [s.runStart('shelf'), s.watermark('shelf', 20)];
    const producer = memory.createProducer();
    await producer.connect();
    const out = (m: { key: string | null; value: Buffer; headers: Record<string, string> }): OutgoingMessage => ({ key: m.key, value: m.value, headers: m.headers, partition: 0 });
    await producer.send(names.foot, foot.map(out));
    await producer.send(names.shelf, shelf.map(out));

    // when the processor judges them while every send to rejected_events fails,
    const processor = createProcessor({ bus, groupId: groups.processor, topics: names, fixtures, checkpointIntervalMs: 50 });
    running.push(processor);
    await processor.start();
    await waitFor(() => processor.stats().rejected === 1 && attempts.n >= 3, 'the dead letter judged and its sends refused');
    await new Promise((r) => setTimeout(r, 400));

    // then no offset of the source partitions is committed, and nothing reached rejected_events,
    const committed = async (topic: string): Promise<number> => (await memory.groupOffsets(groups.processor, topic))[0]!.offset;
    expect(await committed(names.foot)).toBe(-1);
    expect(await committed(names.shelf)).toBe(-1);
    expect((await memory.topicOffsets(names.rejected))[0]!.high).toBe(0);
    expect(processor.stats().checkpoints).toBe(0);

    // and once the broker takes it, the dead letter lands (with its code) and the commit follows.
    failing = false;
    await waitFor(async () => (await committed(names.foot)) === foot.length, 'the commit after the dead letter was acknowledged');
    expect(await committed(names.shelf)).toBe(shelf.length);
    const dead = await memory.readLast(names.rejected, 0);
    expect(dead?.headers[HEADERS.errorCode]).toBe('unparseable');
    expect(dead?.headers[HEADERS.sourceOffset]).toBe('2');
    expect((await memory.topicOffsets(names.rejected))[0]!.high).toBe(1);
    await processor.stop();
    running.length = 0;
  });
});
