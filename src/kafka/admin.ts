/**
 * Topic and consumer-group administration for `storesim kafka topics | reset` (docs/kafka.md):
 * what a prefix holds on a broker (topics, partitions, end offsets, the groups that read them and
 * their lag), and deleting it. Functions over a kafkajs Admin; `connectKafkaAdmin` opens one the way
 * the Kafka bus opens its first connection: bounded in time, failures mapped to unreachable (exit 3)
 * and refused (exit 4).
 */
import './kafkajs-preload.js'; // before kafkajs: see there
import { AssignerProtocol, type Admin } from 'kafkajs';
import { BusError, KafkaRefusedError, KafkaUnreachableError } from './errors.js';
import { connectWithin, describeBrokers, quietBoundedKafka, type KafkaTarget } from './connect.js';
import { classifyKafkaError, errorChain, rootMessage } from './kafka-errors.js';

/** The brokers, TLS and SASL as every client has them (KafkaTarget). */
export interface KafkaAdminOptions extends Omit<KafkaTarget, 'clientId' | 'socketFactory'> {
  /** How long the connection may take before KafkaUnreachableError, ms. Default 6 000. */
  connectionTimeout?: number;
  /** Kafka client id. Default 'storesim-admin'. */
  clientId?: string;
}

export interface KafkaAdminSession {
  admin: Admin;
  /** The brokers for people (credentials in a broker string masked). */
  brokers: string;
  /** Maps a kafkajs failure of `what` to KafkaUnreachableError / KafkaRefusedError, or returns it. */
  mapError(err: unknown, what: string): unknown;
  close(): Promise<void>;
}

/** A consumer group still has members: a run (or another client) is using it. Exit 2, as a second run on a live prefix. */
export class KafkaGroupsInUseError extends BusError {
  readonly code = 'config';
  readonly exitCode = 2;
  constructor(message: string, readonly groups: GroupState[], cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'KafkaGroupsInUseError';
  }
}

/** Internal topics (`__consumer_offsets`, `__transaction_state`, …) are never listed nor deleted. */
export function isInternalTopic(topic: string): boolean {
  return topic.startsWith('__');
}

/**
 * Connects an admin client within `connectionTimeout`. Its retries are bounded to about that long
 * too: kafkajs keeps retrying after disconnect(), and unbounded retries would hold the process
 * for a minute after the one-line error.
 */
export async function connectKafkaAdmin(options: KafkaAdminOptions): Promise<KafkaAdminSession> {
  const brokers = describeBrokers(options.brokers);
  const deadlineMs = options.connectionTimeout ?? 6_000;
  const kafka = quietBoundedKafka({ ...options, clientId: options.clientId ?? 'storesim-admin' }, deadlineMs);
  const admin = kafka.admin();

  const mapError = (err: unknown, what: string): unknown => {
    if (err instanceof BusError) return err;
    const chain = errorChain(err);
    if (chain.some((e) => e.type === 'TOPIC_DELETION_DISABLED')) {
      return new KafkaRefusedError(`Kafka at ${brokers} refused ${what}: topic deletion is disabled on the broker (delete.topic.enable=false)`, err);
    }
    switch (classifyKafkaError(err)) {
      case 'unreachable':
        return new KafkaUnreachableError(`Kafka at ${brokers} is unreachable (${what}: ${rootMessage(err)}): start a broker (npm run kafka:start) or set KAFKA_BROKERS`, err);
      case 'refused':
        return new KafkaRefusedError(`Kafka at ${brokers} refused ${what}: ${rootMessage(err)}`, err);
      case 'coordinator-starting':
        return new KafkaUnreachableError(`Kafka at ${brokers} has no group coordinator available (${what}: ${rootMessage(err)}): try again in a moment`, err);
      default:
        // Any other error code the broker answered with is its refusal; anything else is a bug.
        return chain.some((e) => e.type !== undefined) ? new KafkaRefusedError(`Kafka at ${brokers} refused ${what}: ${rootMessage(err)}`, err) : err;
    }
  };

  await connectWithin('admin connection', brokers, deadlineMs, () => admin.connect(), () => admin.disconnect(), mapError);
  return { admin, brokers, mapError, close: () => admin.disconnect().catch(() => undefined) };
}

/** A topic was deleted while it was being read (kafkajs then fails every metadata refresh of that client). */
export function isTopicVanished(err: unknown): boolean {
  return errorChain(err).some((e) => e.type === 'UNKNOWN_TOPIC_OR_PARTITION');
}

/** Which topics and groups: those whose names start with `prefix`, or every one (`all`). */
export type Selection = { prefix: string } | { all: true };

function selects(sel: Selection, name: string): boolean {
  return 'all' in sel ? true : name.startsWith(sel.prefix);
}

export interface PartitionEnds { partition: number; low: number; high: number }

export interface GroupPartitionLag {
  partition: number;
  /** The group's committed offset (the next offset it reads), null when it committed none. */
  committed: number | null;
  /** high − committed, null without a committed offset. */
  lag: number | null;
}

export interface GroupState {
  group: string;
  /** The coordinator's state: Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown. */
  state: string;
  members: number;
}

export interface TopicGroupLag extends GroupState {
  /** Sum of the lag of the partitions with a committed offset; null when none has one. */
  lag: number | null;
  partitions: GroupPartitionLag[];
}

export interface TopicView {
  topic: string;
  partitions: PartitionEnds[];
  /** Sum of the partitions' end offsets (high watermarks). */
  endOffset: number;
  /** Messages the topic holds now: sum of high − low. */
  messages: number;
  /** The groups that read it: a committed offset on one of its partitions, or a member assigned one. */
  groups: TopicGroupLag[];
}

export interface TopicsView {
  topics: TopicView[];
  /** Every group that reads a listed topic, and every group whose name is selected. */
  groups: GroupState[];
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The selected non-internal topics, sorted. */
export async function selectedTopics(admin: Admin, sel: Selection): Promise<string[]> {
  return (await admin.listTopics()).filter((t) => !isInternalTopic(t) && selects(sel, t)).sort();
}

async function groupStates(admin: Admin, groupIds: string[]): Promise<Map<string, { state: string; members: number; assigned: Set<string> }>> {
  const out = new Map<string, { state: string; members: number; assigned: Set<string> }>();
  if (groupIds.length === 0) return out;
  const { groups } = await admin.describeGroups(groupIds);
  for (const g of groups) {
    const assigned = new Set<string>();
    for (const m of g.members) {
      try {
        const decoded = AssignerProtocol.MemberAssignment.decode(m.memberAssignment);
        for (const t of Object.keys(decoded?.assignment ?? {})) assigned.add(t);
      } catch {
        // not a consumer's assignment (another protocol): no topics from it
      }
    }
    out.set(g.groupId, { state: g.state, members: g.members.length, assigned });
  }
  return out;
}

/** Topics, partitions, end offsets, and the lag of every group that reads them. */
export async function describeTopics(admin: Admin, sel: Selection): Promise<TopicsView> {
  const names = await selectedTopics(admin, sel);
  const ends = await mapLimit(names, 8, async (topic) => (await admin.fetchTopicOffsets(topic))
    .map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }))
    .sort((a, b) => a.partition - b.partition));
  const endsOf = new Map(names.map((t, i) => [t, ends[i]!]));

  const { groups: listed } = await admin.listGroups();
  const groupIds = listed.map((g) => g.groupId).sort();
  // Committed offsets of every group on the listed topics: a group reads a topic when it committed on it.
  const committed = new Map<string, Map<string, Map<number, number>>>();
  if (names.length > 0) {
    await mapLimit(groupIds, 8, async (groupId) => {
      const res = await admin.fetchOffsets({ groupId, topics: names });
      const byTopic = new Map<string, Map<number, number>>();
      for (const t of res) {
        const parts = new Map<number, number>();
        for (const p of t.partitions) if (Number(p.offset) >= 0) parts.set(p.partition, Number(p.offset));
        if (parts.size > 0) byTopic.set(t.topic, parts);
      }
      committed.set(groupId, byTopic);
    });
  }
  const states = await groupStates(admin, groupIds);
  const stateOf = (g: string): GroupState => ({ group: g, state: states.get(g)?.state ?? 'Unknown', members: states.get(g)?.members ?? 0 });

  const topics: TopicView[] = names.map((topic) => {
    const partitions = endsOf.get(topic)!;
    const readers = groupIds.filter((g) => committed.get(g)?.has(topic) || states.get(g)?.assigned.has(topic));
    return {
      topic,
      partitions,
      endOffset: partitions.reduce((s, p) => s + p.high, 0),
      messages: partitions.reduce((s, p) => s + Math.max(0, p.high - p.low), 0),
      groups: readers.map((g) => topicGroupLag(stateOf(g), partitions, committed.get(g)?.get(topic))),
    };
  });
  const reading = new Set(topics.flatMap((t) => t.groups.map((g) => g.group)));
  const groups = groupIds.filter((g) => reading.has(g) || ('prefix' in sel && g.startsWith(sel.prefix))).map(stateOf);
  return { topics, groups };
}

/** One group's lag on one topic: per partition, high − committed (pure). */
export function topicGroupLag(group: GroupState, partitions: PartitionEnds[], committed: Map<number, number> | undefined): TopicGroupLag {
  const parts = partitions.map(({ partition, high }) => {
    const c = committed?.get(partition);
    return c === undefined ? { partition, committed: null, lag: null } : { partition, committed: c, lag: Math.max(0, high - c) };
  });
  const withCommit = parts.filter((p) => p.lag !== null);
  return { ...group, lag: withCommit.length === 0 ? null : withCommit.reduce((s, p) => s + p.lag!, 0), partitions: parts };
}

export interface ResetPlan {
  topics: string[];
  groups: GroupState[];
}

/** What a reset of the selection would delete: its topics and its consumer groups, with their state. */
export async function planReset(admin: Admin, sel: Selection): Promise<ResetPlan> {
  const topics = await selectedTopics(admin, sel);
  const { groups: listed } = await admin.listGroups();
  const groupIds = listed.map((g) => g.groupId).filter((g) => selects(sel, g)).sort();
  const states = await groupStates(admin, groupIds);
  return { topics, groups: groupIds.map((g) => ({ group: g, state: states.get(g)?.state ?? 'Unknown', members: states.get(g)?.members ?? 0 })) };
}

/** Groups with members: deleting them fails (NON_EMPTY_GROUP) while a run uses them. */
export function activeGroups(plan: ResetPlan): GroupState[] {
  return plan.groups.filter((g) => g.members > 0);
}

/**
 * Deletes the plan's consumer groups, then its topics. Refuses before deleting anything when a
 * group has members, and when the coordinator says NON_EMPTY_GROUP (a member joined meanwhile):
 * KafkaGroupsInUseError either way. Groups go first so that a run still alive is never left
 * without its topics.
 */
export async function executeReset(admin: Admin, plan: ResetPlan): Promise<void> {
  const busy = activeGroups(plan);
  if (busy.length > 0) throw new KafkaGroupsInUseError(`consumer groups in use: ${busy.map((g) => g.group).join(', ')}`, busy);
  if (plan.groups.length > 0) {
    try {
      await admin.deleteGroups(plan.groups.map((g) => g.group));
    } catch (err) {
      const failed = (err as { groups?: Array<{ groupId: string; error?: { type?: string } }> }).groups ?? [];
      const nonEmpty = failed.filter((f) => f.error?.type === 'NON_EMPTY_GROUP').map((f) => f.groupId);
      if (nonEmpty.length > 0) {
        const inUse = plan.groups.filter((g) => nonEmpty.includes(g.group));
        throw new KafkaGroupsInUseError(`consumer groups in use: ${nonEmpty.join(', ')}`, inUse, err);
      }
      // A group that went away meanwhile is what we wanted.
      if (failed.length === 0 || !failed.every((f) => f.error?.type === 'GROUP_ID_NOT_FOUND')) throw err;
    }
  }
  if (plan.topics.length > 0) await admin.deleteTopics({ topics: plan.topics, timeout: 30_000 });
}
