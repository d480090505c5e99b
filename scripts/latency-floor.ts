/**
 * The latency floor under `bench:kafka`'s (2): what a message costs on the pipeline's path when
 * nothing else happens. A paced source publishes 300-byte JSON messages with storesim's headers; a
 * consumer group reads them and publishes each again to a second topic (the processor's hop, with no
 * judging); a second group reads those and writes each batch in one INSERT … ON CONFLICT DO NOTHING
 * of jsonb rows, one write at a time, every row that arrived meanwhile in the next (the sink's group
 * commit, with no warehouse). The same publisher, bus consumers, topics of six partitions and
 * PostgreSQL as the pipeline, all in one process; no offsets are committed (the pipeline commits a
 * few times a second). Latency per message: from its `produced_at` to the commit of the transaction
 * holding it, as the pipeline's.
 *
 * Standalone: `tsx scripts/latency-floor.ts` (KAFKA_BROKERS, DATABASE_URL, FLOOR_RATE (5000),
 * FLOOR_MESSAGES (60000)).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { IncomingMessage } from '../src/kafka/bus.js';
import { createKafkaBus } from '../src/kafka/kafka-bus.js';
import { partitionForKey } from '../src/kafka/murmur2.js';
import { createPublisher } from '../src/kafka/publisher.js';
import { createLatencyHistogram } from '../src/pipeline/latency.js';

export interface LatencyFloor {
  p50: number | null;
  p99: number | null;
  /** Over the messages produced in the last 10 s (the steady state). */
  recentP50: number | null;
  recentP99: number | null;
  /** Messages committed to the database (each once: the table's key refuses a redelivered one). */
  written: number;
  /** This process's CPU seconds over the whole path, and its wall seconds. */
  cpuS: number;
  wallS: number;
}

const PARTITIONS = 6;
const PAD = 'x'.repeat(240);

export async function measureLatencyFloor(opts: { brokers: string; dbUrl: string; rate: number; messages: number; prefix: string }): Promise<LatencyFloor> {
  const topicA = `${opts.prefix}a`;
  const topicB = `${opts.prefix}b`;
  const table = `latency_floor_${opts.prefix.replace(/[^a-z0-9]/gi, '_')}`.toLowerCase();
  const bus = createKafkaBus({ brokers: opts.brokers.split(','), clientId: 'storesim-bench-floor' });
  const db = new pg.Client({ connectionString: opts.dbUrl });
  await db.connect();
  await db.query(`CREATE TABLE ${table} (topic text, part int, off bigint, payload jsonb NOT NULL, PRIMARY KEY (topic, part, off))`);
  const rawProducer = bus.createProducer();
  const hopProducer = bus.createProducer();
  const source = createPublisher({ producer: rawProducer });
  const hop = createPublisher({ producer: hopProducer });
  const first = bus.createConsumer({ groupId: `${opts.prefix}hop`, topics: [topicA] });
  const second = bus.createConsumer({ groupId: `${opts.prefix}sink`, topics: [topicB] });
  try {
    await bus.ensureTopics([{ topic: topicA, partitions: PARTITIONS }, { topic: topicB, partitions: PARTITIONS }]);
    await Promise.all([rawProducer.connect(), hopProducer.connect()]);

    // The hop: every message again, to the same partition of the next topic, as the processor's clean copy.
    await first.start(async (batch) => {
      for (const m of batch.messages) hop.enqueue(topicB, { key: m.key, value: m.value, partition: m.partition, headers: m.headers });
    });

    // The sink: one write in flight, with everything that arrived while the one before it wrote.
    const all = createLatencyHistogram();
    const samples: Array<[producedAt: number, latency: number]> = [];
    let pending: IncomingMessage[] = [];
    let writing: Promise<void> | null = null;
    let written = 0;
    let allWritten!: () => void;
    let writeFailed!: (err: unknown) => void;
    const whenAllWritten = new Promise<void>((resolve, reject) => { allWritten = resolve; writeFailed = reject; });
    const write = async (): Promise<void> => {
      while (pending.length > 0) {
        const rows = pending;
        pending = [];
        const { rowCount } = await db.query(
          `INSERT INTO ${table} (topic, part, off, payload)
           SELECT r.t, r.p, r.o, j.value FROM UNNEST($1::text[], $2::int[], $3::bigint[]) WITH ORDINALITY AS r(t, p, o, n)
           JOIN jsonb_array_elements($4::jsonb) WITH ORDINALITY AS j(value, n) USING (n)
           ON CONFLICT DO NOTHING`,
          [rows.map((m) => m.topic), rows.map((m) => m.partition), rows.map((m) => m.offset), `[${rows.map((m) => m.value.toString('utf8')).join(',')}]`],
        );
        const committedAt = Date.now();
        for (const m of rows) {
          const producedAt = Number(m.headers['storesim.produced_at']);
          all.record(committedAt - producedAt);
          samples.push([producedAt, committedAt - producedAt]);
        }
        written += rowCount ?? 0;
        if (written >= opts.messages) allWritten();
      }
      writing = null;
    };
    await second.start(async (batch) => {
      for (const m of batch.messages) pending.push(m);
      writing ??= write().catch((err: unknown) => writeFailed(err));
    });

    // The source, paced as the engine is: what is due, then the next turn (5 ms when nothing was).
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const start = Date.now();
    let sent = 0;
    while (sent < opts.messages) {
      const due = Math.min(opts.messages, Math.floor(((Date.now() - start) * opts.rate) / 1000)) - sent;
      for (let i = 0; i < due; i++, sent++) {
        const key = `customer-${sent % 997}`;
        const value = `{"event_id":"${sent}","customer_id":"${key}","type":"pick","pad":"${PAD}"}`;
        source.enqueue(topicA, { key, value, partition: partitionForKey(key, PARTITIONS), headers: { 'storesim.run': opts.prefix, 'storesim.seq': String(sent + 1), 'storesim.produced_at': String(Date.now()) } });
      }
      await new Promise<void>((r) => (due > 0 ? setImmediate(r) : setTimeout(r, 5)));
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([whenAllWritten, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`latency floor: ${written} of ${opts.messages} messages written 60 s after the last was sent`)), 60_000);
    })]);
    clearTimeout(timer);
    const cpu = process.cpuUsage(cpu0);
    const wallS = (performance.now() - wall0) / 1000;

    const lastProduced = samples.reduce((max, [p]) => Math.max(max, p), -Infinity);
    const recent = createLatencyHistogram();
    for (const [p, l] of samples) if (p > lastProduced - 10_000) recent.record(l);
    return {
      p50: all.percentile(50), p99: all.percentile(99),
      recentP50: recent.percentile(50), recentP99: recent.percentile(99),
      written, cpuS: (cpu.user + cpu.system) / 1e6, wallS,
    };
  } finally {
    await Promise.allSettled([first.stop(), second.stop()]);
    await Promise.allSettled([source.flush(), hop.flush()]);
    await Promise.allSettled([rawProducer.disconnect(), hopProducer.disconnect()]);
    await db.query(`DROP TABLE IF EXISTS ${table}`).catch(() => undefined);
    await db.end();
    await bus.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const floor = await measureLatencyFloor({
    brokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
    dbUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/storesim_bench',
    rate: Number(process.env.FLOOR_RATE ?? 5_000),
    messages: Number(process.env.FLOOR_MESSAGES ?? 60_000),
    prefix: `floor-${Date.now()}-${randomBytes(2).toString('hex')}-`,
  });
  console.log(JSON.stringify(floor));
}
