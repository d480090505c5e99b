/**
 * npm run bench:kafka — the production path on this machine's real broker and PostgreSQL:
 *   (1) end-to-end raw events/s through Kafka into PostgreSQL, verify ok;
 *   (2) latency from publish to database commit, p50/p99, with the engine paced at 5,000 raw events/s;
 *   (3) in the same run, the broker's own ceiling from Kafka's ProducerPerformance (300-byte records,
 *       acks=all) and our publisher's produce rate of 300-byte records as a ratio of it.
 * Env: KAFKA_BROKERS (127.0.0.1:9092), DATABASE_URL (postgres://postgres@127.0.0.1:5432/test),
 *      BENCH_EVENTS (100000), BENCH_PERF_RECORDS (1000000).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createKafkaBus } from '../src/kafka/kafka-bus.js';
import { partitionForKey } from '../src/kafka/murmur2.js';
import { createPublisher } from '../src/kafka/publisher.js';
import { fmt, ROOT, runHeadless } from './bench-run.js';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const dbUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PERF_RECORDS = Number(process.env.BENCH_PERF_RECORDS ?? 1_000_000);
const tag = `${Date.now()}-${randomBytes(2).toString('hex')}`;

execFileSync('bash', [join(ROOT, 'scripts/kafka-start.sh')], { stdio: 'inherit' });
console.log(`bench:kafka — broker ${brokers}, database ${dbUrl.replace(/:[^:@/]*@/, ':***@')}`);

// (1) end to end, as fast as the pipeline goes
const e2e = await runHeadless(['--seed', '42', '--events', String(EVENTS), '--layout', 'supermarket', '--rate', '60',
  '--kafka', brokers, '--database-url', dbUrl, '--topic-prefix', `bench-e2e-${tag}-`]);
console.log(`(1) end to end, ${fmt(EVENTS)} events: ${fmt(e2e.summary.events_per_sec)} raw events/s, verify ${e2e.summary.verify.ok ? 'ok' : 'FAILED'}` +
  ` (latency at full speed p50 ${e2e.summary.latency_ms.p50} ms, p99 ${e2e.summary.latency_ms.p99} ms)`);

// (2) latency at a fixed 5,000 raw events/s
const paced = await runHeadless(['--seed', '43', '--events', String(Math.min(EVENTS, 100_000)), '--eps', '5000', '--layout', 'supermarket', '--rate', '60',
  '--kafka', brokers, '--database-url', dbUrl, '--topic-prefix', `bench-lat-${tag}-`]);
console.log(`(2) at 5,000 events/s: latency p50 ${paced.summary.latency_ms.p50} ms, p99 ${paced.summary.latency_ms.p99} ms, verify ${paced.summary.verify.ok ? 'ok' : 'FAILED'}`);

// (3) the broker's ceiling vs our produce rate, same record size
const cp = readFileSync(join(ROOT, '.cache/kafka/classpath.txt'), 'utf8').trim();
const perfTopic = `bench-perf-${tag}`;
const bus = createKafkaBus({ brokers: brokers.split(','), clientId: 'storesim-bench' });
await bus.ensureTopics([{ topic: perfTopic, partitions: 6 }, { topic: `${perfTopic}-ours`, partitions: 6 }]);
const perf = spawnSync('java', ['-Xmx512m', '-cp', `${join(ROOT, 'kafka')}:${cp}`, 'org.apache.kafka.tools.ProducerPerformance',
  '--topic', perfTopic, '--num-records', String(PERF_RECORDS), '--record-size', '300', '--throughput', '-1',
  '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all'], { encoding: 'utf8' });
const m = /([\d.]+) records\/sec/.exec(perf.stdout.trim().split('\n').pop() ?? '');
const ceiling = m ? Number(m[1]) : NaN;
const producer = bus.createProducer();
await producer.connect();
const pub = createPublisher({ producer });
const value = Buffer.alloc(300, 'x');
const N = 300_000;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  const key = `customer-${i % 1000}`;
  pub.enqueue(`${perfTopic}-ours`, { key, value, partition: partitionForKey(key, 6), headers: { 'storesim.run': tag, 'storesim.seq': String(i + 1), 'storesim.produced_at': String(Date.now()) } });
  if (pub.backlog >= 20_000) await pub.waitForRoom();
}
await pub.flush();
const ours = N / ((performance.now() - t0) / 1000);
await producer.disconnect();
await bus.close();
console.log(`(3) ProducerPerformance ${fmt(ceiling)} records/s; storesim publisher ${fmt(ours)} msgs/s = ${(ours / ceiling).toFixed(2)} of the broker's ceiling`);
