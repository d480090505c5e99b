/**
 * The composition root: the one place that builds connections and wires engine, bus, processor,
 * sink, database and dashboard together (STYLE.md). The CLI hands it a checked configuration.
 */
import { createEngine } from './engine/engine.js';
import { TOPICS, type Engine, type EngineCommand, type Fixtures, type Ledger, type RawTopic } from './engine/types.js';
import type { Bus, TopicSpec } from './kafka/bus.js';
import { createMemoryBus } from './kafka/memory-bus.js';
import { createPublisher } from './kafka/publisher.js';
import { openDatabase } from './db/open.js';
import type { CommandLogEntry, Database, RunCounts, RunRow } from './db/types.js';
import { createEngineDriver, type EngineDriver } from './pipeline/engine-driver.js';
import { createProcessor, type Processor } from './pipeline/processor.js';
import { createSink, type Sink } from './pipeline/sink.js';
import { replayEngine } from './pipeline/replay.js';
import { verifyRun, type VerifyResult } from './pipeline/verify.js';
import type { RunSettings } from './pipeline/types.js';
import { EXIT, UserError } from './cli/errors.js';
import { maskUrl, type DbTarget, type RunConfig } from './cli/config.js';
import { newRunId } from './run-id.js';
import { createMonitor, type Monitor } from './monitor.js';

export interface TopicNames {
  foot: string; shelf: string; clean: string; pos: string; visits: string; rejected: string; state: string;
}

export function topicNames(prefix: string): TopicNames {
  return {
    foot: prefix + TOPICS.foot,
    shelf: prefix + TOPICS.shelf,
    clean: prefix + TOPICS.clean,
    pos: prefix + TOPICS.pos,
    visits: prefix + TOPICS.visits,
    rejected: prefix + TOPICS.rejected,
    state: prefix + 'storesim-processor-state',
  };
}

export function groupIds(prefix: string): { processor: string; sink: string } {
  return { processor: `${prefix}storesim-processor`, sink: `${prefix}storesim-sink` };
}

const LEASE_MS = 15_000;
const HEARTBEAT_MS = 3_000;

export async function openBus(cfg: RunConfig): Promise<Bus> {
  if (!cfg.kafka) return createMemoryBus({ defaultPartitions: cfg.partitions });
  const { createKafkaBus } = await import('./kafka/kafka-bus.js');
  return createKafkaBus({
    brokers: cfg.kafka.brokers,
    clientId: 'storesim',
    ssl: cfg.kafka.ssl,
    sasl: cfg.kafka.sasl,
    replicationFactor: cfg.kafka.replicationFactor,
  });
}

export async function openDb(target: DbTarget): Promise<Database> {
  const db = await openDatabase(target);
  await db.migrate();
  return db;
}

function topicSpecs(names: TopicNames, partitions: number): TopicSpec[] {
  const plain = [names.foot, names.shelf, names.clean, names.pos, names.visits, names.rejected].map((topic) => ({ topic, partitions }));
  return [
    ...plain,
    {
      topic: names.state,
      partitions,
      config: { 'cleanup.policy': 'compact', 'segment.bytes': String(8 * 1024 * 1024), 'max.message.bytes': String(16 * 1024 * 1024), 'compression.type': 'gzip' },
    },
  ];
}

export function runSettings(runId: string, cfg: RunConfig, fixtures: Fixtures): RunSettings {
  const e = cfg.engine;
  const layout = fixtures.layouts[e.layout]!;
  return {
    run_id: runId,
    grace_ms: e.graceMs,
    dedup_window_ms: e.dedupWindowMs,
    marker_interval_ms: e.markerIntervalMs,
    max_session_age_sec: e.maxSessionAgeSec,
    force_checkout_if_empty: e.forceCheckoutIfEmpty,
    fixtures_hash: fixtures.hash,
    store_id: layout.store_id,
  };
}

/** The configuration recorded in `runs`: no secrets (DESIGN.md, Configuration). */
function recordedConfig(cfg: RunConfig): string {
  return JSON.stringify({
    engine: cfg.engine,
    roles: [...cfg.roles],
    kafka: cfg.kafka ? { brokers: cfg.kafka.brokers, ssl: cfg.kafka.ssl, sasl: cfg.kafka.sasl ? { mechanism: cfg.kafka.sasl.mechanism, username: cfg.kafka.sasl.username } : undefined, partitions: cfg.kafka.partitions } : null,
    db: cfg.db.url ? { url: maskUrl(cfg.db.url) } : { sqlitePath: cfg.db.sqlitePath },
    topicPrefix: cfg.topicPrefix,
    partitions: cfg.partitions,
    events: cfg.events,
    durationMs: cfg.durationMs,
    warp: cfg.warp,
    eps: cfg.eps,
  });
}

export interface Summary {
  type: 'summary';
  run_id: string;
  seed: number;
  mode: { bus: 'memory' | 'kafka'; db: 'sqlite' | 'postgres' };
  produced: number;
  accepted: number;
  rejected: number;
  rejected_by_code: Record<string, number>;
  redelivered: number;
  visits: number;
  abandoned: number;
  open_at_end: number;
  transactions: number;
  revenue_cents: number;
  elapsed_s: number;
  events_per_sec: number;
  latency_ms: { p50: number | null; p99: number | null };
  verify: { ok: boolean; lost: number; duplicated: number; mismatched: number };
  stream_sha256: string;
}

export async function startRun(cfg: RunConfig, fixtures: Fixtures): Promise<number> {
  const out = (line: object): void => { process.stdout.write(JSON.stringify(line) + '\n'); };
  const db = await openDb(cfg.db);
  // The warehouse's dimensions come from the same fixtures the engine uses (abandoned carts are valued at list price).
  await db.seedDimensions(fixtures);
  let bus: Bus | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    bus = await openBus(cfg);
    const names = topicNames(cfg.topicPrefix);
    const groups = groupIds(cfg.topicPrefix);
    const partitions = cfg.kafka ? cfg.kafka.partitions : cfg.partitions;
    if (!cfg.kafka || cfg.kafka.createTopics) await bus.ensureTopics(topicSpecs(names, partitions));
    const footParts = await bus.partitionCount(names.foot);
    const shelfParts = await bus.partitionCount(names.shelf);
    if (footParts !== shelfParts) {
      throw new UserError(`topics ${names.foot} (${footParts} partitions) and ${names.shelf} (${shelfParts}) must have the same partition count (recreate them, or use another --topic-prefix)`);
    }

    const hasEngine = cfg.roles.has('engine');
    let processor: Processor | null = null;
    let sink: Sink | null = null;
    if (cfg.roles.has('sink')) {
      sink = createSink({ bus, db, groupId: groups.sink, topics: names });
      await sink.start();
      cleanups.push(() => sink?.stop());
    }
    if (cfg.roles.has('processor')) {
      processor = createProcessor({ bus, groupId: groups.processor, topics: names, fixtures });
      await processor.start();
      cleanups.push(() => processor?.stop());
    }
    if (!hasEngine) return await runWithoutEngine(cfg, { processor, sink, cleanups, out });

    const started = Date.now();
    const runId = cfg.resume ?? newRunId(started);
    const settings = runSettings(runId, cfg, fixtures);
    const run: RunRow = {
      run_id: runId, seed: cfg.engine.seed, started_at: new Date(started).toISOString(),
      bus: bus.kind, db: db.dialect, topic_prefix: cfg.topicPrefix, config: recordedConfig(cfg),
      command_log: [], stopped_at_seq: null, stopped_at_ms: null, status: 'live',
      heartbeat_at: new Date(started).toISOString(), produced: null, summary: null, verify_ok: null,
    };
    const live = await db.claimRun(run, new Date(started - LEASE_MS).toISOString());
    if (live) {
      throw new UserError(`run ${live.run_id} is still live on topic prefix "${cfg.topicPrefix}" (stop it, wait ${LEASE_MS / 1000}s after it died, or use another --topic-prefix)`);
    }
    const heartbeat = setInterval(() => {
      db.updateRun(runId, { heartbeat_at: new Date().toISOString() }).catch(() => undefined);
    }, HEARTBEAT_MS);
    cleanups.push(() => clearInterval(heartbeat));

    const engine = createEngine({ fixtures, config: cfg.engine, recordLedger: cfg.events !== null });
    const producer = bus.createProducer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const publisher = createPublisher({ producer });
    const commandLog: CommandLogEntry[] = [];
    const driver = createEngineDriver({
      engine, publisher, settings,
      topics: { foot_traffic: names.foot, shelf_events: names.shelf } satisfies Record<RawTopic, string>,
      partitions: footParts,
      warp: cfg.warp, eps: cfg.eps, maxEvents: cfg.events, durationMs: cfg.durationMs,
      onCommand: async (entry) => {
        commandLog.push(entry);
        await db.appendCommand(runId, entry);
      },
    });

    const monitor: Monitor = createMonitor({ cfg, bus, db, runId, names, groups, engine, driver, processor, sink, fixtures, started });
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write('storesim: forced stop\n');
        process.exit(EXIT.forced);
      }
      monitor.setStatus('stopping: draining the pipeline (Ctrl-C again to force)');
      driver.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    cleanups.push(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });

    const ui = cfg.tui ? await monitor.openDashboard((c) => handleUiCommand(c, engine, driver, onSignal, monitor)) : null;
    if (!cfg.tui) monitor.startProgressLines(cfg.intervalMs, out);
    cleanups.push(() => monitor.stop());

    await driver.done;
    monitor.setStatus('draining');
    const expected = engine.expected();
    await db.updateRun(runId, { stopped_at_seq: engine.produced, stopped_at_ms: engine.nowMs, produced: engine.produced });
    const drained = await drain(db, runId, expected, cfg.drainTimeoutMs, () => monitor.faultsActive());
    const drainedAt = Date.now();
    if (!drained) process.stderr.write('storesim: the drain made no progress; verify will report what is missing\n');
    await processor?.stop();
    processor = null;
    await sink?.stop();
    sink = null;

    const ledger = cfg.events !== null ? engine.ledger() : await replayLedger(cfg, fixtures, commandLog, engine.produced);
    const result = verifyRun(runId, ledger, await db.contents(runId), fixtures);
    const counts = await db.counts(runId);
    const finishedAt = Date.now();
    const summary = buildSummary({ runId, cfg, bus, db, engine, counts, result, started, finishedAt, drainedAt, driver, monitor });
    await db.updateRun(runId, { status: 'completed', summary: JSON.stringify(summary), verify_ok: result.ok, heartbeat_at: new Date().toISOString() });
    if (ui) await ui.close();
    out(summary);
    if (!result.ok) printVerifyExamples(result, (s) => process.stderr.write(s));
    return result.ok ? EXIT.ok : EXIT.verifyFailed;
  } finally {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch { /* closing anyway */ }
    }
    await bus?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

const RATE_STEPS = [1, 2, 3, 4, 6, 8, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 600, 1200, 2400];
const WARP_STEPS: (number | 'max')[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 'max'];
/** Rate of a data fault switched on from the dashboard's menu. */
export const MENU_FAULT_RATE = 0.02;

export function nextStep<T>(steps: readonly T[], current: T, dir: 1 | -1, value: (t: T) => number): T {
  const v = value(current);
  if (dir > 0) return steps.find((s) => value(s) > v) ?? steps[steps.length - 1]!;
  return [...steps].reverse().find((s) => value(s) < v) ?? steps[0]!;
}

/** Keys become commands to the engine or the driver; the UI never touches engine state. */
function handleUiCommand(c: { type: string; fault?: string }, engine: Engine, driver: EngineDriver, quit: () => void, monitor: Monitor): void {
  const warpValue = (w: number | 'max'): number => (w === 'max' ? Number.POSITIVE_INFINITY : w);
  switch (c.type) {
    case 'quit': quit(); break;
    case 'rate_up':
    case 'rate_down':
      driver.command({ type: 'set_rate', perMin: nextStep(RATE_STEPS, engine.snapshot().ratePerMin, c.type === 'rate_up' ? 1 : -1, (x) => x) });
      break;
    case 'warp_up':
    case 'warp_down':
      driver.setWarp(nextStep(WARP_STEPS, driver.warp, c.type === 'warp_up' ? 1 : -1, warpValue));
      break;
    case 'toggle_pause':
      driver.command({ type: engine.paused ? 'resume' : 'pause' });
      break;
    case 'toggle_fault': {
      const kind = c.fault as keyof ReturnType<Engine['snapshot']>['faults'];
      const faults = engine.snapshot().faults;
      if (kind in faults) {
        driver.command({ type: 'set_fault', fault: kind, rate: faults[kind] > 0 ? 0 : MENU_FAULT_RATE } as EngineCommand);
      } else {
        monitor.setStatus(`${String(c.fault)}: infrastructure faults are not available in this version`);
      }
      break;
    }
    default: break;
  }
}

async function runWithoutEngine(
  _cfg: RunConfig,
  parts: { processor: Processor | null; sink: Sink | null; cleanups: (() => Promise<void> | void)[]; out: (l: object) => void },
): Promise<number> {
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  parts.out({ type: 'stopped', processor: parts.processor?.stats() ?? null, sink: parts.sink?.stats() ?? null });
  return EXIT.ok;
}

/** Waits until the database holds what the engine produced, or no progress for `timeoutMs`. */
export async function drain(
  db: Database, runId: string,
  expected: { produced: number; transactions: number; visits: number },
  timeoutMs: number,
  paused: () => boolean = () => false,
): Promise<boolean> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const c = await db.counts(runId);
    const done = c.staging + c.rejected >= expected.produced && c.transactions >= expected.transactions && c.visits >= expected.visits;
    if (done) return true;
    const progress = c.staging + c.rejected + c.transactions + c.visits;
    if (progress !== last || paused()) { last = progress; lastChange = Date.now(); }
    if (Date.now() - lastChange > timeoutMs) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function replayLedger(cfg: RunConfig, fixtures: Fixtures, commands: CommandLogEntry[], produced: number): Promise<Ledger> {
  const engine = createEngine({ fixtures, config: cfg.engine, recordLedger: true });
  await replayEngine(engine, { commands, maxEvents: produced, untilMs: Number.POSITIVE_INFINITY, emit: () => undefined });
  return engine.ledger();
}

function buildSummary(x: {
  runId: string; cfg: RunConfig; bus: Bus; db: Database; engine: Engine; counts: RunCounts; result: VerifyResult;
  started: number; finishedAt: number; drainedAt: number; driver: EngineDriver; monitor: Monitor;
}): Summary {
  const elapsed = (x.finishedAt - x.started) / 1000;
  // Throughput end to end: from the first event to the last row committed (verify not included).
  const pipelineS = (x.drainedAt - x.driver.startedAt) / 1000;
  const lat = x.monitor.latency();
  return {
    type: 'summary',
    run_id: x.runId,
    seed: x.cfg.engine.seed,
    mode: { bus: x.bus.kind, db: x.db.dialect },
    produced: x.engine.produced,
    accepted: x.counts.staging,
    rejected: x.counts.rejected,
    rejected_by_code: x.counts.rejectedByCode,
    redelivered: x.monitor.redelivered(),
    visits: x.counts.visits,
    abandoned: x.counts.visitsByStatus.abandoned ?? 0,
    open_at_end: x.counts.visitsByStatus.open_at_end ?? 0,
    transactions: x.counts.transactions,
    revenue_cents: x.counts.revenueCents,
    elapsed_s: Math.round(elapsed * 1000) / 1000,
    events_per_sec: pipelineS > 0 ? Math.round(x.engine.produced / pipelineS) : 0,
    latency_ms: lat,
    verify: { ok: x.result.ok, lost: x.result.lost, duplicated: x.result.duplicated, mismatched: x.result.mismatched },
    stream_sha256: x.driver.streamSha256(),
  };
}

export function printVerifyExamples(r: VerifyResult, write: (s: string) => void): void {
  write(`verify: ${r.ok ? 'ok' : 'FAILED'} — lost ${r.lost}, duplicated ${r.duplicated}, mismatched ${r.mismatched}\n`);
  for (const [kind, list] of Object.entries(r.examples)) {
    for (const e of list) write(`  ${kind}: ${e}\n`);
  }
}

export async function verifyCommand(opts: { runId: string; json: boolean; db: DbTarget; fixtures: Fixtures }): Promise<number> {
  const db = await openDb(opts.db);
  try {
    const run = await db.getRun(opts.runId);
    if (!run) throw new UserError(`no run ${opts.runId} in ${db.description} (list runs with: storesim runs list)`);
    const recorded = JSON.parse(run.config) as { engine: RunConfig['engine'] };
    if (run.stopped_at_seq === null) throw new UserError(`run ${opts.runId} has not stopped yet (status ${run.status}); verify it once it has ended`);
    const engine = createEngine({ fixtures: opts.fixtures, config: recorded.engine, recordLedger: true });
    await replayEngine(engine, { commands: run.command_log, maxEvents: run.stopped_at_seq, untilMs: Number.POSITIVE_INFINITY, emit: () => undefined });
    const result = verifyRun(opts.runId, engine.ledger(), await db.contents(opts.runId), opts.fixtures);
    if (opts.json) process.stdout.write(JSON.stringify({ run_id: opts.runId, ...result }) + '\n');
    else printVerifyExamples(result, (s) => process.stdout.write(s));
    return result.ok ? EXIT.ok : EXIT.verifyFailed;
  } finally {
    await db.close();
  }
}

export async function dbCommand(action: 'reset' | 'migrate', target: DbTarget): Promise<void> {
  const db = await openDatabase(target);
  try {
    if (action === 'reset') await db.reset();
    else await db.migrate();
    process.stdout.write(`${action === 'reset' ? 'reset' : 'migrated'} ${db.description}\n`);
  } finally {
    await db.close();
  }
}
