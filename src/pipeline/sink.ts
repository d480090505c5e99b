/**
 * The sink: consumes clean_events, pos_transactions, visits and rejected_events; batches by size and
 * time; writes each batch in one database transaction; commits offsets only after it (DESIGN.md,
 * Promises). Inserts are idempotent, so a redelivered batch changes nothing.
 */
import type { Bus, BusConsumer, IncomingMessage, TopicPartitionOffset } from '../kafka/bus.js';
import type { Database, SinkBatch } from '../db/types.js';
import { rejectedRow, stagingRow, transactionRow, visitRow } from '../db/rows.js';
import { HEADERS } from './types.js';
import { createLatencyHistogram, createRecentLatency } from './latency.js';
import { createYielder } from './yield.js';
import { signal } from './signal.js';

export interface SinkTopics { clean: string; pos: string; visits: string; rejected: string }

export interface SinkOptions {
  bus: Bus;
  db: Database;
  groupId: string;
  topics: SinkTopics;
  /** Rows per database transaction (default: sinkMaxBatch of the database's dialect). */
  maxBatch?: number;
  /**
   * Longest a row waits for its write to start while no write is in progress, ms. Default 0: a
   * write starts as soon as the one before it has committed, with every row that arrived meanwhile,
   * so batches grow with the load and a quiet stream waits for nothing (docs/pipeline.md).
   */
  lingerMs?: number;
  /**
   * Least time between two offset commits while running, ms. Default 100. A commit per write would
   * be a Kafka request per write (tens a second at a few thousand events/s) for nothing: a commit
   * only bounds what a restarted sink reads again, and the idempotent writes keep that once. A
   * stop commits at once.
   */
  commitEveryMs?: number;
  /** Called when a write fails; the sink retries with backoff (a database outage pauses, never drops). */
  onError?: (err: unknown) => void;
  /**
   * Told once when a write fails in a way no retry can mend (a bug, a schema the database lacks):
   * the sink stops retrying that batch, so the run can end with the error instead of hanging.
   */
  onFatal?: (err: unknown) => void;
  now?: () => number;
}

export interface SinkStats {
  written: number;
  batches: number;
  failedWrites: number;
  /** Over the whole run, and over about the last 10 s (`recent`: for a live readout). */
  latency: { p50: number | null; p99: number | null; count: number; recent: { p50: number | null; p99: number | null; windowS: number } };
  lastCommitAt: number;
}

export interface Sink {
  start(): Promise<void>;
  /** Writes what is buffered, commits, and leaves the group. */
  stop(): Promise<void>;
  /** Tears the consumer down without flushing or committing (a crash, for tests and fault injection). */
  crash(): Promise<void>;
  /** Resolves once this member has joined its group (its first assignment, maybe none). */
  joined(): Promise<void>;
  stats(): SinkStats;
}

/**
 * The sink's default rows per database transaction (bench:report writes batches of this size).
 * SQLite: 5,000 — with one write in flight, larger transactions dirty fewer pages per row of the
 * tables keyed by random transaction ids and commit less often (measured: a few % more events/s,
 * lower latency). PostgreSQL: 2,000 — there 5,000 made the writes without the warehouse faster but
 * not those with it (bench:report, 2026-11-23), so the default stays where it was.
 */
export function sinkMaxBatch(dialect: Database['dialect']): number {
  return dialect === 'sqlite' ? 5_000 : 2_000;
}

export function createSink(opts: SinkOptions): Sink {
  const yieldTurn = createYielder();
  const maxBatch = opts.maxBatch ?? sinkMaxBatch(opts.db.dialect);
  const lingerMs = opts.lingerMs ?? 0;
  const now = opts.now ?? Date.now;
  const latency = createLatencyHistogram();
  const recent = createRecentLatency();
  let consumer: BusConsumer | null = null;
  let pending: SinkBatch = emptyBatch();
  let pendingRows = 0;
  let producedAts: number[] = [];
  let offsets = new Map<string, TopicPartitionOffset[]>();
  let oldest = 0;
  let timer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> | null = null;
  /** Offsets of written batches not yet sent to Kafka: the newest per topic-partition (see queueCommit). */
  let toCommit = new Map<string, TopicPartitionOffset>();
  let committing: Promise<void> | null = null;
  const commitEveryMs = opts.commitEveryMs ?? 100;
  /** The next commit's turn (commitEveryMs after the one before), while running. */
  let commitTimer: NodeJS.Timeout | null = null;
  let lastCommitSentAt = -Infinity;
  /** A write that failed for good (see flush). */
  let broken: unknown = null;
  let joined = signal();
  let written = 0;
  let batches = 0;
  let failedWrites = 0;
  let lastCommitAt = 0;
  let stopped = false;
  /** Set by stop() and crash(): batches still delivered are left alone (uncommitted, so redelivered). */
  let closing = false;
  /** Bumped by crash(): a write still retrying for a dead member gives up. */
  let epoch = 0;

  const add = (msg: IncomingMessage): void => {
    const t = msg.topic;
    if (t === opts.topics.clean) pending.staging.push(stagingRow(msg));
    else if (t === opts.topics.rejected) pending.rejected.push(rejectedRow(msg));
    else if (t === opts.topics.pos) pending.transactions.push(transactionRow(msg));
    else if (t === opts.topics.visits) pending.visits.push(visitRow(msg));
    else return;
    pendingRows++;
    const p = Number(msg.headers[HEADERS.producedAt]);
    if (t === opts.topics.clean || t === opts.topics.rejected) {
      if (Number.isFinite(p)) producedAts.push(p);
    }
    // One entry per topic-partition, updated in place (no key string or object per message).
    let parts = offsets.get(t);
    if (!parts) offsets.set(t, (parts = []));
    const o = parts[msg.partition];
    if (o) o.offset = msg.offset + 1;
    else parts[msg.partition] = { topic: t, partition: msg.partition, offset: msg.offset + 1 };
  };

  /**
   * Writes what is pending in one transaction, then hands its offsets to queueCommit (sent after the
   * write, in order: a commit never passes an unwritten batch). Waits for the write before it (one at
   * a time). With `wait` false it
   * returns once this write has started, so the next batch is read and mapped while the database
   * writes this one (the SQLite worker, PostgreSQL): at most one batch in the database and one
   * being filled.
   */
  const flush = async (wait = true): Promise<void> => {
    while (flushing) await flushing.catch(() => undefined);
    if (broken !== null) throw broken;
    if (pendingRows === 0) return;
    const batch = pending;
    const commits = [...offsets.values()].flatMap((parts) => parts.filter((o) => o !== undefined));
    const samples = producedAts;
    pending = emptyBatch();
    pendingRows = 0;
    producedAts = [];
    offsets = new Map();
    const myEpoch = epoch;
    const write = (async () => {
      for (let attempt = 0; ; attempt++) {
        try {
          await opts.db.writeBatch(batch);
          break;
        } catch (err) {
          failedWrites++;
          opts.onError?.(err);
          if (!retriable(err)) {
            opts.onFatal?.(err);
            throw err;
          }
          if ((stopped && attempt > 3) || myEpoch !== epoch) throw err;
          // A database outage can outlast the group's session timeout: stay a member meanwhile
          // (kafkajs heartbeats only between batches or when asked).
          await consumer?.heartbeat().catch(() => undefined);
          await delay(Math.min(2_000, 50 * 2 ** Math.min(attempt, 6)));
        }
      }
      const committedAt = now();
      for (const p of samples) {
        latency.record(committedAt - p);
        recent.record(committedAt - p, committedAt);
      }
      written += batch.staging.length + batch.rejected.length + batch.transactions.length + batch.visits.length;
      batches++;
      lastCommitAt = committedAt;
      if (myEpoch === epoch) queueCommit(commits);
    })();
    flushing = write;
    write.then(() => {
      if (flushing === write) flushing = null;
    }, (err: unknown) => {
      if (flushing === write) flushing = null;
      // Its rows are not in the database and its offsets not committed: no later batch may commit
      // past them, so every later flush fails with this error (a crash starts over).
      if (myEpoch === epoch) broken ??= err;
    });
    if (wait) await write;
  };

  /**
   * Commits a written batch's offsets to Kafka without holding up the next write: the next batch's
   * transaction starts at once while the commit travels. Commits still go out in order, one at a
   * time, at most one per commitEveryMs while running, and the offsets of batches written
   * meanwhile go together (the newest per partition), so a commit never covers a batch that is not
   * in the database.
   */
  const queueCommit = (commits: TopicPartitionOffset[]): void => {
    for (const o of commits) toCommit.set(`${o.topic}\u0000${o.partition}`, o);
    if (committing || commitTimer || toCommit.size === 0) return;
    const wait = lastCommitSentAt + commitEveryMs - now();
    if (wait > 0 && !closing) {
      commitTimer = setTimeout(() => {
        commitTimer = null;
        sendCommits();
      }, wait);
      return;
    }
    sendCommits();
  };

  const sendCommits = (): void => {
    if (committing || toCommit.size === 0) return;
    const run = (async () => {
      // While running, one commit per turn; a stop sends everything left, one after another.
      do {
        const c = consumer;
        if (!c) return;
        const next = [...toCommit.values()];
        toCommit = new Map();
        lastCommitSentAt = now();
        try {
          await c.commit(next);
        } catch (err) {
          // The rows are written; a commit refused after a rebalance only means they come again and
          // the idempotent inserts keep them once. Later batches carry on.
          opts.onError?.(err);
        }
      } while (closing && toCommit.size > 0);
    })();
    committing = run;
    void run.finally(() => {
      if (committing !== run) return;
      committing = null;
      queueCommit([]); // what was written meanwhile takes the next turn
    });
  };

  /** Sends every written batch's offsets now, and waits until they are sent. */
  const commitsSent = async (): Promise<void> => {
    for (;;) {
      if (commitTimer) clearTimeout(commitTimer);
      commitTimer = null;
      if (!committing) sendCommits();
      if (!committing) return;
      await committing;
    }
  };

  const scheduleLinger = (): void => {
    if (timer || pendingRows === 0 || closing) return;
    timer = setTimeout(() => {
      timer = null;
      flush().catch((e: unknown) => opts.onError?.(e));
    }, Math.max(0, lingerMs - (now() - oldest)));
  };

  return {
    async start(): Promise<void> {
      stopped = false;
      closing = false;
      broken = null;
      joined = signal();
      consumer = opts.bus.createConsumer({
        groupId: opts.groupId,
        topics: [opts.topics.clean, opts.topics.pos, opts.topics.visits, opts.topics.rejected],
        fromBeginning: true,
        onAssigned: () => joined.resolve(),
      });
      await consumer.start(async (batch) => {
        if (closing) return;
        if (pendingRows === 0) oldest = now();
        for (const m of batch.messages) {
          // A seek, a rebalance or a stop made the rest obsolete: it is not committed, so it comes again.
          if (closing || batch.isStale()) break;
          add(m);
          if (pendingRows >= maxBatch) await flush(false);
        }
        scheduleLinger();
        // The event loop's turn (timers: linger, heartbeat, progress, signals, the dashboard).
        await yieldTurn();
      });
    },
    async stop(): Promise<void> {
      // Take nothing new first: a stop must not wait for a busy stream to pause, and nothing may be
      // written after it returns. The last flush commits while this member still owns its partitions.
      closing = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await flush();
      await commitsSent();
      stopped = true;
      await consumer?.stop();
      consumer = null;
    },
    async crash(): Promise<void> {
      closing = true;
      epoch++;
      if (timer) clearTimeout(timer);
      timer = null;
      const c = consumer;
      consumer = null; // an in-flight flush must not commit for a dead member
      pending = emptyBatch();
      pendingRows = 0;
      producedAts = [];
      offsets = new Map();
      toCommit = new Map();
      if (commitTimer) clearTimeout(commitTimer);
      commitTimer = null;
      await c?.stop();
    },
    joined: () => joined.promise,
    stats(): SinkStats {
      return {
        written, batches, failedWrites, lastCommitAt,
        latency: {
          p50: latency.percentile(50), p99: latency.percentile(99), count: latency.count,
          recent: { p50: recent.percentile(50, now()), p99: recent.percentile(99, now()), windowS: recent.windowMs / 1000 },
        },
      };
    },
  };
}

/** Errors say whether a retry can mend them (DatabaseError and kafkajs errors carry `retriable`). */
function retriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}

function emptyBatch(): SinkBatch {
  return { staging: [], rejected: [], transactions: [], visits: [] };
}

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
