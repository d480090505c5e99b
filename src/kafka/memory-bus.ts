/**
 * The in-process bus: the offline default, so a first run needs no services (DESIGN.md, The
 * pipeline). It behaves as Kafka does where the code above the bus can tell the difference:
 * murmur2 partitioning, offsets, consumer groups with committed offsets, eager rebalances (every
 * member gives up its partitions, waits for the others, then restarts each owned partition from
 * its committed offset, as kafkajs does after every join), redelivery of what was not committed,
 * pauses lifted on every assignment, seeks that make the batch in flight stale.
 *
 * Messages are stored as they are given (value Buffers and header objects are not copied); a
 * partition is an array whose index is the offset. Compacted topics keep every message: their
 * reader takes the latest per key.
 *
 * In-process extras: a producer in this process may hand, next to a message's value, the value's
 * exact text and its JSON (`InProcessExtras`: what it decoded or built anyway); the bus keeps them
 * on the delivered message, so a consumer here (the sink) reads them instead of decoding and parsing
 * the same bytes again. They are a cache of the value, never other data: `text` decodes `value`
 * (UTF-8) and `json` is `JSON.parse(text)`. Kafka carries only the bytes, and consumers fall back to
 * them when the extras are absent.
 */
import type {
  Batch, Bus, BusConsumer, BusProducer, ConsumerOptions, IncomingMessage, OutgoingMessage, PartitionOffsets,
  TopicPartition, TopicPartitionOffset, TopicSpec,
} from './bus.js';
import { BusError, KafkaConfigError } from './errors.js';
import { partitionForKey } from './murmur2.js';

export interface MemoryBusOptions {
  /** Partitions of a topic created implicitly (by a send to a missing topic). Default 6. */
  defaultPartitions?: number;
  /**
   * Messages kept per partition below the lowest offset every group has committed (older ones are
   * dropped, as Kafka's retention would: an endless offline run keeps flat memory). Default 5 000.
   */
  retainBelowCommitted?: number;
  /** Most messages in one batch handed to a consumer. Default 500. */
  maxBatchMessages?: number;
  /**
   * Back-pressure: a send to a topic waits while the topic holds more than this many messages that
   * a group reading it (with a member running) has not committed yet. Kafka's broker would keep them
   * on disk; here they are in memory, so a consumer slower than its producer (the sink behind the
   * processor) would otherwise grow the heap without bound. Compacted topics never wait. Default
   * 40 000.
   */
  maxUncommittedPerTopic?: number;
}

/** See the header: optional, exact caches of a message's value, kept by the in-process bus only. */
export interface InProcessExtras {
  /** The value decoded as UTF-8, exactly (no byte-order mark stripped, no replacement characters). */
  text?: string;
  /** JSON.parse(text), read-only for everyone. */
  json?: unknown;
}

/** The value's exact text when the producer handed it over in this process, else undefined. */
export function messageText(m: IncomingMessage): string | undefined {
  return (m as IncomingMessage & InProcessExtras).text;
}

/** The value's parsed JSON when the producer handed it over in this process, else undefined. */
export function messageJson(m: IncomingMessage): unknown {
  return (m as IncomingMessage & InProcessExtras).json;
}

export interface MemoryBus extends Bus {
  readonly kind: 'memory';
  /** Names of the topics that exist. */
  topics(): string[];
}

/** One partition: offsets from `low` to `high` (exclusive), the oldest dropped by trim(). */
interface PartitionLog {
  readonly low: number;
  readonly high: number;
  /** Stores `msg` as the next offset (sets its `offset`). */
  append(msg: IncomingMessage): void;
  /** Messages with offsets in [from, to), in order. */
  slice(from: number, to: number): IncomingMessage[];
  last(): IncomingMessage | null;
  /** Drops messages below `offset`. */
  trim(offset: number): void;
  /** Lets go of the in-process extras of messages in [from, to): committed, they are not read again. */
  forgetExtras(from: number, to: number): void;
}

function createPartitionLog(): PartitionLog {
  let items: IncomingMessage[] = [];
  let head = 0;
  let base = 0;
  return {
    get low() { return base; },
    get high() { return base + items.length - head; },
    append(msg) {
      msg.offset = base + items.length - head;
      items.push(msg);
    },
    slice(from, to) {
      const f = Math.max(from, base);
      return f >= to ? [] : items.slice(head + f - base, head + to - base);
    },
    last() {
      return items.length > head ? items[items.length - 1]! : null;
    },
    forgetExtras(from, to) {
      const end = Math.min(to, base + items.length - head);
      for (let o = Math.max(from, base); o < end; o++) {
        const m = items[head + o - base] as IncomingMessage & InProcessExtras;
        if (m.json === undefined && m.text === undefined) continue;
        m.json = undefined;
        m.text = undefined;
      }
    },
    trim(offset) {
      const high = base + items.length - head;
      const upTo = Math.min(offset, high);
      if (upTo <= base) return;
      head += upTo - base;
      base = upTo;
      if (head > 4_096 && head * 2 > items.length) {
        items = items.slice(head);
        head = 0;
      }
    },
  };
}

/** A compacted partition (cleanup.policy=compact): only the latest message of each key is kept. */
function createCompactedLog(): PartitionLog {
  const byKey = new Map<string | null, IncomingMessage>();
  let high = 0;
  let lastMsg: IncomingMessage | null = null;
  return {
    get low() {
      let low = high;
      for (const m of byKey.values()) low = Math.min(low, m.offset);
      return low;
    },
    get high() { return high; },
    append(msg) {
      msg.offset = high++;
      byKey.set(msg.key, msg);
      lastMsg = msg;
    },
    slice(from, to) {
      return [...byKey.values()].filter((m) => m.offset >= from && m.offset < to).sort((a, b) => a.offset - b.offset);
    },
    last() { return lastMsg; },
    trim() { /* compaction keeps what it keeps */ },
    forgetExtras() { /* state snapshots carry none */ },
  };
}

interface TopicLog {
  name: string;
  partitions: PartitionLog[];
  config: Record<string, string>;
  /** Counter for messages with neither key nor partition (Kafka spreads them; so do we). */
  roundRobin: number;
}

/** One owned topic-partition of a member. */
interface Owned {
  topic: string;
  partition: number;
  log: PartitionLog;
  position: number;
  paused: boolean;
  /** Bumped by seek and revocation: a batch taken at another epoch is stale. */
  epoch: number;
  /**
   * Most messages in this partition's next batch: halved towards what the consumer used when it cut
   * a batch short with a seek (the processor's flow control takes a few messages of a side, then
   * seeks back), doubled back up to maxBatch by each batch it takes whole, so a batch is not copied
   * hundreds of messages at a time only for a handful to be read.
   */
  limit: number;
  /** Offsets [lastStart, lastEnd) of the last batch handed out. */
  lastStart: number;
  lastEnd: number;
}

interface Group {
  id: string;
  committed: Map<string, number[]>;
  members: Member[];
  generation: number;
  /** Members that have not yet given up their partitions for `generation`. */
  pendingJoin: Set<Member>;
}

interface Member {
  readonly id: string;
  readonly opts: ConsumerOptions;
  /** Set when the group rebalances: give up everything, then wait for the new assignment. */
  revokeRequested: boolean;
  pendingAssignment: TopicPartition[] | null;
  wake(): void;
}

/** No lone surrogates: Buffer.from(text) then decodes back to exactly `text` (ES2024, in Node 20). */
const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/**
 * A message on the in-process bus. A producer that sent text keeps it as text: the bytes are made on
 * the first read of `value` (UTF-8, as Kafka would carry them), and most are never read (the
 * processor and the sink work from `text` and `json`; dead letters and Kafka read bytes).
 */
class MemoryMessage implements IncomingMessage, InProcessExtras {
  offset = 0;
  #source: Buffer | string;

  constructor(
    readonly topic: string,
    readonly partition: number,
    readonly key: string | null,
    source: Buffer | string,
    readonly headers: Record<string, string>,
    readonly timestamp: number,
    public text: string | undefined,
    public json: unknown,
  ) {
    this.#source = source;
  }

  get value(): Buffer {
    const v = this.#source;
    if (typeof v !== 'string') return v;
    return (this.#source = Buffer.from(v));
  }
}

/** Smallest batch the adaptive limit goes down to. */
const MIN_BATCH = 16;

const tpKey = (topic: string, partition: number): string => `${topic}\u0000${partition}`;

export function createMemoryBus(options: MemoryBusOptions = {}): MemoryBus {
  const defaultPartitions = options.defaultPartitions ?? 6;
  const maxBatch = options.maxBatchMessages ?? 500;
  const retain = options.retainBelowCommitted ?? 5_000;
  const maxUncommitted = options.maxUncommittedPerTopic ?? 40_000;
  /** Sends waiting for room (see maxUncommittedPerTopic), woken by commits and membership changes. */
  let roomWaiters: (() => void)[] = [];
  const wakeRoomWaiters = (): void => {
    if (roomWaiters.length === 0) return;
    const ws = roomWaiters;
    roomWaiters = [];
    for (const w of ws) w();
  };
  /** Messages of `topic` that the slowest group with a running member has not committed. */
  const uncommitted = (log: TopicLog): number => {
    let worst = 0;
    for (const g of groups.values()) {
      if (!g.members.some((m) => m.opts.topics.includes(log.name))) continue;
      const committed = g.committed.get(log.name);
      let n = 0;
      for (let p = 0; p < log.partitions.length; p++) {
        const part = log.partitions[p]!;
        const c = committed?.[p];
        n += part.high - Math.max(part.low, c !== undefined && c >= 0 ? c : part.low);
      }
      if (n > worst) worst = n;
    }
    return worst;
  };
  const topics = new Map<string, TopicLog>();
  const groups = new Map<string, Group>();
  /** Running members by subscribed topic, woken on append. */
  const subscribers = new Map<string, Set<Member>>();
  let memberSeq = 0;
  let closed = false;

  const createTopic = (name: string, partitions: number, config: Record<string, string> = {}): TopicLog => {
    if (!Number.isInteger(partitions) || partitions < 1) {
      throw new KafkaConfigError(`topic ${name}: partitions must be a positive integer, got ${partitions}`);
    }
    const compacted = config['cleanup.policy'] === 'compact';
    const log: TopicLog = {
      name, partitions: Array.from({ length: partitions }, () => (compacted ? createCompactedLog() : createPartitionLog())), config: { ...config }, roundRobin: 0,
    };
    topics.set(name, log);
    // Groups waiting for this topic get its partitions now.
    for (const g of groups.values()) {
      if (g.members.some((m) => m.opts.topics.includes(name))) rebalance(g);
    }
    return log;
  };

  const getGroup = (id: string): Group => {
    let g = groups.get(id);
    if (!g) {
      g = { id, committed: new Map(), members: [], generation: 0, pendingJoin: new Set() };
      groups.set(id, g);
    }
    return g;
  };

  /** Eager rebalance: every member gives up its partitions; the last to do so triggers assign(). */
  function rebalance(g: Group): void {
    g.generation++;
    g.pendingJoin = new Set(g.members);
    for (const m of g.members) {
      m.revokeRequested = true;
      m.pendingAssignment = null;
      m.wake();
    }
  }

  function memberRevoked(g: Group, m: Member): void {
    g.pendingJoin.delete(m);
    if (g.pendingJoin.size === 0 && g.members.length > 0) assign(g);
  }

  function assign(g: Group): void {
    const members = [...g.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const result = new Map<Member, TopicPartition[]>(members.map((m) => [m, []]));
    const subscribedTopics = [...new Set(members.flatMap((m) => m.opts.topics))].filter((t) => topics.has(t));
    const coPartitioned = members.some((m) => m.opts.assignment === 'co-partitioned');
    if (coPartitioned) {
      // Partition p of every topic to the same member; p round-robin over the sorted members.
      const maxParts = Math.max(0, ...subscribedTopics.map((t) => topics.get(t)!.partitions.length));
      for (let p = 0; p < maxParts; p++) {
        const m = members[p % members.length]!;
        for (const t of subscribedTopics) {
          if (p < topics.get(t)!.partitions.length && m.opts.topics.includes(t)) result.get(m)!.push({ topic: t, partition: p });
        }
      }
    } else {
      // Round-robin over every topic-partition, as kafkajs's RoundRobinAssigner.
      let i = 0;
      for (const t of subscribedTopics) {
        const eligible = members.filter((m) => m.opts.topics.includes(t));
        for (let p = 0; p < topics.get(t)!.partitions.length; p++) {
          result.get(eligible[i++ % eligible.length]!)!.push({ topic: t, partition: p });
        }
      }
    }
    for (const [m, tps] of result) {
      m.pendingAssignment = tps;
      m.wake();
    }
  }

  const bus: MemoryBus = {
    kind: 'memory',
    description: 'in-process',

    topics: () => [...topics.keys()],

    async ensureTopics(specs: TopicSpec[]): Promise<void> {
      for (const s of specs) {
        const existing = topics.get(s.topic);
        if (!existing) createTopic(s.topic, s.partitions, s.config);
        else if (s.strict && existing.partitions.length !== s.partitions) {
          throw new KafkaConfigError(
            `topic ${s.topic} has ${existing.partitions.length} partitions, ${s.partitions} expected`,
          );
        }
      }
    },

    async partitionCount(topic: string): Promise<number> {
      return topics.get(topic)?.partitions.length ?? 0;
    },

    createProducer(): BusProducer {
      let connected = false;
      const producer: BusProducer = {
        async connect() {
          connected = true;
        },
        async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
          if (!connected) throw new BusError('memory bus: send() before connect()', { retriable: false });
          if (closed) throw new BusError('memory bus: closed', { retriable: false });
          const log = topics.get(topic) ?? createTopic(topic, defaultPartitions);
          if (log.config['cleanup.policy'] !== 'compact') {
            while (!closed && uncommitted(log) > maxUncommitted) await new Promise<void>((r) => roomWaiters.push(r));
            if (closed) throw new BusError('memory bus: closed', { retriable: false });
          }
          const parts = log.partitions;
          const n = parts.length;
          const now = Date.now();
          for (const msg of messages) {
            let p = msg.partition;
            if (p === undefined) {
              p = msg.key === null ? log.roundRobin++ % n : partitionForKey(msg.key, n);
            } else if (!(p >= 0 && p < n && Number.isInteger(p))) {
              throw new BusError(`memory bus: topic ${topic} has no partition ${p}`, { retriable: false });
            }
            const extras = msg as OutgoingMessage & InProcessExtras;
            const text = extras.text ?? (typeof msg.value === 'string' ? msg.value : undefined);
            const exact = text !== undefined && isWellFormed(text) ? text : undefined;
            parts[p]!.append(new MemoryMessage(topic, p, msg.key, msg.value, msg.headers, msg.timestamp ?? now, exact, extras.json));
          }
          const subs = subscribers.get(topic);
          if (subs) for (const m of subs) m.wake();
        },
        async sendMany(batches) {
          for (const b of batches) await producer.send(b.topic, b.messages);
        },
        async disconnect() {
          connected = false;
        },
      };
      return producer;
    },

    createConsumer(opts: ConsumerOptions): BusConsumer {
      return createMemoryConsumer(opts);
    },

    async topicOffsets(topic: string): Promise<PartitionOffsets[]> {
      const log = topics.get(topic);
      if (!log) return [];
      return log.partitions.map((arr, partition) => ({ partition, low: arr.low, high: arr.high }));
    },

    async topicsOffsets(names: string[]): Promise<Map<string, PartitionOffsets[]>> {
      return new Map(await Promise.all(names.map(async (t) => [t, await bus.topicOffsets(t)] as const)));
    },

    async readLast(topic: string, partition: number): Promise<IncomingMessage | null> {
      return topics.get(topic)?.partitions[partition]?.last() ?? null;
    },

    async readLastWhere(topic: string, partition: number, match: (m: IncomingMessage) => boolean): Promise<IncomingMessage | null> {
      const log = topics.get(topic)?.partitions[partition];
      if (!log) return null;
      const all = log.slice(log.low, log.high);
      for (let i = all.length - 1; i >= 0; i--) if (match(all[i]!)) return all[i]!;
      return null;
    },

    async groupOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
      const log = topics.get(topic);
      if (!log) return [];
      const committed = groups.get(groupId)?.committed.get(topic);
      return log.partitions.map((_, partition) => ({ topic, partition, offset: committed?.[partition] ?? -1 }));
    },

    async groupTopicsOffsets(groupId: string, names: string[]): Promise<Map<string, TopicPartitionOffset[]>> {
      return new Map(await Promise.all(names.map(async (t) => [t, await bus.groupOffsets(groupId, t)] as const)));
    },

    async close(): Promise<void> {
      closed = true;
      wakeRoomWaiters();
    },
  };

  /** Drops what every group that reads `topic` has committed past, keeping `retain` messages below. */
  function applyRetention(topic: string, partition: number): void {
    const log = topics.get(topic)?.partitions[partition];
    if (!log) return;
    let min = Number.POSITIVE_INFINITY;
    for (const g of groups.values()) {
      const c = g.committed.get(topic)?.[partition];
      const reads = g.members.some((m) => m.opts.topics.includes(topic));
      if (c === undefined || c < 0) {
        if (reads) return; // a reader that has not committed yet still needs everything
        continue;
      }
      min = Math.min(min, c);
    }
    if (Number.isFinite(min)) log.trim(min - retain);
  }

  function createMemoryConsumer(opts: ConsumerOptions): BusConsumer {
    const group = getGroup(opts.groupId);
    const fromBeginning = opts.fromBeginning ?? true;
    let owned: Owned[] = [];
    const ownedByKey = new Map<string, Owned>();
    let cursor = 0;
    let running = false;
    let loopDone: Promise<void> = Promise.resolve();
    let waiter: (() => void) | null = null;

    const member: Member = {
      id: `memory-${opts.groupId}-${String(++memberSeq).padStart(6, '0')}`,
      opts,
      revokeRequested: false,
      pendingAssignment: null,
      wake() {
        const w = waiter;
        waiter = null;
        w?.();
      },
    };

    const revokeAll = (): void => {
      for (const o of owned) o.epoch++;
      owned = [];
      ownedByKey.clear();
    };

    const applyAssignment = (tps: TopicPartition[]): void => {
      revokeAll();
      for (const { topic, partition } of tps) {
        const log = topics.get(topic)!.partitions[partition]!;
        const committed = group.committed.get(topic)?.[partition];
        const o: Owned = {
          topic, partition, log,
          position: committed !== undefined && committed >= 0 ? committed : fromBeginning ? log.low : log.high,
          paused: false,
          epoch: 0,
          limit: maxBatch,
          lastStart: -1,
          lastEnd: -1,
        };
        owned.push(o);
        ownedByKey.set(tpKey(topic, partition), o);
      }
      cursor = 0;
    };

    /** The next batch, visiting owned partitions round-robin; null when nothing is new. */
    const nextBatch = (): { o: Owned; batch: Batch } | null => {
      const n = owned.length;
      for (let i = 0; i < n; i++) {
        const idx = (cursor + i) % n;
        const o = owned[idx]!;
        if (o.position < o.log.low) o.position = o.log.low; // dropped by retention: the earliest kept
        if (o.paused || o.position >= o.log.high) continue;
        cursor = (idx + 1) % n;
        if (o.position === o.lastEnd && o.limit < maxBatch) o.limit = Math.min(maxBatch, o.limit * 2);
        const end = Math.min(o.position + o.limit, o.log.high);
        o.lastStart = o.position;
        o.lastEnd = end;
        const messages = o.log.slice(o.position, end);
        o.position = end;
        const epoch = o.epoch;
        return { o, batch: { topic: o.topic, partition: o.partition, messages, isStale: () => o.epoch !== epoch || !running } };
      }
      return null;
    };

    const loop = async (onBatch: (batch: Batch) => Promise<void>): Promise<void> => {
      let failures = 0;
      while (running) {
        if (member.revokeRequested) {
          member.revokeRequested = false;
          revokeAll();
          memberRevoked(group, member);
          continue;
        }
        const tps = member.pendingAssignment;
        if (tps) {
          member.pendingAssignment = null;
          applyAssignment(tps);
          try {
            if (opts.onAssigned) await opts.onAssigned(tps.map((tp) => ({ ...tp })));
          } catch (err) {
            // Try the whole assignment again (a restore that failed must not leave partitions
            // delivering from the wrong place).
            opts.onError?.(err);
            if (!member.revokeRequested && !member.pendingAssignment) member.pendingAssignment = tps;
            await new Promise((r) => setTimeout(r, 500));
          }
          continue;
        }
        const next = nextBatch();
        if (!next) {
          await new Promise<void>((resolve) => {
            waiter = resolve;
          });
          continue;
        }
        try {
          await onBatch(next.batch);
          failures = 0;
        } catch (err) {
          // As kafkajs: a handler that throws gets the batch again (from where it started), after
          // a backoff. Handlers are meant to dead-letter bad data and return normally.
          failures++;
          if (!next.batch.isStale()) {
            next.o.position = next.batch.messages[0]!.offset;
            next.o.epoch++;
          }
          opts.onError?.(err);
          await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (failures - 1), 5_000)));
        }
      }
    };

    const consumer: BusConsumer = {
      async start(onBatch) {
        if (running) throw new BusError('memory bus: consumer already started', { retriable: false });
        running = true;
        group.members.push(member);
        for (const t of opts.topics) {
          let s = subscribers.get(t);
          if (!s) subscribers.set(t, (s = new Set()));
          s.add(member);
        }
        rebalance(group);
        loopDone = loop(onBatch);
        // The loop runs until stop(); start() resolves once the member is in the group, as
        // kafkajs's run() does.
      },

      seek({ topic, partition, offset }) {
        const o = ownedByKey.get(tpKey(topic, partition));
        if (!o) return; // as kafkajs: a seek on a partition not owned is ignored
        if (offset >= o.lastStart && offset < o.lastEnd) o.limit = Math.max(MIN_BATCH, Math.min(maxBatch, 2 * (offset - o.lastStart)));
        o.position = offset;
        o.epoch++;
        member.wake();
      },

      pause(tps) {
        for (const { topic, partition } of tps) {
          const o = ownedByKey.get(tpKey(topic, partition));
          if (o) o.paused = true;
        }
      },

      resume(tps) {
        for (const { topic, partition } of tps) {
          const o = ownedByKey.get(tpKey(topic, partition));
          if (o) o.paused = false;
        }
        member.wake();
      },

      async commit(offsets) {
        for (const { topic, partition, offset } of offsets) {
          // A member commits only what it owns: a late commit of a revoked partition is dropped
          // (Kafka refuses a commit from a stale generation; at-least-once either way).
          if (!ownedByKey.has(tpKey(topic, partition))) continue;
          let arr = group.committed.get(topic);
          if (!arr) group.committed.set(topic, (arr = []));
          const before = arr[partition];
          arr[partition] = offset;
          // What a group committed past is kept for rewinds only: without its extras (a redelivery
          // decodes the bytes, as from Kafka), so that retention does not hold parsed objects.
          const from = before !== undefined && before >= 0 ? before : 0;
          if (offset > from) topics.get(topic)?.partitions[partition]?.forgetExtras(from, offset);
          wakeRoomWaiters();
          applyRetention(topic, partition);
        }
      },

      async heartbeat() {},

      assignment() {
        return owned.map((o) => ({ topic: o.topic, partition: o.partition }));
      },

      async stop() {
        if (!running) return;
        running = false;
        member.wake();
        await loopDone;
        revokeAll();
        for (const t of opts.topics) subscribers.get(t)?.delete(member);
        group.members = group.members.filter((m) => m !== member);
        group.pendingJoin.delete(member);
        if (group.members.length > 0) rebalance(group);
        wakeRoomWaiters(); // a group without members holds back no producer
      },
    };
    return consumer;
  }

  return bus;
}
