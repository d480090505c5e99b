/**
 * The composition root: the one place that builds connections and wires engine, bus, processor,
 * sink, database and dashboard together (STYLE.md). The CLI hands it a checked configuration.
 */
import { createEngine } from './engine/engine.js';
import { TOPICS, type Engine, type EngineCommand, type Fixtures, type Ledger, type RawTopic } from './engine/types.js';
import type { Bus, TopicSpec } from './kafka/bus.js';
import { createMemoryBus } from './kafka/memory-bus.js';
import { createRepeatFilter } from './kafka/log-repeats.js';
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
import type { DbTarget, RunConfig } from './cli/config.js';
import { maskUrl } from './db/errors.js';
import { databaseFlag, recapLines } from './cli/recap.js';
import { newRunId } from './run-id.js';
import { createMonitor, type Monitor } from './monitor.js';
import { createFaultSocketFactory, createLinkController, type LinkController } from './kafka/fault-socket.js';
import { withBrokerFaults } from './kafka/fault-bus.js';
import type { KafkaLogLine } from './kafka/kafka-bus.js';
import { DEFAULT_SQLITE_PATH, openDatabase as openDatabaseWith } from './db/open.js';
import { createPgFaultStream, pgFaultSwitch, sqliteFaults, type DbFaultSwitch } from './db/fault-stream.js';
import { createFaultController, INFRA_FAULTS, type FaultController, type FaultRecord, type InfraFault } from './faults.js';
import { findResumePoint, loadResumable, type RecordedConfig } from './resume.js';
import { within } from './within.js';
import { createScenarioPlayer, createStepCommands, scenarioTimeline, type TimelineStep } from './cli/scenario.js';

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
/** kafkajs logs these at error level while metadata of new topics propagates, then retries by itself. */
const KAFKA_RETRIED_NOISE = /not the leader for that topic-partition|does not host this topic-partition/i;
const HEARTBEAT_MS = 3_000;
/**
 * How long the engine waits for this process's processor and sink to join their consumer groups.
 * Events published before that wait for the join (a second or more on Kafka, and a JIT-cold
 * process meanwhile), which the latency figures would count; a join that takes longer (a dead
 * member's session still running out) does not hold the run back beyond this.
 */
const JOIN_WAIT_MS = 10_000;

export interface OpenBusOptions {
  /** Broker faults: Kafka connections go through fault sockets; the in-process bus gets the same switch. Default: none. */
  link?: LinkController;
  /** Where kafkajs logs go. Default: stderr. */
  onLog?: (line: KafkaLogLine) => void;
}

export async function openBus(cfg: RunConfig, opts: OpenBusOptions = {}): Promise<Bus> {
  if (!cfg.kafka) {
    const bus = createMemoryBus({ defaultPartitions: cfg.partitions });
    return opts.link ? withBrokerFaults(bus, opts.link) : bus;
  }
  const { createKafkaBus } = await import('./kafka/kafka-bus.js');
  return createKafkaBus({
    brokers: cfg.kafka.brokers,
    clientId: 'storesim',
    ssl: cfg.kafka.ssl,
    sasl: cfg.kafka.sasl,
    replicationFactor: cfg.kafka.replicationFactor,
    compression: cfg.kafka.compression,
    ...(opts.link ? { socketFactory: createFaultSocketFactory(opts.link) } : {}),
    ...(opts.onLog ? { onLog: opts.onLog } : {}),
  });
}

export async function openDb(target: DbTarget): Promise<Database> {
  const db = await openDatabase(target);
  await db.migrate();
  return db;
}

/**
 * SQLite busy timeout of a run, ms: better-sqlite3 waits for a lock synchronously, so a write that
 * meets a held lock (db_down) fails this fast and the sink retries it asynchronously.
 */
const RUN_SQLITE_BUSY_MS = 25;

/** The run's database with its fault switch: PostgreSQL through fault sockets, SQLite with a lock and latency. */
async function openRunDb(target: DbTarget): Promise<{ db: Database; faults: DbFaultSwitch; release(): void }> {
  const isPg = target.url !== undefined && /^postgres(ql)?:\/\//i.test(target.url);
  const link = createLinkController();
  const db = await openDatabaseWith(target, {
    busyTimeoutMs: RUN_SQLITE_BUSY_MS,
    ...(isPg ? { pgStream: createPgFaultStream(link) } : {}),
  });
  if (isPg) return { db, faults: pgFaultSwitch(link), release: () => link.set({ kind: 'normal' }) };
  const sq = sqliteFaults(db, target.sqlitePath ?? DEFAULT_SQLITE_PATH);
  return { db: sq.db, faults: sq.faults, release: () => sq.close() };
}

/**
 * The run's command log in the database, in order, every write retried until it lands (a database
 * outage must not lose a command nor stop the run). Commands that change the stream await their
 * write before they take effect; infrastructure-fault steps are written in the background (the step
 * that ends a database outage must not wait for that database). DESIGN.md, Promises.
 */
function createCommandWriter(db: Database, runId: string, faultsActive: () => boolean): {
  write(entry: CommandLogEntry): Promise<void>;
  background(entry: CommandLogEntry): void;
  flush(): Promise<void>;
} {
  let tail: Promise<void> = Promise.resolve();
  const write = (entry: CommandLogEntry): Promise<void> => {
    const run = tail.then(() => retryDb(() => db.appendCommand(runId, entry), faultsActive));
    tail = run.catch(() => undefined);
    return run;
  };
  return {
    write,
    background(entry) { write(entry).catch(() => undefined); },
    flush: () => tail,
  };
}

/** Retries a database call with backoff while it fails: without limit while a fault is active, else for about a minute. */
async function retryDb<T>(fn: () => Promise<T>, faultsActive: () => boolean): Promise<T> {
  const started = Date.now();
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!faultsActive() && Date.now() - started > 60_000) throw err;
      await new Promise((r) => setTimeout(r, Math.min(2_000, 100 * 2 ** Math.min(attempt, 5))));
    }
  }
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
    kafka: cfg.kafka ? { brokers: cfg.kafka.brokers, ssl: cfg.kafka.ssl, sasl: cfg.kafka.sasl ? { mechanism: cfg.kafka.sasl.mechanism, username: cfg.kafka.sasl.username } : undefined, partitions: cfg.kafka.partitions, compression: cfg.kafka.compression } : null,
    db: cfg.db.url ? { url: maskUrl(cfg.db.url) } : { sqlitePath: cfg.db.sqlitePath },
    topicPrefix: cfg.topicPrefix,
    partitions: cfg.partitions,
    events: cfg.events,
    durationMs: cfg.durationMs,
    warp: cfg.warp,
    eps: cfg.eps,
  } satisfies RecordedConfig);
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
  /** Every infrastructure fault of the run: when it started, how long it lasted, peak backlog, drain time after it. */
  faults: FaultRecord[];
}

export async function startRun(cfgIn: RunConfig, fixtures: Fixtures): Promise<number> {
  const out = (line: object): void => { process.stdout.write(JSON.stringify(line) + '\n'); };
  const opened = await openRunDb(cfgIn.db);
  const db = opened.db;
  let cfg = cfgIn;
  let resumed: RunRow | null = null;
  if (cfgIn.resume !== null) {
    try {
      ({ run: resumed, cfg } = await loadResumable(db, cfgIn, LEASE_MS));
    } catch (err) {
      opened.release();
      await db.close().catch(() => undefined);
      throw err;
    }
  }
  // The warehouse's dimensions come from the same fixtures the engine uses (abandoned carts are valued at list price).
  await db.seedDimensions(fixtures);
  let bus: Bus | null = null;
  const cleanups: (() => Promise<void> | void)[] = [];
  const brokerLink = createLinkController();
  let monitorRef: Monitor | null = null;
  // kafkajs logs the symptoms of a broker fault loudly: quiet while one is on and for a while after;
  // never on the console under the dashboard (STYLE.md, Errors).
  let brokerQuietUntil = 0;
  // A broker that is away makes kafkajs log each failed attempt of each client: once per 30 s each.
  const kafkaRepeats = createRepeatFilter();
  const onKafkaLog = (l: KafkaLogLine): void => {
    if (Date.now() < brokerQuietUntil || KAFKA_RETRIED_NOISE.test(l.message)) return;
    const text = kafkaRepeats.pass(`kafkajs ${l.level} [${l.namespace}] ${l.message}`);
    if (text === null) return;
    if (cfg.tui) monitorRef?.setStatus(text);
    else process.stderr.write(text + '\n');
  };
  try {
    bus = await openBus(cfg, { link: brokerLink, onLog: onKafkaLog });
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
    // Assigned by startRoles (a closure), so declared without narrowing to null.
    let processor = null as Processor | null;
    let sink = null as Sink | null;
    // A failure no retry can mend ends the run with that error instead of a silent hang.
    let fatal: unknown = null;
    let stopEngine: () => void = () => undefined;
    const abort = (err: unknown): void => {
      if (fatal === null) fatal = err;
      stopEngine();
    };
    const throwIfFatal = (): void => {
      if (fatal !== null) throw fatal;
    };
    const startRoles = async (): Promise<void> => {
      if (cfg.roles.has('sink')) {
        sink = createSink({ bus: bus!, db, groupId: groups.sink, topics: names, onFatal: abort });
        await sink.start();
        cleanups.push(() => sink?.stop());
      }
      if (cfg.roles.has('processor')) {
        processor = createProcessor({ bus: bus!, groupId: groups.processor, topics: names, fixtures });
        await processor.start();
        cleanups.push(() => processor?.stop());
      }
    };
    if (!hasEngine) {
      await startRoles();
      return await runWithoutEngine(cfg, { processor, sink, cleanups, out });
    }

    const started = Date.now();
    const runId = resumed?.run_id ?? newRunId(started);
    const settings = runSettings(runId, cfg, fixtures);
    if (resumed) {
      await db.updateRun(runId, { heartbeat_at: new Date(started).toISOString() });
    } else {
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
    }
    // Resume: where each raw partition stopped (the in-process bus died with the crashed process: nowhere).
    const resumePoint = resumed
      ? await findResumePoint(bus, runId, { foot_traffic: names.foot, shelf_events: names.shelf }, footParts, resumed.command_log)
      : undefined;
    if (resumed && resumePoint) {
      const onBus = Math.max(0, ...resumePoint.lastSeq.foot_traffic, ...resumePoint.lastSeq.shelf_events);
      process.stderr.write(`storesim: resuming run ${runId} (seed ${cfg.engine.seed}): regenerating it; ${onBus > 0 ? `events up to seq ${onBus} are already on the topics` : 'every event is published again, the database keeps each once'}\n`);
    }
    // Only once the lease is ours: a refused run must not join the live run's consumer groups.
    await startRoles();
    await within(Promise.all([processor?.joined(), sink?.joined()]), JOIN_WAIT_MS);
    const heartbeat = setInterval(() => {
      db.updateRun(runId, { heartbeat_at: new Date().toISOString() }).catch(() => undefined);
    }, HEARTBEAT_MS);
    cleanups.push(() => clearInterval(heartbeat));

    const engine = createEngine({ fixtures, config: cfg.engine, recordLedger: cfg.events !== null });
    const producer = bus.createProducer();
    await producer.connect();
    cleanups.push(() => producer.disconnect());
    const publisher = createPublisher({ producer });
    const commandLog: CommandLogEntry[] = resumed ? [...resumed.command_log] : [];

    const faults: FaultController = createFaultController({
      broker: brokerLink,
      db: opened.faults,
      processor,
      sink,
      backlog: () => (monitorRef ? monitorRef.backlog() : publisher.backlog),
      onEvent: (e) => {
        if (e.name === 'broker_down' || e.name === 'broker_slow') {
          const brokerFaultOn = faults.status().some((f) => f.active && f.name.startsWith('broker'));
          brokerQuietUntil = brokerFaultOn ? Number.POSITIVE_INFINITY : Date.now() + 30_000;
        }
        const say = (m: string): void => monitorRef?.setStatus(m);
        switch (e.type) {
          case 'started': say(`${e.name} on${e.durationMs !== null ? ` for ${(e.durationMs / 1000).toFixed(1)} s` : ''}`); break;
          case 'stopped': say(`${e.name} off after ${e.record.duration_s ?? 0} s; backlog draining (peak ${e.record.peak_backlog})`); break;
          case 'drained': say(`${e.name}: backlog drained ${e.record.drain_s ?? 0} s after it ended (peak ${e.record.peak_backlog})`); break;
          case 'error': say(`${e.name}: ${e.error instanceof Error ? e.error.message : String(e.error)}`); break;
        }
      },
    });
    cleanups.push(() => faults.close());
    const commands = createCommandWriter(db, runId, () => faults.anyActive());
    /** Steps that do not change the stream (warp, infrastructure faults): logged in the background. */
    const logBackground = (command: Record<string, unknown>): void => {
      const entry: CommandLogEntry = { step: engine.step, sim_ms: engine.nowMs, command };
      commandLog.push(entry);
      commands.background(entry);
    };
    const startInfra = (name: InfraFault, o: { durationMs: number | null; latencyMs: number | null }, origin: Record<string, unknown>): void => {
      logBackground({ type: 'start_fault', fault: name, duration_ms: o.durationMs, latency_ms: o.latencyMs, ...origin });
      faults.start(name, o).catch((err: unknown) => monitorRef?.setStatus(`${name}: ${err instanceof Error ? err.message : String(err)}`));
    };
    const stopInfra = (name: InfraFault, origin: Record<string, unknown>): void => {
      logBackground({ type: 'stop_fault', fault: name, ...origin });
      faults.stop(name).catch((err: unknown) => monitorRef?.setStatus(`${name}: ${err instanceof Error ? err.message : String(err)}`));
    };
    const toggleInfra = (name: InfraFault): void => {
      if (!faults.available(name)) {
        monitorRef?.setStatus(`${name}: not available in this process`);
        return;
      }
      const on = faults.status().some((f) => f.name === name && f.active);
      if (on) stopInfra(name, { source: 'key' });
      else startInfra(name, { durationMs: null, latencyMs: null }, { source: 'key' });
    };

    // The scenario: steps due are applied between engine chunks, the engine never runs past the next one.
    const player = cfg.scenario ? createScenarioPlayer(scenarioTimeline(cfg.scenario, cfg.timeScale)) : null;
    const stepCommands = createStepCommands(cfg.engine.ratePerMin);
    const applyStep = (step: TimelineStep): void => {
      const cmd = stepCommands.engineCommand(step);
      if (cmd) {
        driver.command(cmd);
        return;
      }
      const origin = { scenario_step: step.index, ...(step.note !== undefined ? { note: step.note } : {}) };
      switch (step.do) {
        case 'set_warp':
          driver.setWarp(step.warp);
          logBackground({ type: 'set_warp', warp: step.warp, ...origin });
          break;
        case 'start_fault': startInfra(step.fault, { durationMs: step.durationWallMs, latencyMs: step.latencyWallMs }, origin); break;
        case 'stop_fault': stopInfra(step.fault, origin); break;
        case 'end': driver.stop(); break;
        default: break;
      }
    };

    const driver = createEngineDriver({
      engine, publisher, settings,
      topics: { foot_traffic: names.foot, shelf_events: names.shelf } satisfies Record<RawTopic, string>,
      partitions: footParts,
      warp: cfg.warp, eps: cfg.eps, maxEvents: cfg.events, durationMs: cfg.durationMs,
      downstreamHandled: processor ? () => processor?.stats().consumed ?? 0 : undefined,
      ...(resumePoint ? { resume: resumePoint } : {}),
      onCommand: async (entry) => {
        commandLog.push(entry);
        await commands.write(entry);
      },
      betweenChunks: player
        ? async () => {
          await Promise.resolve(); // the driver's first call comes from inside createEngineDriver
          for (const step of player.due(engine.nowMs - cfg.engine.startMs)) applyStep(step);
          const next = player.nextAtSimMs;
          return next === null ? null : cfg.engine.startMs + next;
        }
        : undefined,
    });

    const monitor: Monitor = createMonitor({ cfg, bus, db, runId, names, groups, engine, driver, processor, sink, fixtures, started, publisher, faults });
    monitorRef = monitor;
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals > 1) {
        process.stderr.write('storesim: forced stop\n');
        process.exit(EXIT.forced);
      }
      // A graceful stop ends active faults first (DESIGN.md, Promises).
      monitor.setStatus('stopping: ending faults, draining the pipeline (Ctrl-C again to force)');
      void faults.stopAll();
      driver.stop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    cleanups.push(() => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); });

    const ui = cfg.tui ? await monitor.openDashboard((c) => handleUiCommand(c, engine, driver, onSignal, monitor, toggleInfra)) : null;
    if (!cfg.tui) monitor.startProgressLines(cfg.intervalMs, out);
    cleanups.push(() => monitor.stop());

    stopEngine = () => driver.stop();
    if (fatal !== null) driver.stop();
    await driver.done;
    throwIfFatal();
    monitor.setStatus('draining');
    // Faults started without a duration end with the engine; timed ones finish their wall-clock time.
    await faults.stopOpenEnded();
    const expected = engine.expected();
    await retryDb(() => db.updateRun(runId, { stopped_at_seq: engine.produced, stopped_at_ms: engine.nowMs, produced: engine.produced }), () => faults.anyActive());
    const drained = await drain(db, runId, expected, cfg.drainTimeoutMs, () => monitor.faultsActive(), () => fatal !== null);
    throwIfFatal();
    const drainedAt = Date.now();
    // A timed fault still on finishes its wall-clock time (unless a graceful stop ended it), then
    // the database holding everything means whatever a fault left behind has drained.
    if (drained && signals === 0) await faults.whenIdle();
    await faults.stopAll();
    if (drained) faults.settle(drainedAt);
    await commands.flush();
    if (!drained) process.stderr.write('storesim: the drain made no progress; verify will report what is missing\n');
    await processor?.stop();
    processor = null;
    await sink?.stop();
    sink = null;

    const ledger = cfg.events !== null ? engine.ledger() : await replayLedger(cfg, fixtures, commandLog, engine.produced);
    const result = verifyRun(runId, ledger, await db.contents(runId), fixtures);
    const counts = await db.counts(runId);
    const finishedAt = Date.now();
    const summary = buildSummary({ runId, cfg, bus, db, engine, counts, result, started, finishedAt, drainedAt, driver, monitor, faults: faults.records() });
    await db.updateRun(runId, { status: 'completed', summary: JSON.stringify(summary), verify_ok: result.ok, heartbeat_at: new Date().toISOString() });
    if (ui) await ui.close();
    monitor.stop();
    // After the dashboard, the summary in words for the person at the terminal; the JSON line follows.
    if (ui) process.stderr.write(recapLines(summary, databaseFlag(cfg.db, DEFAULT_SQLITE_PATH)).join('\n') + '\n');
    out(summary);
    if (!result.ok) printVerifyExamples(result, (s) => process.stderr.write(s));
    return result.ok ? EXIT.ok : EXIT.verifyFailed;
  } finally {
    if (!cfg.tui) for (const line of kafkaRepeats.flush()) process.stderr.write(line + '\n');
    // Connections closing under requests still in flight make kafkajs log errors ("write after
    // end"): the run has ended, they are noise.
    brokerQuietUntil = Number.POSITIVE_INFINITY;
    for (const c of cleanups.reverse()) {
      try { await c(); } catch { /* closing anyway */ }
    }
    brokerLink.set({ kind: 'normal' });
    await bus?.close().catch(() => undefined);
    // A connection kafkajs opened again after its client's disconnect (several such paths found
    // so far: docs/kafka.md) would keep the process alive until the broker drops it as idle, ten
    // minutes: whatever is still open through the run's broker link now is closed.
    brokerLink.closeAll();
    opened.release();
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
function handleUiCommand(
  c: { type: string; fault?: string }, engine: Engine, driver: EngineDriver, quit: () => void, monitor: Monitor,
  toggleInfra: (name: InfraFault) => void,
): void {
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
      } else if ((INFRA_FAULTS as readonly string[]).includes(String(c.fault))) {
        toggleInfra(c.fault as InfraFault);
      } else {
        monitor.setStatus(`${String(c.fault)}: no such fault`);
      }
      break;
    }
    default: break;
  }
}

/**
 * A process with a processor or a sink and no engine (`--role`): it says on stderr what it runs,
 * prints a progress line per --interval (what its processor judged, what its sink wrote), and runs
 * until SIGINT or SIGTERM, then prints {"type":"stopped",…} with its whole stats.
 */
async function runWithoutEngine(
  cfg: RunConfig,
  parts: { processor: Processor | null; sink: Sink | null; cleanups: (() => Promise<void> | void)[]; out: (l: object) => void },
): Promise<number> {
  const roles = [parts.processor && 'processor', parts.sink && 'sink'].filter(Boolean).join(' and ');
  process.stderr.write(`storesim: ${roles} running for topic prefix "${cfg.topicPrefix}"; Ctrl-C or SIGTERM stops it\n`);
  const started = Date.now();
  const progress = setInterval(() => {
    const p = parts.processor?.stats();
    const k = parts.sink?.stats();
    parts.out({
      type: 'progress',
      elapsed_s: Math.round((Date.now() - started) / 100) / 10,
      processor: p ? { pairs: p.pairs, consumed: p.consumed, accepted: p.accepted, rejected: p.rejected, redelivered: p.redelivered, transactions: p.transactions } : null,
      sink: k ? { written: k.written, batches: k.batches, failed_writes: k.failedWrites, latency_recent_ms: { p50: k.latency.recent.p50, p99: k.latency.recent.p99 } } : null,
    });
  }, cfg.intervalMs);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(progress);
  parts.out({ type: 'stopped', processor: parts.processor?.stats() ?? null, sink: parts.sink?.stats() ?? null });
  return EXIT.ok;
}

/**
 * How long the drain waits before counting again on PostgreSQL, after a count that took `countMs`:
 * 100 ms, or three times the count, at most 2 s. There counting a run's rows costs ~40 ms per
 * 100,000 (measured), so a fixed 100 ms would keep a core of the database counting through the
 * drain of a long run, beside the sink it waits for. SQLite's counts are kept up to date by its
 * connection (cheap), and their time is mostly the wait behind the sink's writes: 100 ms there.
 */
export function drainPollMs(countMs: number): number {
  return Math.min(2_000, Math.max(100, 3 * countMs));
}

/** Waits until the database holds what the engine produced, or no progress for `timeoutMs`. */
export async function drain(
  db: Database, runId: string,
  expected: { produced: number; transactions: number; visits: number },
  timeoutMs: number,
  paused: () => boolean = () => false,
  aborted: () => boolean = () => false,
): Promise<boolean> {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    if (aborted()) return false;
    // A database outage makes the count fail too: no progress, and no clock while the fault is on.
    const countStart = Date.now();
    const c = await db.counts(runId).catch(() => null);
    const countMs = Date.now() - countStart;
    const done = c !== null && c.staging + c.rejected >= expected.produced && c.transactions >= expected.transactions && c.visits >= expected.visits;
    if (done) return true;
    const progress = c === null ? last : c.staging + c.rejected + c.transactions + c.visits;
    if (progress !== last || paused()) { last = progress; lastChange = Date.now(); }
    if (Date.now() - lastChange > timeoutMs) return false;
    const waitMs = db.dialect === 'postgres' ? drainPollMs(countMs) : 100;
    for (let waited = 0; waited < waitMs && !aborted(); waited += 100) await new Promise((r) => setTimeout(r, 100));
  }
}

async function replayLedger(cfg: RunConfig, fixtures: Fixtures, commands: CommandLogEntry[], produced: number): Promise<Ledger> {
  const engine = createEngine({ fixtures, config: cfg.engine, recordLedger: true });
  await replayEngine(engine, { commands, maxEvents: produced, untilMs: Number.POSITIVE_INFINITY, emit: () => undefined });
  return engine.ledger();
}

function buildSummary(x: {
  runId: string; cfg: RunConfig; bus: Bus; db: Database; engine: Engine; counts: RunCounts; result: VerifyResult;
  started: number; finishedAt: number; drainedAt: number; driver: EngineDriver; monitor: Monitor; faults: FaultRecord[];
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
    faults: x.faults,
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
    const recorded = JSON.parse(run.config) as RecordedConfig;
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
