/**
 * Drives the pure engine in wall-clock time and publishes what it emits: chunks with a time budget
 * that yield to the event loop (keys stay responsive at any rate), warp and eps pacing, commands
 * applied between chunks and written to the command log, watermark markers broadcast to every
 * partition of both raw topics, end markers when the run stops (DESIGN.md, The pipeline; Headless).
 */
import { createHash } from 'node:crypto';
import type { Engine, EngineCommand, EngineMessage, RawTopic } from '../engine/types.js';
import type { OutgoingMessage } from '../kafka/bus.js';
import { partitionFor } from '../kafka/murmur2.js';
import type { CommandLogEntry } from '../db/types.js';
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
  /** Skip publishing messages up to and including this seq per partition (resume). */
  skip?: (topic: RawTopic, partition: number, seq: number) => boolean;
  now?: () => number;
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
  let hashBuf = '';
  let warp = opts.warp;
  let anchorWall = now();
  let anchorSim = engine.nowMs;
  let epsAnchorWall = anchorWall;
  let epsAnchorProduced = engine.produced;
  const startedAt = anchorWall;
  let stopRequested = false;
  const queued: EngineCommand[] = [];

  const control = (kind: MarkerKind, value: string): void => {
    for (const topic of [opts.topics.foot_traffic, opts.topics.shelf_events]) {
      for (let p = 0; p < partitions; p++) {
        publisher.enqueue(topic, { key: null, value, partition: p, headers: { [HEADERS.run]: runId, [HEADERS.marker]: kind } });
        published++;
      }
    }
  };

  const emit = (m: EngineMessage): void => {
    if (m.kind === 'watermark') {
      control('watermark', `{"time":${m.atMs}}`);
      return;
    }
    hashBuf += m.value + '\n';
    const partition = partitionFor(m.key, partitions);
    if (opts.skip?.(m.topic, partition, m.seq)) return;
    publisher.enqueue(opts.topics[m.topic], {
      key: m.key,
      value: m.value,
      partition,
      headers: { [HEADERS.run]: runId, [HEADERS.seq]: String(m.seq), [HEADERS.producedAt]: String(now()) },
    });
    published++;
  };

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
      if (hashBuf.length > 0) { hash.update(hashBuf); hashBuf = ''; }
      if (publisher.backlog >= maxBacklog) await publisher.waitForRoom();
      // The local processor is far behind: let it catch up before making more.
      for (let i = 0; i < 2_000 && downstreamLag() >= maxLag && !stopRequested; i++) await new Promise((r) => setTimeout(r, 2));
      // Yield to the event loop between chunks; when the engine is ahead of the clock, wait a tick.
      await new Promise<void>((r) => (progressed ? setImmediate(r) : setTimeout(r, 5)));
    }
    if (hashBuf.length > 0) { hash.update(hashBuf); hashBuf = ''; }
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
