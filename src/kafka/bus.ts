/**
 * The bus: one interface, two implementations (in-process and Kafka). Everything above it (engine
 * driver, processor, sink, UI) is the same code in both modes (DESIGN.md, The pipeline).
 * Offsets are JS numbers (exact up to 2^53). Both implementations partition by Kafka's murmur2.
 */

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** Topic-level configs, e.g. { 'cleanup.policy': 'compact' }. */
  config?: Record<string, string>;
  /** Refuse (KafkaConfigError) an existing topic whose partition count differs. Default false. */
  strict?: boolean;
}

export interface TopicPartition { topic: string; partition: number }
export interface TopicPartitionOffset extends TopicPartition { offset: number }

export interface OutgoingMessage {
  key: string | null;
  value: Buffer | string;
  headers: Record<string, string>;
  /** Explicit partition; when absent, murmur2(key) % partitions (as Kafka's default partitioner). */
  partition?: number;
  /** Record timestamp, wall-clock epoch ms (default: now). Dead letters keep the original's. */
  timestamp?: number;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
  /** Record timestamp, wall-clock epoch ms. */
  timestamp: number;
}

export interface Batch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** True once a seek or a rebalance made the rest of this batch obsolete: stop and return. */
  isStale(): boolean;
}

export interface BusProducer {
  connect(): Promise<void>;
  /**
   * Sends and resolves once every message is acknowledged (acks=-1 on Kafka). Messages to one
   * partition keep their order within a call; callers keep at most one send outstanding per
   * producer when order across calls matters (DESIGN.md, Ordering on the wire).
   */
  send(topic: string, messages: OutgoingMessage[]): Promise<void>;
  /** Several topics in one request (kafkajs sendBatch), same guarantees as send(). Optional. */
  sendMany?(batches: Array<{ topic: string; messages: OutgoingMessage[] }>): Promise<void>;
  disconnect(): Promise<void>;
}

export interface ConsumerOptions {
  groupId: string;
  topics: string[];
  /** 'co-partitioned': partition p of every subscribed topic goes to the same member. Default 'default'. */
  assignment?: 'default' | 'co-partitioned';
  /** Where a partition with no committed offset starts. Default true (earliest). */
  fromBeginning?: boolean;
  /** Called after every (re)assignment with everything this member now owns; seeks belong here. */
  onAssigned?: (assigned: TopicPartition[]) => Promise<void> | void;
  /** Kafka session timeout, ms (tests use about 6 000). */
  sessionTimeoutMs?: number;
  /**
   * Errors the consumer recovers from by itself (a handler that threw and gets its batch again, a
   * consumer that kafkajs gave up on and the bus recreated). Default: ignored.
   */
  onError?: (err: unknown) => void;
}

export interface BusConsumer {
  /**
   * Joins the group and delivers batches (one topic-partition each) until stop(). Resolves once the
   * consumer is running (as kafkajs's run()); batches keep coming in the background. At most one
   * onBatch is in flight per consumer. A handler that throws gets the same batch again after a
   * backoff, so handlers dead-letter bad data and return normally.
   */
  start(onBatch: (batch: Batch) => Promise<void>): Promise<void>;
  /** Next offset to read for a partition this member owns. Marks in-flight batches of it stale. */
  seek(tp: TopicPartitionOffset): void;
  pause(tps: TopicPartition[]): void;
  resume(tps: TopicPartition[]): void;
  /** Commits `offset` = the next offset to read, as Kafka does. */
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  heartbeat(): Promise<void>;
  /** What this member owns now. */
  assignment(): TopicPartition[];
  /** Leaves the group without committing anything. */
  stop(): Promise<void>;
}

export interface PartitionOffsets { partition: number; low: number; high: number }

export interface Bus {
  readonly kind: 'memory' | 'kafka';
  /** A human description for the header, secrets masked: `in-process` or `kafka 127.0.0.1:9092`. */
  readonly description: string;
  /** Creates missing topics (idempotent); refuses a topic whose partition count differs when `strict`. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  createProducer(): BusProducer;
  createConsumer(opts: ConsumerOptions): BusConsumer;
  /** Low and high watermarks per partition. */
  topicOffsets(topic: string): Promise<PartitionOffsets[]>;
  /** topicOffsets of several topics in one read (every topic asked for is a key; [] when missing). */
  topicsOffsets(topics: string[]): Promise<Map<string, PartitionOffsets[]>>;
  /**
   * The last message of one partition, or null when it is empty: how the processor restores its
   * snapshot of pair p from the state topic (partition p). Needs no consumer group of the caller's.
   */
  readLast(topic: string, partition: number): Promise<IncomingMessage | null>;
  /**
   * The last message of one partition that `match` accepts, reading back from the end, or null:
   * how `run --resume` finds the highest seq a crashed run left on each partition.
   */
  readLastWhere(topic: string, partition: number, match: (m: IncomingMessage) => boolean): Promise<IncomingMessage | null>;
  /** Committed offsets of a group per partition (-1 when none). */
  groupOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  /** groupOffsets of several topics in one read (every topic asked for is a key; [] when missing). */
  groupTopicsOffsets(groupId: string, topics: string[]): Promise<Map<string, TopicPartitionOffset[]>>;
  close(): Promise<void>;
}
