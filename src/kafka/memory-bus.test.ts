import { describe, expect, it } from 'vitest';
import type { Batch, BusConsumer, ConsumerOptions, IncomingMessage, OutgoingMessage, TopicPartition } from './bus.js';
import { createMemoryBus, type MemoryBus } from './memory-bus.js';
import { partitionForKey } from './murmur2.js';

async function waitFor(cond: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const msg = (key: string | null, value: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  key, value, headers: { 'storesim.seq': value }, ...extra,
});

/** A consumer that records what it gets, committing after every batch unless told not to. */
function recorder(bus: MemoryBus, opts: ConsumerOptions & { commitEach?: boolean }) {
  const got: IncomingMessage[] = [];
  const assignments: TopicPartition[][] = [];
  const consumer: BusConsumer = bus.createConsumer({
    ...opts,
    onAssigned: async (tps) => {
      assignments.push(tps);
      await opts.onAssigned?.(tps);
    },
  });
  const start = (onBatch?: (b: Batch, c: BusConsumer) => Promise<void>) =>
    consumer.start(async (b) => {
      if (onBatch) return onBatch(b, consumer);
      got.push(...b.messages);
      if (opts.commitEach !== false) {
        await consumer.commit([{ topic: b.topic, partition: b.partition, offset: b.messages.at(-1)!.offset + 1 }]);
      }
    });
  return { consumer, got, assignments, start };
}

const sortTps = (tps: TopicPartition[]) =>
  [...tps].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);

describe('memory bus', () => {
  it('partitions by murmur2 as Kafka does, honours explicit partitions, and numbers offsets per partition', async () => {
    // Given a topic with 6 partitions
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 'foot', partitions: 6 }]);
    const producer = bus.createProducer();
    await producer.connect();
    // When keyed and explicitly partitioned messages are sent
    const keys = Array.from({ length: 50 }, (_, i) => `customer-${i}`);
    await producer.send('foot', keys.map((k) => msg(k, k)));
    await producer.send('foot', [msg(null, 'marker', { partition: 5 }), msg('customer-1', 'forced', { partition: 0 })]);
    // Then every keyed message is in murmur2(key) % 6, offsets count from 0 in each partition
    const offsets = await bus.topicOffsets('foot');
    expect(offsets.reduce((s, o) => s + o.high, 0)).toBe(52);
    const { consumer, got, start } = recorder(bus, { groupId: 'g', topics: ['foot'] });
    await start();
    await waitFor(() => got.length === 52);
    for (const m of got) {
      if (m.value.toString() === 'marker') expect(m.partition).toBe(5);
      else if (m.value.toString() === 'forced') expect(m.partition).toBe(0);
      else expect(m.partition).toBe(partitionForKey(m.key!, 6));
    }
    for (let p = 0; p < 6; p++) {
      const inP = got.filter((m) => m.partition === p).map((m) => m.offset);
      expect(inP).toEqual(inP.map((_, i) => i));
    }
    expect(got[0]!.headers['storesim.seq']).toBeDefined();
    expect(Buffer.isBuffer(got[0]!.value)).toBe(true);
    expect((await bus.groupOffsets('g', 'foot')).map((o) => o.offset)).toEqual(offsets.map((o) => o.high));
    // Several topics at once read as each on its own; a missing topic reads empty.
    expect(await bus.topicsOffsets(['foot', 'nope'])).toEqual(new Map([['foot', offsets], ['nope', []]]));
    expect(await bus.groupTopicsOffsets('g', ['foot', 'nope'])).toEqual(new Map([['foot', await bus.groupOffsets('g', 'foot')], ['nope', []]]));
    expect(await bus.readLast('foot', 5)).toMatchObject({ partition: 5 });
    await consumer.stop();
  });

  it('redelivers from the last commit after a consumer stops and another starts (at-least-once)', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('t', Array.from({ length: 10 }, (_, i) => msg('k', String(i))));
    // Given a consumer that reads everything but commits only up to offset 6
    const first = recorder(bus, { groupId: 'g', topics: ['t'], commitEach: false });
    await first.start(async (b, c) => {
      first.got.push(...b.messages);
      await c.commit([{ topic: 't', partition: 0, offset: 6 }]);
    });
    await waitFor(() => first.got.length === 10);
    // When it stops and a new member of the group starts
    await first.consumer.stop();
    expect(await bus.groupOffsets('g', 't')).toEqual([{ topic: 't', partition: 0, offset: 6 }]);
    const second = recorder(bus, { groupId: 'g', topics: ['t'] });
    await second.start();
    // Then it gets offsets 6..9 again, and a new group starts from the beginning
    await waitFor(() => second.got.length === 4);
    expect(second.got.map((m) => m.offset)).toEqual([6, 7, 8, 9]);
    const other = recorder(bus, { groupId: 'other', topics: ['t'] });
    await other.start();
    await waitFor(() => other.got.length === 10);
    // and fromBeginning: false starts at the end
    const latest = recorder(bus, { groupId: 'latest', topics: ['t'], fromBeginning: false });
    await latest.start();
    await producer.send('t', [msg('k', 'new')]);
    await waitFor(() => latest.got.length === 1);
    expect(latest.got[0]!.offset).toBe(10);
    await Promise.all([second.consumer.stop(), other.consumer.stop(), latest.consumer.stop()]);
  });

  it('co-partitions two topics across two members and rebalances when one leaves', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 'foot', partitions: 4 }, { topic: 'shelf', partitions: 4 }]);
    const opts: ConsumerOptions = { groupId: 'proc', topics: ['foot', 'shelf'], assignment: 'co-partitioned' };
    // Given one member: it owns everything
    const a = recorder(bus, opts);
    await a.start();
    await waitFor(() => a.assignments.length === 1);
    expect(a.assignments[0]).toHaveLength(8);
    // When a second member joins
    const b = recorder(bus, opts);
    await b.start();
    await waitFor(() => a.assignments.length === 2 && b.assignments.length === 1);
    // Then partition p of both topics goes to the same member, and every p to exactly one member
    const pairs = (tps: TopicPartition[]) => {
      const foot = tps.filter((t) => t.topic === 'foot').map((t) => t.partition).sort();
      const shelf = tps.filter((t) => t.topic === 'shelf').map((t) => t.partition).sort();
      expect(foot).toEqual(shelf);
      return foot;
    };
    const pa = pairs(a.assignments[1]!);
    const pb = pairs(b.assignments[0]!);
    expect([...pa, ...pb].sort()).toEqual([0, 1, 2, 3]);
    expect(pa).toHaveLength(2);
    expect(sortTps(a.consumer.assignment())).toEqual(sortTps(a.assignments[1]!));
    // And messages keyed to one customer reach only the member that owns its pair
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('foot', [msg('c-42', 'entry')]);
    await producer.send('shelf', [msg('c-42', 'pickup')]);
    await waitFor(() => a.got.length + b.got.length === 2);
    expect(a.got.length === 2 || b.got.length === 2).toBe(true);
    // When b leaves, a owns everything again
    await b.consumer.stop();
    await waitFor(() => a.assignments.length === 3);
    expect(a.assignments[2]).toHaveLength(8);
    await a.consumer.stop();
  });

  it('assigns round-robin by default: every partition to exactly one member', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 'x', partitions: 3 }, { topic: 'y', partitions: 2 }]);
    const a = recorder(bus, { groupId: 'sink', topics: ['x', 'y'] });
    const b = recorder(bus, { groupId: 'sink', topics: ['x', 'y'] });
    await a.start();
    await b.start();
    await waitFor(() => a.consumer.assignment().length + b.consumer.assignment().length === 5 && b.assignments.length > 0);
    const all = sortTps([...a.consumer.assignment(), ...b.consumer.assignment()]);
    expect(all).toEqual([
      { topic: 'x', partition: 0 }, { topic: 'x', partition: 1 }, { topic: 'x', partition: 2 },
      { topic: 'y', partition: 0 }, { topic: 'y', partition: 1 },
    ]);
    expect(Math.abs(a.consumer.assignment().length - b.consumer.assignment().length)).toBe(1);
    await Promise.all([a.consumer.stop(), b.consumer.stop()]);
  });

  it('pauses and resumes partitions, and lifts pauses on a new assignment', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    const producer = bus.createProducer();
    await producer.connect();
    const c = recorder(bus, { groupId: 'g', topics: ['t'] });
    await c.start();
    await waitFor(() => c.assignments.length === 1);
    // Given partition 0 paused
    c.consumer.pause([{ topic: 't', partition: 0 }]);
    await producer.send('t', [msg(null, 'a', { partition: 0 }), msg(null, 'b', { partition: 1 })]);
    // Then only partition 1 is delivered
    await waitFor(() => c.got.length === 1);
    expect(c.got[0]!.partition).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(c.got).toHaveLength(1);
    // When it is resumed, partition 0 follows
    c.consumer.resume([{ topic: 't', partition: 0 }]);
    await waitFor(() => c.got.length === 2);
    // And a pause does not survive a rebalance
    c.consumer.pause([{ topic: 't', partition: 0 }]);
    const other = recorder(bus, { groupId: 'g', topics: ['t'] });
    await other.start();
    await other.consumer.stop();
    await waitFor(() => c.assignments.length === 3);
    await producer.send('t', [msg(null, 'c', { partition: 0 })]);
    await waitFor(() => c.got.length === 3);
    await c.consumer.stop();
  });

  it('marks the batch in flight stale on seek and continues from the sought offset', async () => {
    const bus = createMemoryBus({ maxBatchMessages: 5 });
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('t', Array.from({ length: 10 }, (_, i) => msg(null, String(i), { partition: 0 })));
    const seen: number[] = [];
    let sought = false;
    const staleness: boolean[] = [];
    const c = bus.createConsumer({ groupId: 'g', topics: ['t'] });
    await c.start(async (b) => {
      for (const m of b.messages) {
        seen.push(m.offset);
        if (m.offset === 2 && !sought) {
          sought = true;
          staleness.push(b.isStale());
          // When the handler seeks back to 1 in the middle of a batch
          c.seek({ topic: 't', partition: 0, offset: 1 });
          staleness.push(b.isStale());
        }
        if (b.isStale()) break;
      }
    });
    // Then the rest of that batch is stale and delivery resumes at 1
    await waitFor(() => seen.at(-1) === 9);
    expect(staleness).toEqual([false, true]);
    expect(seen).toEqual([0, 1, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await c.stop();
  });

  it('redelivers a batch whose handler threw', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('t', [msg('k', 'a'), msg('k', 'b')]);
    const errors: unknown[] = [];
    const seen: string[] = [];
    let fail = true;
    const c = bus.createConsumer({ groupId: 'g', topics: ['t'], onError: (e) => errors.push(e) });
    await c.start(async (b) => {
      seen.push(...b.messages.map((m) => m.value.toString()));
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
    });
    await waitFor(() => seen.length === 4);
    expect(seen).toEqual(['a', 'b', 'a', 'b']);
    expect(errors).toHaveLength(1);
    await c.stop();
  });

  it('refuses a different partition count with strict, and creates topics on first send', async () => {
    const bus = createMemoryBus({ defaultPartitions: 3 });
    await bus.ensureTopics([{ topic: 't', partitions: 2 }]);
    await bus.ensureTopics([{ topic: 't', partitions: 4 }]); // not strict: left as it is
    expect(await bus.partitionCount('t')).toBe(2);
    await expect(bus.ensureTopics([{ topic: 't', partitions: 4, strict: true }])).rejects.toThrow(/2 partitions, 4 expected/);
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('auto', [msg('k', 'v')]);
    expect(await bus.partitionCount('auto')).toBe(3);
    expect(await bus.partitionCount('missing')).toBe(0);
    await expect(producer.send('t', [msg('k', 'v', { partition: 7 })])).rejects.toThrow(/no partition 7/);
  });

  it('gives a consumer that subscribed before the topic existed its partitions once created', async () => {
    const bus = createMemoryBus();
    const c = recorder(bus, { groupId: 'g', topics: ['later'] });
    await c.start();
    await bus.ensureTopics([{ topic: 'later', partitions: 2 }]);
    const producer = bus.createProducer();
    await producer.connect();
    await producer.send('later', [msg('k', 'v')]);
    await waitFor(() => c.got.length === 1);
    await c.consumer.stop();
  });

  it('moves about 500k messages a second from producer to consumer', async () => {
    const bus = createMemoryBus();
    const N = 500_000;
    await bus.ensureTopics([{ topic: 'perf', partitions: 6 }]);
    const producer = bus.createProducer();
    await producer.connect();
    const value = Buffer.alloc(224, 'x');
    const keys = Array.from({ length: 1000 }, (_, i) => `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`);
    let received = 0;
    const c = bus.createConsumer({ groupId: 'perf', topics: ['perf'] });
    await c.start(async (b) => {
      received += b.messages.length;
      await c.commit([{ topic: b.topic, partition: b.partition, offset: b.messages.at(-1)!.offset + 1 }]);
    });
    const t0 = performance.now();
    for (let i = 0; i < N; i += 2_000) {
      const batch: OutgoingMessage[] = [];
      for (let j = i; j < i + 2_000; j++) batch.push({ key: keys[j % 1000]!, value, headers: { 'storesim.seq': String(j) } });
      await producer.send('perf', batch);
    }
    await waitFor(() => received === N, 30_000, 'all messages');
    const rate = N / ((performance.now() - t0) / 1000);
    console.log(`memory bus: ${Math.round(rate).toLocaleString('en')} msgs/s end to end (keyed, murmur2, commit per batch)`);
    expect(rate).toBeGreaterThan(150_000); // a floor for slow CI machines; ~500k+ is typical
    await c.stop();
  });
});

describe('memory bus retention', () => {
  it('drops what every group has committed past (keeping a margin), so an endless run keeps flat memory', async () => {
    const bus = createMemoryBus({ defaultPartitions: 1, retainBelowCommitted: 10 });
    await bus.ensureTopics([{ topic: 'r', partitions: 1 }, { topic: 'state', partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
    const producer = bus.createProducer();
    await producer.connect();
    const seen: number[] = [];
    const consumer = bus.createConsumer({ groupId: 'g', topics: ['r'] });
    await consumer.start(async (b) => {
      for (const m of b.messages) seen.push(m.offset);
      await consumer.commit([{ topic: 'r', partition: 0, offset: b.messages[b.messages.length - 1]!.offset + 1 }]);
    });
    for (let i = 0; i < 1_000; i++) await producer.send('r', [{ key: 'k', value: `v${i}`, headers: {} }]);
    for (let i = 0; i < 100; i++) await producer.send('state', [{ key: '0', value: `s${i}`, headers: {} }]);
    for (let t = 0; seen.length < 1_000 && t < 500; t++) await new Promise((r) => setTimeout(r, 5));
    expect(seen).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
    const [r] = await bus.topicOffsets('r');
    expect(r).toEqual({ partition: 0, low: 990, high: 1_000 });
    // a compacted topic keeps the latest message of each key; offsets go on counting
    expect((await bus.readLast('state', 0))?.value.toString()).toBe('s99');
    const [s] = await bus.topicOffsets('state');
    expect(s).toEqual({ partition: 0, low: 99, high: 100 });
    // a new group starts at the earliest message kept
    const late: number[] = [];
    const c2 = bus.createConsumer({ groupId: 'late', topics: ['r'] });
    await c2.start(async (b) => { for (const m of b.messages) late.push(m.offset); });
    for (let t = 0; late.length < 10 && t < 500; t++) await new Promise((r) => setTimeout(r, 5));
    expect(late[0]).toBe(990);
    await consumer.stop();
    await c2.stop();
  });
  it('holds a send back while a running group has too much uncommitted, and lets it go on a commit or when the group empties', async () => {
    const bus = createMemoryBus({ defaultPartitions: 1, maxUncommittedPerTopic: 10 });
    await bus.ensureTopics([{ topic: 'out', partitions: 1 }, { topic: 'state', partitions: 1, config: { 'cleanup.policy': 'compact' } }]);
    const producer = bus.createProducer();
    await producer.connect();
    // No group reads the topic yet: nothing holds a send back
    await producer.send('out', Array.from({ length: 12 }, (_, i) => msg('k', `a${i}`)));
    const batches: Batch[] = [];
    const consumer = bus.createConsumer({ groupId: 'sink', topics: ['out'] });
    await consumer.start(async (b) => { batches.push(b); });
    await waitFor(() => batches.length > 0, 5_000, 'a first batch');
    // 12 uncommitted > 10: the next send waits
    let sent = false;
    const pending = producer.send('out', [msg('k', 'b0')]).then(() => { sent = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toBe(false);
    // a compacted topic never waits
    await producer.send('state', [msg('0', 's0')]);
    // a commit that brings it under the limit lets it go
    await consumer.commit([{ topic: 'out', partition: 0, offset: 5 }]);
    await pending;
    expect(sent).toBe(true);
    // over the limit again, then the group's only member leaves: nothing is held back
    await producer.send('out', Array.from({ length: 10 }, (_, i) => msg('k', `c${i}`)));
    let sent2 = false;
    const pending2 = producer.send('out', [msg('k', 'd0')]).then(() => { sent2 = true; });
    await new Promise((r) => setTimeout(r, 50));
    expect(sent2).toBe(false);
    await consumer.stop();
    await pending2;
    expect(sent2).toBe(true);
  });
});
