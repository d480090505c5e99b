/**
 * Test support for in-process pipeline tests: the real engine, engine driver, publisher, memory bus,
 * processor and sink over a temp SQLite database, wired as src/main.ts wires them, with handles to
 * crash, restart and intercept each part. Checks go through verifyRun with the engine's own ledger.
 */
import { expect } from 'vitest';
import { loadFixtures } from '../src/cli/load-fixtures.js';
import { createEngine } from '../src/engine/engine.js';
import { defaultEngineConfig, type Engine, type Fixtures } from '../src/engine/index.js';
import type { Bus, BusConsumer, BusProducer, IncomingMessage, OutgoingMessage, TopicPartition, TopicPartitionOffset } from '../src/kafka/bus.js';
import { createMemoryBus, type MemoryBus } from '../src/kafka/memory-bus.js';
import { createPublisher } from '../src/kafka/publisher.js';
import { openTestDatabase, type TestDatabase } from '../src/db/testing.js';
import { createEngineDriver, type DriverPublisher, type EngineDriver } from '../src/pipeline/engine-driver.js';
import { createProcessor, type Processor, type ProcessorOptions } from '../src/pipeline/processor.js';
import { createSink, type Sink, type SinkOptions } from '../src/pipeline/sink.js';
import { verifyRun, type VerifyResult } from '../src/pipeline/verify.js';
import { HEADERS } from '../src/pipeline/types.js';
import { drain, groupIds, runSettings, topicNames, type TopicNames } from '../src/main.js';
import type { RunConfig } from '../src/cli/config.js';

let cachedFixtures: Fixtures | null = null;
export function fixtures(): Fixtures {
  cachedFixtures ??= loadFixtures();
  return cachedFixtures;
}

/** A fixed run id, so two pipelines over the same seed produce byte-identical outputs. */
export const RUN_ID = '01a20000-0000-7000-8000-00000000c0de';

export interface PipelineOptions {
  events: number;
  seed?: number;
  /** Every data fault at this rate (default 0.01). */
  faultRate?: number;
  partitions?: number;
  runId?: string;
  /** Memory bus batch size (default 500). */
  maxBatchMessages?: number;
  /** Arrivals per simulated minute at peak (default: the engine's). */
  ratePerMin?: number;
  /** Arrival curve (default: the engine's, opening hours). */
  trafficCurve?: 'flat' | 'opening-hours';
  /** Keep the engine's full ledger (default true; off for long memory tests). */
  recordLedger?: boolean;
}

export interface Pipeline {
  bus: MemoryBus;
  names: TopicNames;
  groups: { processor: string; sink: string };
  runId: string;
  engine: Engine;
  db: TestDatabase;
  /** A processor in the processor group; `bus` lets a test intercept what it sends and commits. */
  startProcessor(opts?: Partial<ProcessorOptions>): Promise<Processor>;
  startSink(opts?: Partial<SinkOptions>): Promise<Sink>;
  /** Starts the engine (publishing as fast as it can); `done` resolves after the end markers. */
  startEngine(opts?: { maxBacklog?: number; bus?: Bus }): EngineDriver;
  /**
   * Holds the engine once it has produced `produced` raw messages (it stops at the end of its chunk,
   * as under back-pressure); null releases it.
   */
  holdEngineAt(produced: number | null): void;
  /** Raw messages on the bus (events and markers, both raw topics). */
  rawMessages(): Promise<number>;
  /** Waits for the engine, then for the database to hold what the engine produced. */
  drained(timeoutMs?: number): Promise<boolean>;
  /** Stops every processor and sink still running (gracefully). */
  stopAll(): Promise<void>;
  verify(): Promise<VerifyResult>;
  /** Every row of the run, minus wall-clock fields (rejected_at, produced_at), sorted: for comparing two pipelines. */
  rows(): Promise<Record<string, unknown[]>>;
  /** Every message of a topic, from the beginning. */
  readTopic(topic: string): Promise<IncomingMessage[]>;
  cleanup(): Promise<void>;
}

export async function createPipeline(opts: PipelineOptions): Promise<Pipeline> {
  const fx = fixtures();
  const partitions = opts.partitions ?? 4;
  const rate = opts.faultRate ?? 0.01;
  const config = defaultEngineConfig({
    seed: opts.seed ?? 1,
    ratePerMin: opts.ratePerMin,
    trafficCurve: opts.trafficCurve,
    faults: { schema: rate, unparseable: rate, unknown_item: rate, quantity: rate, unknown_customer: rate, late: rate, duplicate: rate },
  });
  const runId = opts.runId ?? RUN_ID;
  const bus = createMemoryBus({ defaultPartitions: partitions, maxBatchMessages: opts.maxBatchMessages });
  const names = topicNames('');
  const groups = groupIds('');
  await bus.ensureTopics([names.foot, names.shelf, names.clean, names.pos, names.visits, names.rejected, names.state].map((topic) => ({ topic, partitions })));
  const db = await openTestDatabase('sqlite');
  await db.db.migrate();
  const engine = createEngine({ fixtures: fx, config, recordLedger: opts.recordLedger ?? true });
  const processors: Processor[] = [];
  const sinks: Sink[] = [];
  let driver: EngineDriver | null = null;
  let holdAt: number | null = null;
  let holdWaiters: (() => void)[] = [];
  const held = (): boolean => holdAt !== null && engine.produced >= holdAt;
  const settings = runSettings(runId, { engine: engine.config } as unknown as RunConfig, fx);

  const pipeline: Pipeline = {
    bus, names, groups, runId, engine, db,
    async startProcessor(o = {}) {
      const p = createProcessor({ bus, groupId: groups.processor, topics: names, fixtures: fx, ...o });
      processors.push(p);
      await p.start();
      return p;
    },
    async startSink(o = {}) {
      const s = createSink({ bus, db: db.db, groupId: groups.sink, topics: names, ...o });
      sinks.push(s);
      await s.start();
      return s;
    },
    startEngine(o = {}) {
      const producer = (o.bus ?? bus).createProducer();
      void producer.connect();
      const real = createPublisher({ producer });
      // The driver waits for room when the backlog is full: a held engine sees a full backlog.
      const publisher: DriverPublisher = {
        enqueue: (topic, msg) => real.enqueue(topic, msg),
        get backlog() { return held() ? Number.MAX_SAFE_INTEGER : real.backlog; },
        async waitForRoom() {
          while (held()) await new Promise<void>((r) => holdWaiters.push(r));
          await real.waitForRoom();
        },
        flush: () => real.flush(),
      };
      // ...and never runs past the hold point.
      const paced = new Proxy(engine, {
        get(target, prop) {
          if (prop === 'run') {
            return (untilMs: number, max: number, emit: Parameters<Engine['run']>[2], untilStep?: number): number => {
              if (held()) return 0;
              const cap = holdAt === null ? max : Math.min(max, holdAt - target.produced);
              return target.run(untilMs, cap, emit, untilStep);
            };
          }
          const v: unknown = Reflect.get(target, prop, target);
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      driver = createEngineDriver({
        engine: paced, publisher, settings, topics: { foot_traffic: names.foot, shelf_events: names.shelf }, partitions,
        warp: 'max', eps: null, maxEvents: opts.events, durationMs: null, onCommand: () => undefined,
        maxBacklog: o.maxBacklog,
      });
      return driver;
    },
    holdEngineAt(produced) {
      holdAt = produced;
      if (!held()) {
        const ws = holdWaiters;
        holdWaiters = [];
        for (const w of ws) w();
      }
    },
    async rawMessages() {
      let n = 0;
      for (const t of [names.foot, names.shelf]) for (const o of await bus.topicOffsets(t)) n += o.high;
      return n;
    },
    async drained(timeoutMs = 15_000) {
      if (!driver) throw new Error('engine not started');
      await driver.done;
      return drain(db.db, runId, engine.expected(), timeoutMs);
    },
    async stopAll() {
      for (const p of processors.splice(0)) await p.stop().catch(() => undefined);
      for (const s of sinks.splice(0)) await s.stop().catch(() => undefined);
    },
    async verify() {
      return verifyRun(runId, engine.ledger(), await db.db.contents(runId), fx);
    },
    async rows() {
      const q = (sql: string) => db.query(sql.replaceAll('$run', `'${runId}'`));
      // A raw message's offset depends on where the engine driver flushed coalesced watermarks
      // (chunk ends, wall clock), so two pipelines differ there: each row's source offset is
      // checked against this bus instead, then left out of the comparison.
      const sources = new Map<string, IncomingMessage[]>();
      const rejected = (await q('SELECT run_id, seq, code, reason, source_topic, source_partition, source_offset, key, hex(value) AS value, headers FROM rejected_events WHERE run_id = $run ORDER BY seq'))
        .map((r) => {
          const h = JSON.parse(String(r.headers)) as Record<string, string>;
          delete h[HEADERS.rejectedAt];
          delete h[HEADERS.producedAt]; // wall clock at publish: differs between two pipelines
          return { ...r, headers: h } as Record<string, unknown>;
        });
      for (const r of rejected) {
        const topic = String(r.source_topic);
        if (!sources.has(topic)) sources.set(topic, await readTopic(bus, topic));
        const src = sources.get(topic)!.find((m) => m.partition === Number(r.source_partition) && m.offset === Number(r.source_offset));
        if (!src || src.value.toString('hex').toUpperCase() !== String(r.value)) {
          throw new Error(`rejected seq ${String(r.seq)}: ${topic}/${String(r.source_partition)}@${String(r.source_offset)} is not the rejected message`);
        }
        const headers = r.headers as Record<string, string>;
        if (headers[HEADERS.sourceOffset] !== String(r.source_offset)) throw new Error(`rejected seq ${String(r.seq)}: its ${HEADERS.sourceOffset} header differs from its row`);
        delete r.source_offset;
        delete headers[HEADERS.sourceOffset];
      }
      return {
        staging: await q('SELECT * FROM staging_events WHERE run_id = $run ORDER BY seq'),
        rejected,
        transactions: await q('SELECT * FROM transactions WHERE run_id = $run ORDER BY transaction_id'),
        items: await q('SELECT * FROM transaction_items WHERE run_id = $run ORDER BY transaction_id, line_no'),
        visits: await q('SELECT * FROM visits WHERE run_id = $run ORDER BY visit_id'),
      };
    },
    readTopic(topic) {
      return readTopic(bus, topic);
    },
    async cleanup() {
      await pipeline.stopAll();
      await bus.close();
      await db.cleanup();
    },
  };
  return pipeline;
}

export const VERIFY_OK = { ok: true, lost: 0, duplicated: 0, mismatched: 0 };

/** The rows of an undisturbed run of `events` raw events (verified): what a disturbed run must end up with. */
export async function undisturbedRows(events: number): Promise<Record<string, unknown[]>> {
  const p = await createPipeline({ events });
  try {
    await p.startSink();
    await p.startProcessor();
    p.startEngine();
    expect(await p.drained()).toBe(true);
    await p.stopAll();
    expect(await p.verify()).toMatchObject(VERIFY_OK);
    return await p.rows();
  } finally {
    await p.cleanup();
  }
}

/** Drains, stops, verifies, and finds exactly the rows of the undisturbed run. */
export async function finishAndCheck(p: Pipeline, reference: Record<string, unknown[]>): Promise<void> {
  expect(await p.drained()).toBe(true);
  await p.stopAll();
  expect(await p.verify()).toMatchObject(VERIFY_OK);
  expect(await p.rows()).toEqual(reference);
}

/** Waits until `processor` has read every raw message on the bus (the engine being held). */
export async function caughtUp(p: Pipeline, processor: Processor): Promise<void> {
  await waitUntil(async () => processor.stats().consumed >= (await p.rawMessages()), 'the processor to catch up');
}

/**
 * Every output message of the run, grouped by identity: all copies of one output (a replay after a
 * crash publishes some twice) must be byte-identical, except the wall-clock `rejected_at` header.
 */
export async function expectReplayedOutputsIdentical(p: Pipeline): Promise<number> {
  let replayed = 0;
  const identity = (m: IncomingMessage): string => {
    if (m.topic === p.names.clean || m.topic === p.names.rejected) return `${m.headers[HEADERS.run]}/${m.headers[HEADERS.seq]}`;
    return m.value.toString('utf8').match(/"(?:transaction_id|id)":"([^"]+)"/)?.[1] ?? m.value.toString('base64');
  };
  for (const topic of [p.names.clean, p.names.rejected, p.names.pos, p.names.visits]) {
    const seen = new Map<string, string>();
    for (const m of await p.readTopic(topic)) {
      const headers = { ...m.headers };
      delete headers[HEADERS.rejectedAt];
      const bytes = JSON.stringify([m.key, m.value.toString('base64'), headers]);
      const id = identity(m);
      const before = seen.get(id);
      if (before === undefined) seen.set(id, bytes);
      else {
        replayed++;
        expect(bytes, `${topic} ${id}`).toBe(before);
      }
    }
  }
  return replayed;
}

let readers = 0;
/** Reads a whole topic through a throwaway consumer group. */
export async function readTopic(bus: Bus, topic: string): Promise<IncomingMessage[]> {
  const highs = await bus.topicOffsets(topic);
  const want = highs.reduce((a, p) => a + p.high, 0);
  const out: IncomingMessage[] = [];
  const c = bus.createConsumer({ groupId: `test-reader-${++readers}`, topics: [topic], fromBeginning: true });
  await c.start(async (b) => { out.push(...b.messages); });
  await waitUntil(() => out.length >= want, `${want} messages of ${topic}`);
  await c.stop();
  return out;
}

/** Polls until `cond` holds; fails after `timeoutMs`. */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Interceptors {
  /** Replaces a consumer's commit; `commit()` does the real one. */
  commit?(groupId: string, offsets: TopicPartitionOffset[], commit: () => Promise<void>): Promise<void>;
  /** Replaces a producer's send; `send()` does the real one (call it twice for a redelivery). */
  send?(topic: string, messages: OutgoingMessage[], send: () => Promise<void>): Promise<void>;
  /** Told about every pause (after it took effect). */
  pause?(groupId: string, tps: TopicPartition[]): void;
}

/** The same bus, with a test's hands on commits and sends (a crash at an exact point of a checkpoint). */
export function interceptBus(bus: Bus, hooks: Interceptors): Bus {
  return {
    ...bus,
    kind: bus.kind,
    description: bus.description,
    ensureTopics: (s) => bus.ensureTopics(s),
    partitionCount: (t) => bus.partitionCount(t),
    topicOffsets: (t) => bus.topicOffsets(t),
    readLast: (t, p) => bus.readLast(t, p),
    groupOffsets: (g, t) => bus.groupOffsets(g, t),
    close: () => bus.close(),
    createProducer(): BusProducer {
      const real = bus.createProducer();
      const send = (topic: string, messages: OutgoingMessage[]): Promise<void> =>
        hooks.send ? hooks.send(topic, messages, () => real.send(topic, messages)) : real.send(topic, messages);
      return {
        connect: () => real.connect(),
        disconnect: () => real.disconnect(),
        send,
        async sendMany(batches) {
          for (const b of batches) await send(b.topic, b.messages);
        },
      };
    },
    createConsumer(o): BusConsumer {
      const real = bus.createConsumer(o);
      return {
        start: (fn) => real.start(fn),
        seek: (tp) => real.seek(tp),
        pause: (tps) => {
          real.pause(tps);
          hooks.pause?.(o.groupId, tps);
        },
        resume: (tps) => real.resume(tps),
        heartbeat: () => real.heartbeat(),
        assignment: () => real.assignment(),
        stop: () => real.stop(),
        commit: (offsets) => (hooks.commit ? hooks.commit(o.groupId, offsets, () => real.commit(offsets)) : real.commit(offsets)),
      };
    },
  };
}
