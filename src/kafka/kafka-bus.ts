/**
 * The Kafka bus: the Bus contract over kafkajs 2.2.4 (DESIGN.md, The pipeline; kafkajs traps).
 *
 * - Producer: acks=-1, not idempotent, kafkajs's DefaultPartitioner (murmur2, as the memory bus;
 *   an explicit partition wins). Order across sends is the publisher's job (one send outstanding).
 * - Consumer: eachBatch with autoCommit and auto-resolve off: offsets are committed only by
 *   commit(); a batch's offsets are resolved (fetch position moves on) only when its handler
 *   returned and it is not stale. onAssigned runs from GROUP_JOIN, after kafkajs has the new
 *   assignment (earlier seeks are ignored), and batches wait for it; every GROUP_JOIN first
 *   resumes the whole assignment (kafkajs keeps pauses across rebalances). A handler that throws
 *   gets its batch again after a backoff (as the memory bus). kafkajs never restarts a consumer by
 *   itself (restartOnFailure): after a CRASH the bus builds a new one, so that stop() knows every
 *   consumer that may join (see `ghost`).
 * - First connection: no broker within `connectionTimeout` → KafkaUnreachableError (exit 3);
 *   authentication, authorization and policy failures → KafkaRefusedError (exit 4).
 */
import './kafkajs-preload.js'; // before kafkajs: see there
import type tls from 'node:tls';
import {
  CompressionTypes, Kafka, Partitioners, PartitionAssigners, logLevel as KafkaLogLevel,
  type Admin, type Consumer, type EachBatchPayload, type ICustomPartitioner, type IHeaders, type ISocketFactory, type LogEntry, type Producer,
} from 'kafkajs';
import type {
  Batch, Bus, BusConsumer, BusProducer, ConsumerOptions, IncomingMessage, OutgoingMessage, PartitionOffsets,
  TopicPartition, TopicPartitionOffset, TopicSpec,
} from './bus.js';
import { coPartitionedAssigner } from './co-partitioned-assigner.js';
import { BusError, KafkaConfigError, KafkaRefusedError, KafkaUnreachableError } from './errors.js';
import { connectWithin, describeBrokers, kafkaSettings, mapKafkaError as mapError, quietBoundedKafka } from './connect.js';
import { classifyKafkaError, errorChain } from './kafka-errors.js';
import { installFastRecordDecoder } from './kafkajs-decode.js';
import { installFastRecordEncoder } from './kafkajs-record.js';
import { partitionForKey } from './murmur2.js';
import { within } from '../within.js';

export type KafkaBusLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

export interface KafkaLogLine {
  level: Exclude<KafkaBusLogLevel, 'nothing'>;
  namespace: string;
  message: string;
  extra: Record<string, unknown>;
}

export interface KafkaBusOptions {
  /** host:port of one or more brokers. */
  brokers: string[];
  /** Kafka client id. Default 'storesim'. */
  clientId?: string;
  /** TLS: true for the system CAs, or tls options. Default off. */
  ssl?: boolean | tls.ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  /** How long the first connection may take before KafkaUnreachableError, ms (a refused connection gives up about 1 s sooner). Default 6 000. */
  connectionTimeout?: number;
  /** Wraps every broker connection (infrastructure faults: delay, stall, drop). Default: plain sockets. */
  socketFactory?: ISocketFactory;
  /** kafkajs log level. Default 'error'. */
  logLevel?: KafkaBusLogLevel;
  /** Where kafkajs logs go (never the console while Ink is mounted). Default: one line on stderr. */
  onLog?: (line: KafkaLogLine) => void;
  /** Replication factor of topics ensureTopics creates. Default 1. */
  replicationFactor?: number;
  /**
   * Compression of produced record batches: 'none' (the default) or 'gzip', the codec kafkajs
   * ships (snappy, lz4 and zstd need codec packages storesim does not add). Consumers read either.
   */
  compression?: KafkaCompression;
}

export type KafkaCompression = 'none' | 'gzip';

export interface KafkaBus extends Bus {
  readonly kind: 'kafka';
}

const LEVELS: Record<KafkaBusLogLevel, KafkaLogLevel> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};
const LEVEL_NAMES: Record<number, KafkaLogLine['level']> = { 1: 'error', 2: 'warn', 4: 'info', 5: 'debug' };

/** Log lines that are part of normal operation and that kafkajs retries by itself. */
const GHOST_MESSAGE = 'a consumer the bus had stopped joined its group anyway: stopped again';
const EXPECTED_NOISE = /coordinator is loading|coordinator is not available|not the correct coordinator|GROUP_LOAD_IN_PROGRESS|GROUP_COORDINATOR_NOT_AVAILABLE|The group is rebalancing/i;

/**
 * kafkajs's retries of every client. Waits capped at 5 s instead of kafkajs's 30: once a broker is
 * back, a consumer resumed 0.6–5.3 s later instead of 14–29 s (20 and 30 s outages); four runs at
 * once of 70,000 events with a 20 s broker_down ended in 36.4–38.5 s, against 36.2–49.1 s
 * (docs/kafka.md). Eight retries then last about 24 s, so a consumer may crash in a long outage:
 * the bus relaunches it (scheduleRelaunch); the publisher retries a send that runs out of them.
 */
const RETRY = { initialRetryTime: 300, maxRetryTime: 5_000, retries: 8 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A broker list for people: credentials in a URL-ish broker string are masked. */
function toHeaders(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  for (const k of Object.keys(h)) {
    const v = h[k];
    if (v === undefined) continue;
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) out[k] = typeof one === 'string' ? one : one.toString('utf8');
  }
  return out;
}

const EMPTY = Buffer.alloc(0);

/**
 * kafkajs's DefaultPartitioner, the same choices (an explicit partition, else murmur2 of the key,
 * else round robin) without its per-message costs: it filters the partition list for every message
 * and hashes keys with 64-bit Long arithmetic; this hashes with Math.imul (murmur2.ts, tested
 * against kafkajs's).
 */
const keyPartitioner: ICustomPartitioner = () => {
  const roundRobin = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (typeof message.key === 'string' || Buffer.isBuffer(message.key)) return partitionForKey(message.key, partitionMetadata.length);
    return roundRobin(args);
  };
};

export function createKafkaBus(options: KafkaBusOptions): KafkaBus {
  installFastRecordEncoder(); // before this process's first produce request
  installFastRecordDecoder(); // and its first fetch
  const brokersText = describeBrokers(options.brokers);
  const deadlineMs = options.connectionTimeout ?? 6_000;
  const replicationFactor = options.replicationFactor ?? 1;
  const compression = options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const onLog = options.onLog ?? ((l: KafkaLogLine) => process.stderr.write(`kafkajs ${l.level} [${l.namespace}] ${l.message}\n`));

  const target = { ...options, clientId: options.clientId ?? 'storesim' };
  const kafka = new Kafka({
    // Per attempt; the whole first connection is bounded by `deadlineMs` below.
    ...kafkaSettings(target, deadlineMs),
    logLevel: LEVELS[options.logLevel ?? 'error'],
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      const text = `${message}${extra.error ? `: ${String(extra.error)}` : ''}`;
      if (EXPECTED_NOISE.test(text) || text.includes(GHOST_MESSAGE)) return; // the bus crashes a ghost on purpose
      // A broker's error response is thrown to the caller, which retries it or reports it in its own
      // words. "Response without match" is not one: bytes read out of frame (kafkajs-connection.ts).
      if (entry.namespace === 'Connection' && message.startsWith('Response ') && !message.startsWith('Response without match')) return;
      onLog({ level: LEVEL_NAMES[entry.level] ?? 'info', namespace: entry.namespace, message: text, extra });
    },
    retry: RETRY,
  });

  /**
   * One silent connection before the first real one, with retries bounded to about the deadline.
   * kafkajs keeps retrying a connection after disconnect() (its retrier has no abort): on a dead
   * broker, the clients' own retries (8, exponential) would log a line per attempt and hold the
   * process for a minute after the one-line error; this client's retries end within the deadline.
   */
  let probePromise: Promise<void> | null = null;
  const probe = (): Promise<void> => {
    if (!probePromise) {
      probePromise = (async () => {
        const probeKafka = quietBoundedKafka(target, deadlineMs);
        const admin = probeKafka.admin();
        try {
          await admin.connect();
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      })();
      probePromise.catch(() => {
        probePromise = null; // the next first connection tries again
      });
    }
    return probePromise;
  };

  /** A first connection: bounded in time, its failures mapped to unreachable / refused. */
  const firstConnect = (what: string, connect: () => Promise<void>, abort: () => Promise<void>): Promise<void> =>
    connectWithin(what, brokersText, deadlineMs, () => probe().then(connect), abort);
  const mapKafkaError = (err: unknown, what: string): unknown => mapError(err, what, brokersText);

  /**
   * Set by close(). A call still in flight then (a lag sample of the dashboard) must not open a new
   * admin or reader connection: nothing would close it, and its socket keeps the process alive
   * after the summary (seen: a headless run that printed its summary and never exited).
   */
  let closed = false;
  const closedError = (): BusError => new BusError('the Kafka bus is closed', { retriable: false });

  let adminPromise: Promise<Admin> | null = null;
  const getAdmin = (): Promise<Admin> => {
    if (closed) return Promise.reject(closedError());
    if (!adminPromise) {
      const admin = kafka.admin();
      adminPromise = firstConnect('admin connection', () => admin.connect(), () => admin.disconnect()).then(() => admin);
      adminPromise.catch(() => {
        adminPromise = null; // the next call tries again
      });
    }
    return adminPromise;
  };

  /**
   * Runs calls on one kafkajs client (the admin, a cluster connection). kafkajs reconnects on demand:
   * a call in flight when close() disconnected the client opens a new broker connection that nothing
   * would close (seen: a lag sample during close() kept a finished run's process alive). The last
   * call to finish after close() disconnects again.
   */
  function disconnectingAfterClose<C extends { disconnect(): Promise<void> }>(): <T>(client: C, fn: (client: C) => Promise<T>) => Promise<T> {
    let users = 0;
    return async (client, fn) => {
      users++;
      try {
        return await fn(client);
      } finally {
        users--;
        if (closed && users === 0) await client.disconnect().catch(() => undefined);
      }
    };
  }

  /** Every admin call goes through here. */
  const onAdmin = disconnectingAfterClose<Admin>();
  const useAdmin = async <T>(fn: (admin: Admin) => Promise<T>): Promise<T> => onAdmin(await getAdmin(), fn);

  /**
   * Topics seen to exist. Listing topics returns every topic on the broker (hundreds on a shared
   * one), and the monitor reads offsets several times a second: a topic, once seen, is taken to stay,
   * and a read of it that fails forgets it (deleted meanwhile: the next read lists again).
   */
  const knownTopics = new Set<string>();
  const topicExists = async (topic: string): Promise<boolean> => {
    if (knownTopics.has(topic)) return true;
    const exists = await useAdmin(async (admin) => (await admin.listTopics()).includes(topic));
    if (exists) knownTopics.add(topic);
    return exists;
  };
  const readingTopics = async <T>(topics: string[], read: () => Promise<T>): Promise<T> => {
    try {
      return await read();
    } catch (err) {
      for (const t of topics) knownTopics.delete(t);
      throw err;
    }
  };
  /** The topics of `topics` that exist (each listed at most once while it stays). */
  const existing = async (topics: string[]): Promise<string[]> => {
    const present: string[] = [];
    for (const t of topics) if (await topicExists(t)) present.push(t);
    return present;
  };

  // readLast needs a fetch without a consumer group, and the monitor offsets of many topics in one
  // request, which kafkajs only has inside its cluster object: reached through the client's private
  // factory (kafkajs 2.x, pinned).
  interface FetchedMessage { offset: string; key: Buffer | null; value: Buffer | null; headers?: IHeaders; timestamp: string; isControlRecord?: boolean }
  interface InternalCluster {
    connect(): Promise<void>;
    disconnect(): Promise<void>;
    addTargetTopic(topic: string): Promise<void>;
    addMultipleTargetTopics(topics: string[]): Promise<void>;
    refreshMetadata(): Promise<void>;
    refreshMetadataIfNecessary(): Promise<void>;
    findTopicPartitionMetadata(topic: string): Array<{ partitionId: number }>;
    fetchTopicsOffset(topics: Array<{ topic: string; fromBeginning: boolean; partitions: Array<{ partition: number }> }>): Promise<Array<{
      topic: string; partitions: Array<{ partition: number; offset: string }>;
    }>>;
    findLeaderForPartitions(topic: string, partitions: number[]): Record<string, number[]>;
    findGroupCoordinator(group: { groupId: string }): Promise<{
      offsetFetch(req: { groupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number }> }> }): Promise<{
        responses: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>;
      }>;
      leaveGroup(req: { groupId: string; memberId: string }): Promise<unknown>;
    }>;
    findBroker(node: { nodeId: string }): Promise<{
      fetch(req: object): Promise<{ responses: Array<{ topicName: string; partitions: Array<{ partition: number; messages: FetchedMessage[] }> }> }>;
    }>;
  }
  /**
   * A group-less connection through kafkajs's cluster object (reached through the client's private
   * factory, kafkajs 2.x, pinned), used by one read at a time: kafkajs's cluster opens a second
   * connection to a broker when two reads connect it at once, and leaks the first (an open socket
   * that keeps the process alive after close()). `use` runs a read with it; `close` disconnects it.
   */
  interface ClusterConnection {
    use<T>(fn: (cluster: InternalCluster) => Promise<T>): Promise<T>;
    close(): Promise<void>;
  }
  /** kafkajs's cluster object takes metadata older than this as stale (its default, 0, refetches it on every read). */
  const METADATA_MAX_AGE_MS = 300_000;
  function clusterConnection(what: string): ClusterConnection {
    let clusterPromise: Promise<InternalCluster> | null = null;
    const get = (): Promise<InternalCluster> => {
      if (closed) return Promise.reject(closedError());
      if (!clusterPromise) {
        clusterPromise = (async () => {
          const sym = Object.getOwnPropertySymbols(kafka).find((s) => s.description === 'private:Kafka:createCluster');
          const factory = sym ? (kafka as unknown as Record<symbol, unknown>)[sym] : undefined;
          if (typeof factory !== 'function') throw new BusError(`${what}: this kafkajs version has no cluster factory (needs kafkajs 2.x)`, { retriable: false });
          const cluster = (factory as (o: object) => InternalCluster)({ allowAutoTopicCreation: false, metadataMaxAge: METADATA_MAX_AGE_MS });
          await firstConnect(what, () => cluster.connect(), () => cluster.disconnect());
          return cluster;
        })();
        clusterPromise.catch(() => {
          clusterPromise = null;
        });
      }
      return clusterPromise;
    };
    const onCluster = disconnectingAfterClose<InternalCluster>();
    let queue: Promise<unknown> = Promise.resolve();
    return {
      use<T>(fn: (cluster: InternalCluster) => Promise<T>): Promise<T> {
        const run = queue.then(async () => onCluster(await get(), fn));
        queue = run.catch(() => undefined);
        return run;
      },
      async close(): Promise<void> {
        const c = clusterPromise;
        clusterPromise = null;
        if (c) await c.then((x) => x.disconnect()).catch(() => undefined);
      },
    };
  }
  /** readLast needs a fetch without a consumer group, which kafkajs only has inside its cluster object. */
  const reader = clusterConnection('reader connection');
  /** The monitor's offset reads, several a second: a connection of their own, so that readLast never waits for them. */
  const offsetsReader = clusterConnection('offsets connection');
  /**
   * LeaveGroup for members kafkajs could not take out of their group (see leaveLeftBehind), on a
   * connection open only while one is to be taken out.
   */
  const groupConnection = clusterConnection('group connection');
  let leaving = 0;
  const leaveGroup = async (groupId: string, memberId: string): Promise<void> => {
    leaving++;
    try {
      await groupConnection.use(async (cluster) => {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        await coordinator.leaveGroup({ groupId, memberId });
      });
    } finally {
      if (--leaving === 0) await groupConnection.close();
    }
  };
  type PartitionsOf = (topic: string) => Array<{ partition: number }>;
  /**
   * Runs one read of existing `topics` on `connection`, with their partitions from its metadata
   * (fetched once, then only when a read fails). Retriable errors are retried: just after a topic is
   * created the broker may not host its partitions yet ("does not host this topic-partition"), and
   * kafkajs does not retry that. A read that fails for good forgets the topics (deleted meanwhile?
   * the next read lists again).
   */
  const readTopics = <T>(connection: ClusterConnection, topics: string[], read: (cluster: InternalCluster, partitionsOf: PartitionsOf) => Promise<T>): Promise<T> =>
    readingTopics(topics, () => connection.use((cluster) => retryRetriable(async () => {
      await cluster.addMultipleTargetTopics(topics);
      await cluster.refreshMetadataIfNecessary();
      try {
        return await read(cluster, (topic) => cluster.findTopicPartitionMetadata(topic).map((p) => ({ partition: p.partitionId })));
      } catch (err) {
        await cluster.refreshMetadata().catch(() => undefined);
        throw err;
      }
    })));

  /** Low and high watermarks of `topics`: one ListOffsets request each way, one after the other (one request at a time per connection). */
  async function watermarks(cluster: InternalCluster, partitionsOf: PartitionsOf, topics: string[]): Promise<Map<string, PartitionOffsets[]>> {
    const request = (fromBeginning: boolean) => topics.map((topic) => ({ topic, fromBeginning, partitions: partitionsOf(topic) }));
    const high = await cluster.fetchTopicsOffset(request(false));
    const low = await cluster.fetchTopicsOffset(request(true));
    const out = new Map<string, PartitionOffsets[]>();
    for (const { topic, partitions } of high) {
      const lows = low.find((l) => l.topic === topic)?.partitions ?? [];
      out.set(topic, partitions
        .map((h) => ({ partition: h.partition, high: Number(h.offset), low: Number(lows.find((l) => l.partition === h.partition)?.offset ?? 0) }))
        .sort((a, b) => a.partition - b.partition));
    }
    return out;
  }

  /** Messages with offsets in [from, high) of one partition, in order (control records left out). */
  async function readRangeWith(cluster: InternalCluster, topic: string, partition: number, from: number, high: number): Promise<IncomingMessage[]> {
    await cluster.addTargetTopic(topic);
    let leaders = cluster.findLeaderForPartitions(topic, [partition]);
    if (Object.keys(leaders).length === 0) {
      await cluster.refreshMetadata();
      leaders = cluster.findLeaderForPartitions(topic, [partition]);
    }
    const nodeId = Object.keys(leaders)[0];
    if (nodeId === undefined) throw new BusError(`readLast: no leader for ${topic}/${partition}`, { retriable: true });
    const broker = await cluster.findBroker({ nodeId });
    const maxBytes = 64 * 1024 * 1024;
    const out: IncomingMessage[] = [];
    let next = from;
    while (next < high) {
      const { responses } = await broker.fetch({
        maxWaitTime: 0,
        minBytes: 1,
        maxBytes,
        isolationLevel: 1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: String(next), maxBytes }] }],
      });
      const fetched = responses.find((r) => r.topicName === topic)?.partitions.find((p) => p.partition === partition)?.messages ?? [];
      let advanced = false;
      for (const m of fetched) {
        const offset = Number(m.offset);
        if (offset < next || offset >= high) continue;
        next = offset + 1;
        advanced = true;
        if (m.isControlRecord) continue;
        out.push({
          topic,
          partition,
          offset,
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value ?? EMPTY,
          headers: toHeaders(m.headers),
          timestamp: Number(m.timestamp),
        });
      }
      if (!advanced) break; // only control records or a gap (compaction) left below high
    }
    return out;
  }

  /**
   * Until every partition of `topics` (just created) is served by its leader, for about 10 s at
   * most; past that, producers and consumers wait for leaders themselves.
   * - A KRaft broker answers "does not host this topic-partition" for a moment after a creation,
   *   longer while other clients create topics too. kafkajs's own wait (createTopics'
   *   waitForLeaders) fails on the first such answer (seen: 2 of 4 runs started at once exited).
   * - The metadata can name a leader before it serves the partition. A produce then fails for some
   *   partitions of a request, and kafkajs sends the whole request again: the others' messages
   *   twice (seen: 48 messages on a topic sent 30). ListOffsets is answered by the leader only once
   *   it serves the partition.
   */
  const waitUntilServed = async (admin: Admin, topics: string[]): Promise<void> => {
    const deadline = Date.now() + 10_000;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      try {
        const md = await admin.fetchTopicMetadata({ topics });
        if (md.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) {
          await bus.topicsOffsets(topics);
          return;
        }
      } catch (err) {
        if ((err as { retriable?: unknown }).retriable !== true) throw err;
      }
      await sleep(Math.min(500, 50 * 2 ** attempt));
    }
  };

  const producers = new Set<Producer>();
  const consumers = new Set<BusConsumer>();

  const bus: KafkaBus = {
    kind: 'kafka',
    description: `kafka ${brokersText}`,

    ensureTopics: (specs: TopicSpec[]): Promise<void> => useAdmin(async (admin) => {
      const existing = new Set(await admin.listTopics());
      const missing = specs.filter((s) => !existing.has(s.topic));
      if (missing.length > 0) {
        try {
          await admin.createTopics({
            waitForLeaders: false, // waitUntilServed below
            topics: missing.map((s) => ({
              topic: s.topic,
              numPartitions: s.partitions,
              replicationFactor,
              configEntries: Object.entries(s.config ?? {}).map(([name, value]) => ({ name, value })),
            })),
          });
        } catch (err) {
          const mapped = mapKafkaError(err, `creating topics ${missing.map((s) => s.topic).join(', ')}`);
          if (mapped instanceof KafkaRefusedError || mapped instanceof KafkaUnreachableError) {
            throw Object.assign(mapped, {
              message: `${mapped.message}; create the topics yourself and run with --no-create-topics`,
            });
          }
          // Another process may have created some of them meanwhile: fine if all exist now.
          const now = new Set(await admin.listTopics());
          if (!missing.every((s) => now.has(s.topic))) throw err;
        }
        await waitUntilServed(admin, missing.map((s) => s.topic));
      }
      const strict = specs.filter((s) => s.strict);
      if (strict.length > 0) {
        const md = await admin.fetchTopicMetadata({ topics: strict.map((s) => s.topic) });
        for (const s of strict) {
          const actual = md.topics.find((t) => t.name === s.topic)?.partitions.length ?? 0;
          if (actual !== s.partitions) {
            throw new KafkaConfigError(`topic ${s.topic} has ${actual} partitions, ${s.partitions} expected: delete it, or use --partitions ${actual}`);
          }
        }
      }
    }),

    partitionCount: (topic: string): Promise<number> => useAdmin(async (admin) => {
      if (!(await topicExists(topic))) return 0;
      const md = await readingTopics([topic], () => admin.fetchTopicMetadata({ topics: [topic] }));
      return md.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
    }),

    createProducer(): BusProducer {
      const producer = kafka.producer({
        createPartitioner: keyPartitioner,
        idempotent: false,
        allowAutoTopicCreation: true,
      });
      // One object shape for every message (partition undefined when absent: the partitioner
      // hashes the key then): kafkajs spreads each message once more, slowly when shapes vary.
      const toKafka = (m: OutgoingMessage, now: string) => ({
        key: m.key,
        value: m.value,
        headers: m.headers,
        partition: m.partition,
        timestamp: m.timestamp === undefined ? now : String(m.timestamp),
      });
      return {
        async connect() {
          if (closed) throw closedError();
          await firstConnect('producer connection', () => producer.connect(), () => producer.disconnect());
          producers.add(producer);
        },
        async send(topic, messages) {
          const now = String(Date.now());
          try {
            await producer.send({ topic, acks: -1, compression, messages: messages.map((m) => toKafka(m, now)) });
          } catch (err) {
            throw mapKafkaError(err, `a send to ${topic}`);
          }
        },
        async sendMany(batches) {
          const now = String(Date.now());
          try {
            await producer.sendBatch({
              acks: -1,
              compression,
              topicMessages: batches.map((b) => ({ topic: b.topic, messages: b.messages.map((m) => toKafka(m, now)) })),
            });
          } catch (err) {
            throw mapKafkaError(err, `a send to ${batches.map((b) => b.topic).join(', ')}`);
          }
        },
        async disconnect() {
          producers.delete(producer);
          await producer.disconnect();
        },
      };
    },

    createConsumer(opts: ConsumerOptions): BusConsumer {
      const c = createKafkaConsumer(opts);
      consumers.add(c);
      return c;
    },

    topicOffsets: async (topic: string): Promise<PartitionOffsets[]> => (await bus.topicsOffsets([topic])).get(topic) ?? [],

    // Every topic in one ListOffsets request for the high watermarks and one for the low (kafkajs's
    // admin makes a Metadata and two ListOffsets requests per topic): the monitor reads the offsets of
    // six topics several times a second, which was most of the requests a quiet run sent.
    topicsOffsets: async (topics: string[]): Promise<Map<string, PartitionOffsets[]>> => {
      const out = new Map<string, PartitionOffsets[]>(topics.map((t) => [t, []]));
      const present = await existing(topics);
      if (present.length === 0) return out;
      const read = await readTopics(offsetsReader, present, (cluster, partitionsOf) => watermarks(cluster, partitionsOf, present));
      for (const [topic, offsets] of read) out.set(topic, offsets);
      return out;
    },

    // The last offset may be a control record (or compacted away): read back until a message.
    readLast: (topic: string, partition: number): Promise<IncomingMessage | null> => bus.readLastWhere(topic, partition, () => true),

    async readLastWhere(topic: string, partition: number, match: (m: IncomingMessage) => boolean): Promise<IncomingMessage | null> {
      if (!(await topicExists(topic))) return null;
      // Its own watermarks on its own connection: a restore never waits behind the monitor's reads.
      return readTopics(reader, [topic], async (cluster, partitionsOf) => {
        const range = (await watermarks(cluster, partitionsOf, [topic])).get(topic)?.find((o) => o.partition === partition);
        if (!range || range.high <= range.low) return null;
        let window = 64;
        for (let high = range.high; high > range.low;) {
          const from = Math.max(range.low, high - window);
          const msgs = await readRangeWith(cluster, topic, partition, from, high);
          for (let i = msgs.length - 1; i >= 0; i--) if (match(msgs[i]!)) return msgs[i]!;
          high = from;
          window = Math.min(window * 4, 16_384);
        }
        return null;
      });
    },

    groupOffsets: async (groupId: string, topic: string): Promise<TopicPartitionOffset[]> =>
      (await bus.groupTopicsOffsets(groupId, [topic])).get(topic) ?? [],

    // One coordinator lookup and one OffsetFetch for all of a group's topics (kafkajs's admin makes a
    // Metadata request, a lookup and a fetch per topic).
    groupTopicsOffsets: async (groupId: string, topics: string[]): Promise<Map<string, TopicPartitionOffset[]>> => {
      const out = new Map<string, TopicPartitionOffset[]>(topics.map((t) => [t, []]));
      const present = await existing(topics);
      if (present.length === 0) return out;
      await readTopics(offsetsReader, present, async (cluster, partitionsOf) => {
        const coordinator = await cluster.findGroupCoordinator({ groupId });
        const { responses } = await coordinator.offsetFetch({ groupId, topics: present.map((topic) => ({ topic, partitions: partitionsOf(topic) })) });
        for (const { topic, partitions } of responses) {
          out.set(topic, partitions.map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) })).sort((a, b) => a.partition - b.partition));
        }
      });
      return out;
    },

    async close(): Promise<void> {
      closed = true;
      await Promise.allSettled([...consumers].map((c) => c.stop()));
      await Promise.allSettled([...producers].map((p) => p.disconnect()));
      const admin = adminPromise;
      adminPromise = null;
      if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
      await Promise.all([reader.close(), offsetsReader.close(), groupConnection.close()]);
    },
  };

  function createKafkaConsumer(opts: ConsumerOptions): BusConsumer {
    const sessionTimeout = opts.sessionTimeoutMs ?? 30_000;
    let consumer: Consumer | null = null;
    let running = false;
    let stopping: Promise<void> | null = null;
    let generation = 0;
    let assigned: TopicPartition[] = [];
    /** The onAssigned of the latest GROUP_JOIN: batches wait for it. */
    let assignedReady: Promise<void> = Promise.resolve();
    let heartbeatFn: (() => Promise<void>) | null = null;
    let relaunchTimer: NodeJS.Timeout | null = null;
    /** Relaunches since the last join: their backoff. */
    let relaunches = 0;
    /** The launch in progress (connect, subscribe, the first join), while it lasts: stop() waits for it. */
    let launching: Promise<void> | null = null;
    /**
     * Tails of delivered batches that the handler stopped in: it sought to an offset inside the
     * batch (the processor's flow control stops a side a few marker intervals ahead and pauses it).
     * Served again from memory once the partition is resumed, instead of a fetch round trip per
     * few messages (a fetch brings ~1 MB; the first measure was ~300 messages/s without this).
     * Valid only while kafkajs's position for the partition is the tail's first offset: any other
     * seek, a fetch of that partition or a rebalance drops it.
     */
    const tails = new Map<string, { topic: string; partition: number; messages: IncomingMessage[]; gen: number }>();
    /** Seeks by the handler per partition (a count) and the latest target: how a tail is recognised. */
    const seekCounts = new Map<string, number>();
    const seekTargets = new Map<string, number>();
    const tpKey = (topic: string, partition: number): string => `${partition}\u0000${topic}`;
    const seeksOf = (k: string): number => seekCounts.get(k) ?? 0;

    const byTopic = (tps: TopicPartition[]): Array<{ topic: string; partitions: number[] }> => {
      const m = new Map<string, number[]>();
      for (const { topic, partition } of tps) {
        let arr = m.get(topic);
        if (!arr) m.set(topic, (arr = []));
        arr.push(partition);
      }
      return [...m].map(([topic, partitions]) => ({ topic, partitions }));
    };

    const report = (err: unknown): void => {
      if (classifyKafkaError(err) === 'coordinator-starting') return; // retried by kafkajs, not news
      try {
        opts.onError?.(err);
      } catch {
        // a reporting callback must not break the consumer
      }
    };

    /**
     * A consumer that joins its group after the bus let go of it (stop(), a relaunch): kafkajs
     * 2.2.4's disconnect() does not stop a runner still in its first join, which joins anyway, a
     * member nobody stops. It holds its partitions without handling them (their events wait, for
     * ever) and its connections keep the process alive. Asked to disconnect once more, and made to
     * crash by its first batch (restartOnFailure keeps it down).
     */
    const ghost = (c: Consumer): boolean => consumer !== c;

    /**
     * A consumer kafkajs gave up on while the broker was away (its retries ran out) tried to leave
     * its group on the way down and could not: its member stays in the group until its session
     * runs out, and a broker that restarted meanwhile starts that session afresh when it loads the
     * group. The relaunched consumer's join waits for every known member, so the group handled
     * nothing for up to a session (30 s) after the broker was back: seen after a real broker
     * restart, a drain that gave up just before the consumers rejoined. So the member is taken out
     * of the group for it, again until it is out or this consumer has joined again.
     */
    const leaveLeftBehind = (memberId: string): void => {
      const gen = generation;
      void (async () => {
        for (let attempt = 0; running && !closed && gen === generation; attempt++) {
          try {
            await leaveGroup(opts.groupId, memberId);
            return;
          } catch (err) {
            if (errorChain(err).some((e) => e.type === 'UNKNOWN_MEMBER_ID')) return; // out already
            await sleep(Math.min(500 * 2 ** attempt, 5_000));
          }
        }
      })();
    };

    const launch = (onBatch: (batch: Batch) => Promise<void>, first: boolean): Promise<void> => {
      const p = launchConsumer(onBatch, first);
      const settled = p.catch(() => undefined);
      launching = settled;
      void settled.then(() => {
        if (launching === settled) launching = null;
      });
      return p;
    };

    const launchConsumer = async (onBatch: (batch: Batch) => Promise<void>, first: boolean): Promise<void> => {
      const c = kafka.consumer({
        groupId: opts.groupId,
        partitionAssigners: opts.assignment === 'co-partitioned' ? [coPartitionedAssigner] : [PartitionAssigners.roundRobin],
        sessionTimeout,
        heartbeatInterval: Math.max(500, Math.min(3_000, Math.floor(sessionTimeout / 3))),
        rebalanceTimeout: Math.max(sessionTimeout, 30_000),
        maxWaitTimeInMs: 500,
        allowAutoTopicCreation: false,
        // Restarts are the bus's (scheduleRelaunch): a consumer kafkajs restarts by itself can be
        // in its join when stop() comes, and become a ghost.
        retry: { ...RETRY, restartOnFailure: async () => false },
      });
      consumer = c;
      /** Its member id in the group, from its latest join. */
      let memberId: string | null = null;

      c.on(c.events.GROUP_JOIN, (event) => {
        if (ghost(c)) {
          setTimeout(() => void c.disconnect().catch(() => undefined), 0); // once its runner counts as running
          return;
        }
        memberId = event.payload.memberId;
        relaunches = 0;
        generation++;
        tails.clear();
        assigned = Object.entries(event.payload.memberAssignment).flatMap(([topic, ps]) =>
          (ps as number[]).map((partition) => ({ topic, partition })),
        );
        // kafkajs keeps pauses across a rebalance: start every assignment unpaused.
        if (assigned.length > 0) c.resume(byTopic(assigned));
        const tps = assigned.map((tp) => ({ ...tp }));
        const gen = generation;
        assignedReady = (async () => {
          for (let attempt = 1; ; attempt++) {
            try {
              await opts.onAssigned?.(tps);
              return;
            } catch (err) {
              report(err);
              if (gen !== generation || !running) return;
              await sleep(Math.min(500 * attempt, 5_000));
            }
          }
        })();
      });

      /**
       * A consumer the bus has let go of (crashed: kafkajs disconnected it; replaced by a relaunch,
       * or stopped: a ghost) can still have a request completed by kafkajs after its disconnect()
       * (a commit retried through an outage, the heartbeat after a batch fetched before the crash),
       * which connects again for it: a connection nothing would close. Seen: finished runs whose
       * process lived on until the broker dropped the idle connection, 10 minutes later. So each
       * request such a consumer completes is followed by another disconnect.
       */
      let crashed = false;
      let redisconnect: NodeJS.Timeout | null = null;
      c.on(c.events.REQUEST, () => {
        if (!(crashed || ghost(c)) || redisconnect) return;
        redisconnect = setTimeout(() => {
          redisconnect = null;
          void c.disconnect().catch(() => undefined);
        }, 50);
      });

      c.on(c.events.CRASH, (event) => {
        crashed = true;
        if (ghost(c) || !running) return;
        const { error } = event.payload;
        if (classifyKafkaError(error) === 'refused') {
          report(mapKafkaError(error, `consumer group ${opts.groupId}`));
          return;
        }
        report(error);
        if (memberId) leaveLeftBehind(memberId);
        scheduleRelaunch(onBatch); // kafkajs has disconnected it: a new one (a rebalance, then committed offsets)
      });

      const connect = async (): Promise<void> => {
        await c.connect();
        await c.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning ?? true });
      };
      if (first) await firstConnect(`consumer group ${opts.groupId}`, connect, () => c.disconnect());
      else await connect();
      if (!running || ghost(c)) {
        await c.disconnect().catch(() => undefined); // stopped meanwhile: never run
        return;
      }

      // Resolves after the first join, or after it failed (CRASH).
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: 1,
        eachBatch: (payload) => handleBatch(c, payload, onBatch),
      });
    };

    /** A new consumer after a backoff, again until one launches (kafkajs has disconnected the last). */
    const scheduleRelaunch = (onBatch: (batch: Batch) => Promise<void>): void => {
      if (!running || relaunchTimer) return;
      const backoff = Math.min(300 * 2 ** relaunches++, 5_000);
      relaunchTimer = setTimeout(() => {
        relaunchTimer = null;
        void (async () => {
          await consumer?.disconnect().catch(() => undefined);
          if (running) await launch(onBatch, false);
        })().catch((err: unknown) => {
          if (!running) return;
          report(err);
          scheduleRelaunch(onBatch);
        });
      }, backoff);
    };

    const handleBatch = async (c: Consumer, payload: EachBatchPayload, onBatch: (batch: Batch) => Promise<void>): Promise<void> => {
      if (ghost(c)) throw Object.assign(new Error(GHOST_MESSAGE), { retriable: false }); // kafkajs does not retry it
      const { batch: kb, heartbeat, isStale, isRunning, resolveOffset } = payload;
      heartbeatFn = heartbeat;
      // Wait for the assignment's onAssigned (restores, seeks), heartbeating meanwhile.
      const ready = assignedReady;
      let done = false;
      void ready.finally(() => {
        done = true;
      });
      while (!done) {
        await Promise.race([ready, sleep(1_000)]);
        if (!done) await heartbeat().catch(() => undefined);
      }
      const gen = generation;
      const stale = (): boolean => !running || consumer !== c || gen !== generation || isStale() || !isRunning();
      if (stale()) return;
      if (!assigned.some((tp) => tp.topic === kb.topic && tp.partition === kb.partition)) return;
      if (kb.messages.length === 0) {
        resolveOffset(kb.lastOffset()); // only control records: move past them
        return;
      }
      const topic = kb.topic;
      const partition = kb.partition;
      const k = tpKey(topic, partition);
      tails.delete(k); // kafkajs fetched this partition again: its position wins
      const seeksBefore = seeksOf(k);
      const messages: IncomingMessage[] = new Array(kb.messages.length);
      for (let i = 0; i < kb.messages.length; i++) {
        const m = kb.messages[i]!;
        messages[i] = {
          topic,
          partition,
          offset: Number(m.offset),
          key: m.key ? m.key.toString('utf8') : null,
          value: m.value ?? EMPTY,
          headers: toHeaders(m.headers),
          timestamp: Number(m.timestamp),
        };
      }
      try {
        await onBatch({ topic, partition, messages, isStale: stale });
      } catch (err) {
        // As the memory bus: the same batch again after a backoff. Seek back so the next fetch
        // starts at its first message (its offsets were not resolved).
        report(err);
        if (!stale()) c.seek({ topic, partition, offset: String(messages[0]!.offset) });
        await sleep(500);
        await heartbeat().catch(() => undefined);
        return;
      }
      if (!stale()) resolveOffset(kb.lastOffset());
      else keepTail(topic, partition, messages, seeksBefore, gen);
      await heartbeat().catch(() => undefined);
      await serveTails(c, onBatch, heartbeat, isRunning);
    };

    /** After a handler returned: if it sought into the batch it was given, keep the rest for later. */
    const keepTail = (topic: string, partition: number, messages: IncomingMessage[], seeksBefore: number, gen: number): void => {
      const k = tpKey(topic, partition);
      if (!running || gen !== generation || seeksOf(k) === seeksBefore) return;
      const target = seekTargets.get(k);
      if (target === undefined || target <= messages[0]!.offset || target > messages[messages.length - 1]!.offset) return;
      const from = messages.findIndex((m) => m.offset >= target);
      if (from <= 0 || messages[from]!.offset !== target) return;
      tails.set(k, { topic, partition, messages: messages.slice(from), gen });
    };

    /**
     * Delivers kept tails of partitions the handler has resumed meanwhile, until none is left to
     * deliver. Runs inside kafkajs's eachBatch, so no fetch of this broker's partitions runs
     * concurrently, and the one-handler-at-a-time promise holds.
     */
    const serveTails = async (
      c: Consumer, onBatch: (batch: Batch) => Promise<void>, heartbeat: () => Promise<void>, isRunning: () => boolean,
    ): Promise<void> => {
      while (running && consumer === c && isRunning() && tails.size > 0) {
        const paused = new Set(c.paused().flatMap((t) => t.partitions.map((p) => tpKey(t.topic, p))));
        let next: { k: string; topic: string; partition: number; messages: IncomingMessage[]; gen: number } | undefined;
        for (const [k, t] of tails) {
          if (t.gen !== generation || !assigned.some((a) => a.topic === t.topic && a.partition === t.partition)) {
            tails.delete(k);
            continue;
          }
          if (!paused.has(k)) {
            next = { k, ...t };
            break;
          }
        }
        if (!next) return;
        const { k, topic, partition, messages } = next;
        tails.delete(k);
        const gen = generation;
        const seeksBefore = seeksOf(k);
        const stale = (): boolean => !running || consumer !== c || gen !== generation || !isRunning() || seeksOf(k) !== seeksBefore;
        try {
          await onBatch({ topic, partition, messages, isStale: stale });
        } catch (err) {
          report(err);
          // kafkajs's position is still the tail's first offset: the next fetch brings it again.
          await sleep(500);
          return;
        }
        if (!running || consumer !== c || gen !== generation) return;
        if (seeksOf(k) === seeksBefore) {
          // Consumed to the end: move kafkajs's position past it (its pending seek was the tail's start).
          c.seek({ topic, partition, offset: String(messages[messages.length - 1]!.offset + 1) });
        } else {
          keepTail(topic, partition, messages, seeksBefore, gen);
        }
        await heartbeat().catch(() => undefined);
      }
    };

    const self: BusConsumer = {
      async start(onBatch) {
        if (running) throw new BusError(`consumer ${opts.groupId} already started`, { retriable: false });
        if (closed) throw closedError();
        running = true;
        try {
          await launch(onBatch, true);
        } catch (err) {
          running = false;
          consumer = null;
          throw err;
        }
      },

      seek({ topic, partition, offset }) {
        const k = tpKey(topic, partition);
        seekCounts.set(k, seeksOf(k) + 1);
        seekTargets.set(k, offset);
        const tail = tails.get(k);
        if (tail && tail.messages[0]!.offset !== offset) tails.delete(k);
        consumer?.seek({ topic, partition, offset: String(offset) });
      },

      pause(tps) {
        if (tps.length > 0) consumer?.pause(byTopic(tps));
      },

      resume(tps) {
        if (tps.length > 0) consumer?.resume(byTopic(tps));
      },

      async commit(offsets) {
        if (!consumer || offsets.length === 0) return;
        await consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
      },

      async heartbeat() {
        await heartbeatFn?.().catch(() => undefined);
      },

      assignment() {
        return assigned.map((tp) => ({ ...tp }));
      },

      async stop() {
        if (stopping) return stopping;
        if (!running && !consumer) return;
        running = false;
        if (relaunchTimer) clearTimeout(relaunchTimer);
        relaunchTimer = null;
        const c = consumer;
        const inFlight = launching;
        stopping = (async () => {
          // A launch in progress ends first (see `ghost`; cut in its connection, kafkajs also logs
          // errors): then disconnect() leaves the group. Bounded: a join can wait for a dead
          // member's session to run out, a connection for a broker to come back.
          if (inFlight) await within(inFlight, sessionTimeout);
          // disconnect() waits for the batch in flight, then leaves the group without committing.
          await c?.disconnect().catch(() => undefined);
          consumer = null;
          assigned = [];
          tails.clear();
          heartbeatFn = null;
          consumers.delete(self);
        })();
        await stopping;
        stopping = null;
      },
    };
    return self;
  }

  return bus;
}

/** Retries a call while it fails with an error kafkajs marks retriable, for up to about 5 s. */
async function retryRetriable<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 12 || (err as { retriable?: unknown }).retriable !== true) throw err;
      await new Promise((r) => setTimeout(r, Math.min(1_000, 50 * 2 ** attempt)));
    }
  }
}
