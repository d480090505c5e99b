import { describe, expect, it } from 'vitest';
import type { BusProducer, OutgoingMessage } from './bus.js';
import { createMemoryBus } from './memory-bus.js';
import { createPublisher } from './publisher.js';

const msg = (seq: number, partition = 0): OutgoingMessage => ({
  key: `k${seq % 7}`, value: String(seq), partition, headers: { 'storesim.seq': String(seq) },
});

/** A producer whose n-th send calls (1-based) listed in `failOn` fail after a delay, as kafkajs does when its retries run out. */
function flakyProducer(failOn: number[], delayMs = 2) {
  const wire: Array<{ topic: string; seq: number }> = [];
  let calls = 0;
  let outstanding = 0;
  let maxOutstanding = 0;
  const producer: BusProducer = {
    async connect() {},
    async disconnect() {},
    async send(topic, messages) {
      calls++;
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      const n = calls;
      try {
        await new Promise((r) => setTimeout(r, delayMs));
        if (failOn.includes(n)) throw Object.assign(new Error(`send ${n} failed`), { retriable: true });
        for (const m of messages) wire.push({ topic, seq: Number(m.headers['storesim.seq']) });
      } finally {
        outstanding--;
      }
    },
  };
  return { producer, wire, calls: () => calls, maxOutstanding: () => maxOutstanding };
}

describe('publisher', () => {
  it('keeps order and delivers exactly once when the 1st and 3rd sends fail', async () => {
    // Given a producer that fails its 1st and 3rd send
    const fake = flakyProducer([1, 3]);
    const errors: number[] = [];
    const pub = createPublisher({ producer: fake.producer, maxBatch: 100, retryInitialMs: 1, onError: (_e, attempt) => errors.push(attempt) });
    // When 1,000 messages over two topics are enqueued, some while sends are failing
    for (let i = 1; i <= 1_000; i++) {
      pub.enqueue(i % 3 === 0 ? 'b' : 'a', msg(i));
      if (i % 250 === 0) await new Promise((r) => setTimeout(r, 3));
    }
    await pub.flush();
    // Then every message is on the wire once, each topic in enqueue order, one send at a time
    const a = fake.wire.filter((w) => w.topic === 'a').map((w) => w.seq);
    const b = fake.wire.filter((w) => w.topic === 'b').map((w) => w.seq);
    expect(a).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1).filter((s) => s % 3 !== 0));
    expect(b).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1).filter((s) => s % 3 === 0));
    expect(fake.maxOutstanding()).toBe(1);
    expect(errors).toEqual([1, 1]);
    const s = pub.stats();
    expect(s).toMatchObject({ enqueued: 1_000, acked: 1_000, retries: 2, inflight: 0, buffered: 0, lastError: null });
    expect(pub.backlog).toBe(0);
  });

  it('retries the same batch until it goes through, before anything newer', async () => {
    const fake = flakyProducer([1, 2, 3, 4]);
    const pub = createPublisher({ producer: fake.producer, maxBatch: 10, retryInitialMs: 1, retryMaxMs: 4 });
    for (let i = 1; i <= 5; i++) pub.enqueue('t', msg(i));
    await new Promise((r) => setTimeout(r, 8));
    for (let i = 6; i <= 30; i++) pub.enqueue('t', msg(i));
    await pub.flush();
    expect(fake.wire.map((w) => w.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    expect(pub.stats().retries).toBe(4);
  });

  it('applies back-pressure: publish() refuses and waitForRoom() waits while the backlog is full', async () => {
    // Given a slow producer and room for 100 messages
    const fake = flakyProducer([], 20);
    const pub = createPublisher({ producer: fake.producer, maxBufferedMessages: 100, maxBatch: 50 });
    let accepted = 0;
    while (pub.publish('t', msg(accepted + 1))) accepted++;
    // Then the 101st is refused
    expect(accepted).toBe(100);
    expect(pub.backlog).toBe(100);
    // When the first send is acknowledged, there is room again
    let roomAt = 0;
    const t0 = Date.now();
    await pub.waitForRoom().then(() => (roomAt = Date.now() - t0));
    expect(roomAt).toBeGreaterThanOrEqual(10);
    expect(pub.backlog).toBeLessThan(100);
    expect(pub.publish('t', msg(101))).toBe(true);
    await pub.close();
    expect(fake.wire.map((w) => w.seq)).toEqual(Array.from({ length: 101 }, (_, i) => i + 1));
    expect(() => pub.enqueue('t', msg(102))).toThrow(/closed/);
  });

  it('lingers when idle and flushes at once on flush()', async () => {
    const fake = flakyProducer([]);
    const pub = createPublisher({ producer: fake.producer, lingerMs: 1_000 });
    pub.enqueue('t', msg(1));
    await new Promise((r) => setTimeout(r, 20));
    expect(fake.calls()).toBe(0); // still lingering
    await pub.flush();
    expect(fake.wire).toHaveLength(1);
    await pub.flush(); // nothing owed: resolves at once
  });

  it('abandon() drops what is not acknowledged and rejects pending flushes', async () => {
    const fake = flakyProducer([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 5);
    const pub = createPublisher({ producer: fake.producer, retryInitialMs: 5 });
    for (let i = 1; i <= 10; i++) pub.enqueue('t', msg(i));
    const flushed = pub.flush();
    await new Promise((r) => setTimeout(r, 15));
    expect(pub.abandon()).toBe(10);
    await expect(flushed).rejects.toThrow(/abandoned 10/);
    expect(pub.backlog).toBe(0);
  });

  it('publishes about 500k messages a second through the memory bus, in order per partition', async () => {
    const bus = createMemoryBus();
    await bus.ensureTopics([{ topic: 'foot', partitions: 6 }, { topic: 'shelf', partitions: 6 }]);
    const producer = bus.createProducer();
    await producer.connect();
    const pub = createPublisher({ producer });
    const N = 500_000;
    const value = Buffer.alloc(224, 'x');
    const t0 = performance.now();
    for (let i = 1; i <= N; i++) {
      pub.enqueue(i % 2 ? 'foot' : 'shelf', { key: `c${i % 997}`, value, partition: i % 6, headers: { 'storesim.seq': String(i) } });
      if (pub.backlog >= 50_000) await pub.waitForRoom();
    }
    await pub.flush();
    const rate = N / ((performance.now() - t0) / 1000);
    console.log(`publisher over memory bus: ${Math.round(rate).toLocaleString('en')} msgs/s`);
    expect(rate).toBeGreaterThan(150_000);
    const offsets = [...(await bus.topicOffsets('foot')), ...(await bus.topicOffsets('shelf'))];
    expect(offsets.reduce((s, o) => s + o.high, 0)).toBe(N);
    const last = await bus.readLast('foot', 1);
    expect(Number(last!.headers['storesim.seq'])).toBeGreaterThan(N - 12);
  });
});
