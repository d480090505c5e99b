/**
 * Drives the pure engine in wall-clock time and publishes what it emits: chunks with a time budget
 * that yield to the event loop (keys stay responsive at any rate), warp and eps pacing, commands
 * applied between chunks and written to the command log, watermark markers for every partition of
 * both raw topics, end markers when the run stops (DESIGN.md, The pipeline; Headless).
 *
 * Watermarks are coalesced per partition: a partition gets the newest pending watermark just before
 * its next event, or at the end of the chunk. A watermark that another one replaces before the
 * partition's next event could change nothing there: lateness and dedup expiry are judged with the
 * partition's own time at an event's arrival, which is the same, and a pair watermark only ever
 * arrives later (never earlier) at the same values. On a quiet store at full speed this sends about
 * one marker per event instead of one per partition per marker interval (docs/pipeline.md).
 *
 * Resume (DESIGN.md, Promises): given the last seq found on every partition and the run's command
 * log, the engine regenerates the run at full speed, applies each logged command at its step,
 * publishes only what is above a partition's last seq, and sends a partition markers only once it has
 * passed that partition's last message.
 */
import { createHash } from 'node:crypto';
import type { Engine, EngineCommand, EngineMessage, RawTopic } from '../engine/types.js';
import type { OutgoingMessage } from '../kafka/bus.js';
import { partitionFor } from '../kafka/murmur2.js';
import type { CommandLogEntry } from '../db/types.js';
import { streamCommandsInOrder } from './replay.js';
import { HEADERS, type MarkerKind, type RunSettings } from './types.js';

/** What the driver needs from the publisher (src/kafka/publisher.ts): ordered, buffered, retried. */
export interface DriverPublisher {
  enqueue(topic: string, msg: OutgoingMessage): void;
  readonly backlog: number;
  waitForRoom(): Promise<void>;
  flush(): Promise<void>;
}

export interface EngineDriverOptions {
  engine: Engine;
  publisher: DriverPublisher;
  settings: RunSettings;
  /** Real topic names (prefix applied) for the logical raw topics. */
  topics: Record<RawTopic, string>;
  partitions: number;
  warp: number | 'max';
  /** Raw messages per wall second, or null for unpaced. */
  eps: number | null;
  /** Stop after this many raw messages. */
  maxEvents: number | null;
  /** Stop after this much wall time. */
  durationMs: number | null;
  /** Written before a command that changes the stream takes effect (DESIGN.md, Determinism). */
  onCommand: (entry: CommandLogEntry) => Promise<void> | void;
  /** Backlog above which the engine waits for the publisher (back-pressure). */
  maxBacklog?: number;
  /**
   * Called between chunks, before queued commands apply (the scenario player: it may queue commands,
   * change the warp or stop). Returns the simulated time (epoch ms) the engine must not run past
   * before the next call, so a step takes effect at its time; null for no limit. Default: none.
   */
  betweenChunks?: () => Promise<number | null> | number | null;
  /**
   * Raw messages (events and markers) a processor in this process has handled so far. With it, the
   * engine also waits while more than `maxDownstreamLag` of what it published is unread: the backlog
   * stays in Kafka's place (the bus) only up to that bound, so memory and GC stay small. Default: none.
   */
  downstreamHandled?: () => number;
  /** Default 30 000 messages. */
  maxDownstreamLag?: number;
  /** Resume a crashed run (see above). */
  resume?: ResumePoint;
  now?: () => number;
}

export interface ResumePoint {
  /** Per raw topic, per partition: the highest seq of this run already on it (0 = none). */
  lastSeq: Record<RawTopic, number[]>;
  /** The run's command log as recorded: stream commands are applied again at their steps, not logged again. */
  commands: readonly CommandLogEntry[];
}

export interface EngineDriver {
  /** Resolves when the engine has stopped, end markers are sent and everything is acknowledged. */
  readonly done: Promise<void>;
  command(cmd: EngineCommand): void;
  setWarp(warp: number | 'max'): void;
  readonly warp: number | 'max';
  /** Asks the engine to stop at the next chunk boundary. */
  stop(): void;
  readonly stopping: boolean;
  /** sha256 of every raw message's bytes + "\n" in seq order (= `storesim simulate` output). */
  streamSha256(): string;
  readonly startedAt: number;
}

const CHUNK_BUDGET_MS = 12;
const MAX_CHUNK_EVENTS = 4_096;

export function createEngineDriver(opts: EngineDriverOptions): EngineDriver {
  const { engine, publisher, settings, partitions } = opts;
  const now = opts.now ?? Date.now;
  const maxBacklog = opts.maxBacklog ?? 20_000;
  const maxLag = opts.maxDownstreamLag ?? 30_000;
  /** Raw-topic messages handed to the publisher (events and markers), for the downstream lag. */
  let published = 0;
  const downstreamLag = (): number => (opts.downstreamHandled ? published - opts.downstreamHandled() : 0);
  const runId = settings.run_id;
  const hash = createHash('sha256');
  let warp = opts.warp;
  let anchorWall = now();
  let anchorSim = engine.nowMs;
  let epsAnchorWall = anchorWall;
  let epsAnchorProduced = engine.produced;
  const startedAt = anchorWall;
  let stopRequested = false;
  const queued: EngineCommand[] = [];

  const rawTopics: RawTopic[] = ['foot_traffic', 'shelf_events'];
  const markerHeaders: Record<MarkerKind, Record<string, string>> = {
    run_start: { [HEADERS.run]: runId, [HEADERS.marker]: 'run_start' },
    watermark: { [HEADERS.run]: runId, [HEADERS.marker]: 'watermark' },
    end: { [HEADERS.run]: runId, [HEADERS.marker]: 'end' },
  };
  // Resume: a partition gets markers again once the regenerated stream has passed its last message.
  const lastSeq: Record<RawTopic, number[]> = {
    foot_traffic: Array.from({ length: partitions }, (_, p) => opts.resume?.lastSeq.foot_traffic[p] ?? 0),
    shelf_events: Array.from({ length: partitions }, (_, p) => opts.resume?.lastSeq.shelf_events[p] ?? 0),
  };
  const caughtUp: Record<RawTopic, boolean[]> = {
    foot_traffic: lastSeq.foot_traffic.map((s) => s === 0),
    shelf_events: lastSeq.shelf_events.map((s) => s === 0),
  };
  const maxLastSeq = Math.max(0, ...lastSeq.foot_traffic, ...lastSeq.shelf_events);
  /** Logged stream commands still to apply at their steps (resume). */
  const replayed = streamCommandsInOrder(opts.resume?.commands ?? []);
  /** The newest watermark value not yet sent, per raw topic and partition. */
  const pendingMark: Record<RawTopic, (string | null)[]> = {
    foot_traffic: new Array<string | null>(partitions).fill(null),
    shelf_events: new Array<string | null>(partitions).fill(null),
  };

  const sendMarker = (topic: RawTopic, p: number, kind: MarkerKind, value: string): void => {
    publisher.enqueue(opts.topics[topic], { key: null, value, partition: p, headers: markerHeaders[kind] });
    published++;
  };

  const flushMarks = (): void => {
    for (const topic of rawTopics) {
      const pending = pendingMark[topic];
      for (let p = 0; p < partitions; p++) {
        const v = pending[p];
        if (v != null) {
          pending[p] = null;
          sendMarker(topic, p, 'watermark', v);
        }
      }
    }
  };

  const control = (kind: MarkerKind, value: string): void => {
    for (const topic of rawTopics) {
      for (let p = 0; p < partitions; p++) if (caughtUp[topic][p]) sendMarker(topic, p, kind, value);
    }
  };

  const emit = (m: EngineMessage): void => {
    if (m.kind === 'watermark') {
      const value = `{"time":${m.atMs}}`;
      for (const topic of rawTopics) {
        const pending = pendingMark[topic];
        const ready = caughtUp[topic];
        for (let p = 0; p < partitions; p++) if (ready[p]) pending[p] = value;
      }
      return;
    }
    // The engine builds a message's JSON by concatenation: a tree of small strings. Reading one
    // character makes V8 flatten it into one string now, while its pieces are fresh, instead of in the
    // processor after it has waited in the bus (and been copied by the young-generation GC).
    m.value.charCodeAt(0);
    // One update per message: ~0.35 µs, against ~2 µs a message for concatenating a chunk's messages
    // and hashing the (then flattened) whole, measured.
    hash.update(m.value);
    hash.update('\n');
    const partition = partitionFor(m.key, partitions);
    if (!caughtUp[m.topic][partition]) {
      if (m.seq >= lastSeq[m.topic][partition]!) caughtUp[m.topic][partition] = true;
      return;
    }
    const mark = pendingMark[m.topic][partition];
    if (mark != null) {
      pendingMark[m.topic][partition] = null;
      sendMarker(m.topic, partition, 'watermark', mark);
    }
    publisher.enqueue(opts.topics[m.topic], {
      key: m.key,
      value: m.value,
      partition,
      headers: { [HEADERS.run]: runId, [HEADERS.seq]: String(m.seq), [HEADERS.producedAt]: String(now()) },
    });
    published++;
  };

  /** Still regenerating what a crashed run had already published or logged: no pacing. */
  const catchingUp = (): boolean => replayed.length > 0 || engine.produced < maxLastSeq;

  const applyQueued = async (): Promise<void> => {
    while (queued.length > 0) {
      const cmd = queued.shift()!;
      const entry: CommandLogEntry = { step: engine.step, sim_ms: engine.nowMs, command: { ...cmd } };
      await opts.onCommand(entry);
      const wasPaused = engine.paused;
      engine.apply(cmd);
      if (wasPaused !== engine.paused) reanchor();
    }
  };

  const reanchor = (): void => {
    anchorWall = now();
    anchorSim = engine.nowMs;
    epsAnchorWall = anchorWall;
    epsAnchorProduced = engine.produced;
  };

  const loop = async (): Promise<void> => {
    control('run_start', JSON.stringify(settings));
    for (;;) {
      const limit = opts.betweenChunks ? await opts.betweenChunks() : null;
      await applyQueued();
      if (stopRequested) break;
      if (opts.maxEvents !== null && engine.produced >= opts.maxEvents) break;
      if (opts.durationMs !== null && now() - startedAt >= opts.durationMs) break;
      const chunkStart = now();
      let progressed = false;
      while (now() - chunkStart < CHUNK_BUDGET_MS && queued.length === 0) {
        let max = MAX_CHUNK_EVENTS;
        if (opts.maxEvents !== null) max = Math.min(max, opts.maxEvents - engine.produced);
        if (catchingUp()) {
          // Regenerating a crashed run: full speed, each logged command at its step, clock where it was.
          const cmd = replayed[0];
          if (cmd && engine.step >= cmd.step) {
            engine.apply(cmd.command as unknown as EngineCommand);
            replayed.shift();
            if (!catchingUp()) reanchor();
            continue;
          }
          if (max <= 0) break;
          const stepBefore = engine.step;
          engine.run(cmd ? cmd.sim_ms : Number.POSITIVE_INFINITY, max, emit, cmd?.step);
          if (!catchingUp()) reanchor();
          if (engine.step === stepBefore && !(cmd && engine.step >= cmd.step)) break;
          progressed = true;
          if (publisher.backlog >= maxBacklog || downstreamLag() >= maxLag) break;
          continue;
        }
        if (opts.eps !== null) max = Math.min(max, Math.floor(((now() - epsAnchorWall) * opts.eps) / 1000) - (engine.produced - epsAnchorProduced));
        if (max <= 0) break;
        const paced = warp === 'max' ? Number.POSITIVE_INFINITY : anchorSim + (now() - anchorWall) * warp;
        const until = limit === null ? paced : Math.min(paced, limit);
        const stepBefore = engine.step;
        engine.run(until, max, emit);
        if (engine.step === stepBefore) break;
        progressed = true;
        if (publisher.backlog >= maxBacklog || downstreamLag() >= maxLag) break;
      }
      flushMarks();
      if (publisher.backlog >= maxBacklog) await publisher.waitForRoom();
      // The local processor is far behind: let it catch up before making more.
      for (let i = 0; i < 2_000 && downstreamLag() >= maxLag && !stopRequested; i++) await new Promise((r) => setTimeout(r, 2));
      // Yield to the event loop between chunks; when the engine is ahead of the clock, wait a tick.
      await new Promise<void>((r) => (progressed ? setImmediate(r) : setTimeout(r, 5)));
    }
    flushMarks();
    // A partition the regenerated stream never passed (a stop during catch-up) still gets its end marker.
    for (const topic of rawTopics) caughtUp[topic].fill(true);
    control('end', '{}');
    await publisher.flush();
  };

  const done = loop();
  return {
    done,
    command(cmd): void { queued.push(cmd); },
    setWarp(w): void {
      reanchor();
      warp = w;
    },
    get warp() { return warp; },
    stop(): void { stopRequested = true; },
    get stopping() { return stopRequested; },
    streamSha256(): string {
      return hash.copy().digest('hex');
    },
    get startedAt() { return startedAt; },
  };
}
