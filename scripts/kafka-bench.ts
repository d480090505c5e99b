/**
 * Throughput of the Kafka bus on a real broker: raw sends, then the publisher at a few batch sizes.
 *   npx tsx scripts/kafka-bench.ts [messages=200000] [valueBytes=300]
 */
import { randomBytes } from 'node:crypto';
import { createKafkaBus } from '../src/kafka/kafka-bus.js';
import { partitionForKey } from '../src/kafka/murmur2.js';
import { createPublisher } from '../src/kafka/publisher.js';
import type { OutgoingMessage } from '../src/kafka/bus.js';

const N = Number(process.argv[2] ?? 200_000);
const SIZE = Number(process.argv[3] ?? 300);
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const bus = createKafkaBus({ brokers, clientId: 'storesim-bench' });
const value = Buffer.alloc(SIZE, 'x');
const msg = (i: number): OutgoingMessage => {
  const key = `c-${i % 997}`;
  return { key, value, partition: partitionForKey(key, 6), headers: { 'storesim.run': 'bench', 'storesim.seq': String(i), 'storesim.produced_at': String(Date.now()) } };
};
const rate = (n: number, t0: number) => Math.round(n / ((performance.now() - t0) / 1000)).toLocaleString('en');

const topic = `bench-${Date.now()}-${randomBytes(3).toString('hex')}`;
await bus.ensureTopics([{ topic, partitions: 6 }]);
const producer = bus.createProducer();
await producer.connect();

for (const batch of [2_000, 5_000]) {
  const t0 = performance.now();
  for (let i = 0; i < N; i += batch) {
    const arr: OutgoingMessage[] = [];
    for (let j = i; j < Math.min(N, i + batch); j++) arr.push(msg(j));
    await producer.send(topic, arr);
  }
  console.log(`raw send, ${batch}/send: ${rate(N, t0)} msgs/s`);
}
for (const maxBatch of [2_000, 5_000, 10_000]) {
  const pub = createPublisher({ producer, maxBatch });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    pub.enqueue(topic, msg(i));
    if (pub.backlog >= 50_000) await pub.waitForRoom();
  }
  await pub.flush();
  console.log(`publisher, maxBatch ${maxBatch}: ${rate(N, t0)} msgs/s`);
}
await producer.disconnect();
await bus.close();
