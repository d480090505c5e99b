/**
 * The processor's consumer loop around its pure core (processor-core.ts): one consumer group over
 * both raw topics with co-partitioned assignment, pair state restored from snapshots, outputs
 * published in order, and checkpoints (outputs acknowledged → snapshots acknowledged → offsets
 * committed) about once a second (DESIGN.md, Processor state).
 */
import type { Bus, BusConsumer, BusProducer, IncomingMessage, TopicPartition } from '../kafka/bus.js';
import { createPublisher, type Publisher } from '../kafka/publisher.js';
import type { Fixtures } from '../engine/types.js';
import { createProcessorCore, type PairState, type PendingCounts } from './processor-core.js';
import { decodePairState, encodePairState } from './snapshot-codec.js';
import { HEADERS, type ProcessorOutput } from './types.js';
import { createYielder } from './yield.js';
import { signal } from './signal.js';
import type { DeadLetter } from '../ui/dashboard-state.js';

export interface ProcessorTopics { foot: string; shelf: string; clean: string; pos: string; visits: string; rejected: string; state: string }

export interface ProcessorOptions {
  bus: Bus;
  groupId: string;
  topics: ProcessorTopics;
  fixtures: Fixtures;
  /** Wall time between checkpoints (default 1 000 ms). */
  checkpointIntervalMs?: number;
  /** Messages between checkpoints at most (default 50 000). */
  checkpointEvery?: number;
  sessionTimeoutMs?: number;
  now?: () => number;
}

export interface ProcessorStats {
  consumed: number;
  accepted: number;
  rejected: number;
  redelivered: number;
  stale: number;
  byCode: Record<string, number>;
  transactions: number;
  revenueCents: number;
  itemsSold: number;
  visitsClosed: number;
  purchasedVisits: number;
  checkpoints: number;
  latestRejected: DeadLetter[];
  pairs: number;
  /** Outputs sent and not yet acknowledged. */
  outputsPending: number;
  /** Whether it waits for room among them (roomForOutputs): its sends are held. */
  waitingForRoom: boolean;
}

export interface Processor {
  start(): Promise<void>;
  /** Checkpoints and leaves the group. */
  stop(): Promise<void>;
  /** Thrown away at once: no checkpoint, no commit (a crash, for tests and fault injection). */
  crash(): Promise<void>;
  /** Takes a checkpoint now (tests). */
  checkpoint(): Promise<void>;
  /** Resolves once this member has joined its group: its first assignment (maybe none) is restored and sought. */
  joined(): Promise<void>;
  stats(): ProcessorStats;
  /** What the pairs this member owns hold now (carts, held events, dedup ids), summed: memory stays bounded. */
  pendingCounts(): PendingCounts;
}

interface Pair { state: PairState; next: { foot: number; shelf: number }; paused: 'foot' | 'shelf' | null }

const RING = 50;
/** Outputs sent and not yet acknowledged at which the processor waits (roomForOutputs). */
export const OUTPUT_BACKLOG = 20_000;

export function createProcessor(opts: ProcessorOptions): Processor {
  const now = opts.now ?? Date.now;
  const t = opts.topics;
  const interval = opts.checkpointIntervalMs ?? 1_000;
  const every = opts.checkpointEvery ?? 50_000;
  const core = createProcessorCore({ catalog: opts.fixtures.catalog, discounts: opts.fixtures.discounts, fixturesHash: opts.fixtures.hash, now });
  const pairs = new Map<number, Pair>();
  const stats: ProcessorStats = {
    consumed: 0, accepted: 0, rejected: 0, redelivered: 0, stale: 0, byCode: {}, transactions: 0, revenueCents: 0,
    itemsSold: 0, visitsClosed: 0, purchasedVisits: 0, checkpoints: 0, latestRejected: [], pairs: 0, outputsPending: 0, waitingForRoom: false,
  };
  let consumer: BusConsumer | null = null;
  let producer: BusProducer | null = null;
  let publisher: Publisher | null = null;
  let timer: NodeJS.Timeout | null = null;
  let sinceCheckpoint = 0;
  let lastCheckpoint = now();
  let chain: Promise<unknown> = Promise.resolve();
  let generation = 0;
  /** Set by stop(): batches still delivered are left for the next owner (the final snapshot covers what was judged). */
  let closing = false;
  let joined = signal();

  /** One thing at a time touches pair state: batches, assignments and checkpoints are serialised. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => undefined);
    return run;
  };

  const route = (outs: ProcessorOutput[]): void => {
    for (const o of outs) {
      switch (o.kind) {
        case 'redelivered': stats.redelivered++; continue;
        case 'stale': stats.stale++; continue;
        case 'clean': stats.accepted++; publisher!.enqueue(t.clean, o); break;
        case 'dead_letter': {
          const code = o.headers[HEADERS.errorCode] ?? 'unknown';
          stats.rejected++;
          stats.byCode[code] = (stats.byCode[code] ?? 0) + 1;
          const at = Number(o.headers[HEADERS.rejectedAt] ?? now());
          stats.latestRejected.push({ at: new Date(Number.isFinite(at) ? at : now()).toISOString(), topic: o.headers[HEADERS.sourceTopic] ?? '', code, reason: o.headers[HEADERS.errorReason] ?? '' });
          if (stats.latestRejected.length > RING) stats.latestRejected.splice(0, stats.latestRejected.length - RING);
          publisher!.enqueue(t.rejected, o);
          break;
        }
        case 'pos': {
          const tx = (o.json ?? JSON.parse(o.value.toString('utf8'))) as { total: number; items: { quantity: number }[] };
          stats.transactions++;
          stats.revenueCents += Math.round(tx.total * 100);
          for (const it of tx.items) stats.itemsSold += it.quantity;
          publisher!.enqueue(t.pos, o);
          break;
        }
        case 'visit': {
          stats.visitsClosed++;
          const status = o.json !== undefined ? (o.json as { status?: unknown }).status : undefined;
          if (status !== undefined ? status === 'purchased' : o.value.includes('"status":"purchased"')) stats.purchasedVisits++;
          publisher!.enqueue(t.visits, o);
          break;
        }
      }
    }
  };

  const restore = async (p: number): Promise<Pair> => {
    const last = await opts.bus.readLast(t.state, p);
    if (last) {
      const { state, offsets } = decodePairState(last.value);
      return { state, next: { foot: offsets.foot, shelf: offsets.shelf }, paused: null };
    }
    return { state: core.newPairState(), next: { foot: 0, shelf: 0 }, paused: null };
  };

  const onAssigned = (assigned: TopicPartition[]): Promise<void> => serial(async () => {
    const owned = new Set(assigned.filter((a) => a.topic === t.foot || a.topic === t.shelf).map((a) => a.partition));
    for (const p of [...pairs.keys()]) if (!owned.has(p)) pairs.delete(p);
    const c = consumer;
    if (!c) return;
    for (const p of owned) {
      if (!pairs.has(p)) {
        const pair = await restore(p);
        pairs.set(p, pair);
        await c.heartbeat().catch(() => undefined);
      }
      const pair = pairs.get(p)!;
      c.seek({ topic: t.foot, partition: p, offset: pair.next.foot });
      c.seek({ topic: t.shelf, partition: p, offset: pair.next.shelf });
      pair.paused = null;
    }
    // Paused partitions stay paused across a rebalance: resume everything, re-derive pauses.
    c.resume(assigned);
    for (const p of owned) applyPause(c, p, pairs.get(p)!);
    stats.pairs = pairs.size;
    joined.resolve();
  });

  const applyPause = (c: BusConsumer, p: number, pair: Pair): void => {
    const hint = core.pauseHint(pair.state);
    if (hint === pair.paused) return;
    if (pair.paused) c.resume([{ topic: pair.paused === 'foot' ? t.foot : t.shelf, partition: p }]);
    if (hint) c.pause([{ topic: hint === 'foot' ? t.foot : t.shelf, partition: p }]);
    pair.paused = hint;
  };

  /**
   * A checkpoint in two parts. Taken inside `serial` (no batch is judged meanwhile, so the snapshots
   * hold exactly what was judged): each owned pair's snapshot is encoded, with its offsets, and the
   * publisher is asked for everything enqueued so far. Finished in the background while batches are
   * judged on (DESIGN.md: outputs keep flowing in between): once those outputs are acknowledged, the
   * snapshots of the pairs still owned are sent; once they are acknowledged, the offsets committed.
   * One at a time, in order, so the state topic's latest snapshot per pair is the newest taken.
   * Before, the processor judged nothing for the 5-60 ms this waits for the broker, every second.
   */
  let checkpointing: Promise<void> | null = null;
  const beginCheckpoint = (): Promise<void> => {
    const c = consumer;
    const pub = publisher;
    if (!c || !pub || pairs.size === 0) return Promise.resolve();
    const gen = generation;
    const owned = new Set(c.assignment().map((a) => a.partition));
    const snaps = [...pairs.entries()].filter(([p]) => owned.has(p)).map(([p, pair]) => ({
      p, value: encodePairState(pair.state, pair.next), next: { ...pair.next },
    }));
    const outputs = pub.flush();
    sinceCheckpoint = 0;
    lastCheckpoint = now();
    const live = (): boolean => gen === generation && consumer === c && publisher === pub;
    const run = (async () => {
      await outputs;
      if (!live()) return;
      // Only pairs this member still owns (a rebalance meanwhile may have moved some).
      const still = new Set(c.assignment().map((a) => a.partition));
      const kept = snaps.filter((s) => still.has(s.p));
      for (const s of kept) pub.enqueue(t.state, { key: String(s.p), partition: s.p, value: s.value, headers: {} });
      await pub.flush();
      if (!live()) return; // crashed or rebalanced meanwhile: no commit
      await c.commit(kept.flatMap((s) => [
        { topic: t.foot, partition: s.p, offset: s.next.foot },
        { topic: t.shelf, partition: s.p, offset: s.next.shelf },
      ]));
      stats.checkpoints++;
    })();
    checkpointing = run;
    void run.then(() => {
      if (checkpointing === run) checkpointing = null;
    }, () => {
      if (checkpointing === run) checkpointing = null;
    });
    return run;
  };
  const due = (): boolean => checkpointing === null && sinceCheckpoint > 0 && (sinceCheckpoint >= every || now() - lastCheckpoint >= interval);
  /** A checkpoint now, and its end: after the one in flight, if any (stop, tests). */
  const checkpointNow = async (): Promise<void> => {
    await checkpointing?.catch(() => undefined);
    await beginCheckpoint();
  };
  /** A failed background checkpoint is not news: the next one writes and commits again. */
  const quietly = (p: Promise<void>): void => {
    p.catch(() => undefined);
  };

  /**
   * Judges on only while fewer than OUTPUT_BACKLOG outputs wait for their acknowledgement. With
   * checkpoints beside the judging nothing else stops the processor when its sends are held (the
   * in-process bus holds them while the sink's group is 40,000 messages behind; a broker down):
   * waiting here keeps its memory bounded and, through its consumer, the engine behind it waiting.
   * Gives up at once on a stop, a crash or a rebalance.
   */
  const roomForOutputs = async (c: BusConsumer): Promise<void> => {
    const pub = publisher;
    const gen = generation;
    while (pub && pub.backlog >= OUTPUT_BACKLOG && publisher === pub && consumer === c && gen === generation && !closing) {
      stats.waitingForRoom = true;
      await Promise.race([pub.waitForRoom(), new Promise((r) => setTimeout(r, 100))]);
    }
    stats.waitingForRoom = false;
  };

  const yieldTurn = createYielder();
  const onBatch = async (batch: { topic: string; partition: number; messages: IncomingMessage[]; isStale(): boolean }): Promise<void> => {
    await serial(async () => {
      const c = consumer;
      const pair = pairs.get(batch.partition);
      if (!c || !pair || closing) return;
      const side = batch.topic === t.foot ? 'foot' : 'shelf';
      const msgs = batch.messages;
      for (let i = 0; i < msgs.length; i++) {
        const msg = msgs[i]!;
        if (batch.isStale() || closing) break;
        if (msg.offset < pair.next[side]) continue;
        stats.consumed++;
        route(core.handle(pair.state, side, msg));
        pair.next[side] = msg.offset + 1;
        sinceCheckpoint++;
        // Flow control inside the batch: a side that ran more than a few marker intervals ahead stops
        // here and is paused below, so what waits for the other side (held events, carts) is bounded
        // by simulated time, not by the batch size (kafkajs batches hold thousands of messages).
        if (i < msgs.length - 1 && core.pauseHint(pair.state) === side) {
          c.seek({ topic: batch.topic, partition: batch.partition, offset: pair.next[side] });
          break;
        }
      }
      applyPause(c, batch.partition, pair);
      if (due()) quietly(beginCheckpoint());
      await roomForOutputs(c);
    });
    // The event loop's turn (timers: checkpoints, heartbeat, progress, signals, the dashboard).
    await yieldTurn();
  };

  return {
    async start(): Promise<void> {
      generation++;
      closing = false;
      joined = signal();
      producer = opts.bus.createProducer();
      await producer.connect();
      publisher = createPublisher({ producer, maxBufferedMessages: OUTPUT_BACKLOG });
      consumer = opts.bus.createConsumer({
        groupId: opts.groupId,
        topics: [t.foot, t.shelf],
        assignment: 'co-partitioned',
        fromBeginning: true,
        onAssigned,
        sessionTimeoutMs: opts.sessionTimeoutMs,
      });
      await consumer.start(onBatch);
      timer = setInterval(() => {
        // Checked again inside: a checkpoint taken meanwhile (by a batch) makes this one due later.
        if (due()) serial(async () => (due() ? quietly(beginCheckpoint()) : undefined)).catch(() => undefined);
      }, interval);
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      // Judge nothing more, so the last snapshot holds everything judged and the next owner
      // replays nothing; then checkpoint while this member still owns its pairs.
      closing = true;
      // A final checkpoint that fails loses nothing: a commit refused because the group moved on
      // (this member was dropped after a long stall) leaves only the group's committed offsets
      // behind, since the next owner resumes from the snapshot's own offsets; a snapshot not sent
      // is a crash's case (the next owner replays from the one before). The stop goes on.
      await serial(checkpointNow).catch(() => undefined);
      await consumer?.stop();
      consumer = null;
      await publisher?.flush();
      await producer?.disconnect();
      producer = null;
      publisher = null;
      pairs.clear();
    },
    async crash(): Promise<void> {
      generation++;
      if (timer) clearInterval(timer);
      timer = null;
      const c = consumer;
      consumer = null;
      await c?.stop();
      await publisher?.flush().catch(() => undefined);
      await producer?.disconnect().catch(() => undefined);
      producer = null;
      publisher = null;
      pairs.clear();
    },
    checkpoint: () => serial(checkpointNow),
    joined: () => joined.promise,
    stats: () => ({ ...stats, latestRejected: [...stats.latestRejected], byCode: { ...stats.byCode }, outputsPending: publisher?.backlog ?? 0 }),
    pendingCounts(): PendingCounts {
      const sum: PendingCounts = { runs: 0, carts: 0, held: 0, dedupIds: 0 };
      for (const pair of pairs.values()) {
        const c = core.pendingCounts(pair.state);
        sum.runs += c.runs;
        sum.carts += c.carts;
        sum.held += c.held;
        sum.dedupIds += c.dedupIds;
      }
      return sum;
    },
  };
}
