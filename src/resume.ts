/**
 * `storesim run --resume RUN_ID` after a crash of the whole process (DESIGN.md, Promises): the run's
 * recorded configuration, the checks that it may be resumed, and where each raw partition stopped.
 * The engine driver then regenerates the run and publishes only what is missing.
 */
import type { RawTopic } from './engine/types.js';
import type { Bus } from './kafka/bus.js';
import type { Database, RunRow } from './db/types.js';
import type { ResumePoint } from './pipeline/engine-driver.js';
import { HEADERS } from './pipeline/types.js';
import { UserError } from './cli/errors.js';
import type { KafkaConfig, RunConfig } from './cli/config.js';

/** `runs.config`: a run's configuration without secrets (written by main.ts, read back by a resume). */
export interface RecordedConfig {
  engine: RunConfig['engine'];
  roles: string[];
  kafka: {
    brokers: string[]; ssl: boolean; sasl?: { mechanism: NonNullable<KafkaConfig['sasl']>['mechanism']; username: string }; partitions: number;
    /** Absent in runs recorded before `--compression` existed. */
    compression?: KafkaConfig['compression'];
  } | null;
  db: { url: string } | { sqlitePath: string | undefined };
  topicPrefix: string;
  partitions: number;
  events: number | null;
  durationMs: number | null;
  warp: number | 'max';
  eps: number | null;
}

/**
 * Checks that `runId` crashed and may be resumed, and returns its row and the configuration to run it
 * with: the recorded engine, topics, limits and pace; this invocation's connections (the Kafka
 * brokers recorded with the run when none are given; a SASL password only ever comes from here).
 */
export async function loadResumable(
  db: Database, cfg: RunConfig, leaseMs: number, now = Date.now(),
): Promise<{ run: RunRow; cfg: RunConfig }> {
  const runId = cfg.resume!;
  if (cfg.scenario) throw new UserError('--resume: a scenario is not resumed (the run goes on at its last rate); drop --scenario');
  if (!cfg.roles.has('engine')) throw new UserError('--resume: the engine role regenerates the run; add --role engine');
  const run = await db.getRun(runId);
  if (!run) throw new UserError(`--resume: no run ${runId} in ${db.description} (list runs with: storesim runs list)`);
  if (run.status !== 'live') throw new UserError(`--resume: run ${runId} has status ${run.status}, nothing to resume (check it with: storesim verify --run ${runId})`);
  const age = now - Date.parse(run.heartbeat_at);
  if (age < leaseMs) {
    throw new UserError(`--resume: run ${runId} is still live (heartbeat ${(age / 1000).toFixed(0)} s ago); stop its process, or wait ${leaseMs / 1000} s after it died`);
  }
  const recorded = JSON.parse(run.config) as RecordedConfig;
  if (run.bus === 'kafka') {
    // A later run on the same topics closed what this one left open (DESIGN.md, Identity and counting).
    const later = (await db.listRuns()).find((r) => r.topic_prefix === run.topic_prefix && r.run_id !== runId && r.started_at > run.started_at);
    if (later) throw new UserError(`--resume: run ${later.run_id} started on topic prefix "${run.topic_prefix}" after ${runId}, which can no longer be resumed`);
  }
  const live = await db.liveRun(run.topic_prefix, new Date(now - leaseMs).toISOString());
  if (live && live.run_id !== runId) {
    throw new UserError(`--resume: run ${live.run_id} is live on topic prefix "${run.topic_prefix}"; stop it first`);
  }

  let kafka: KafkaConfig | null;
  if (run.bus === 'memory') {
    if (cfg.kafka) throw new UserError(`--resume: run ${runId} ran on the in-process bus; resume it without --kafka`);
    kafka = null;
  } else {
    const rec = recorded.kafka;
    if (!rec) throw new UserError(`--resume: run ${runId} recorded no Kafka settings; pass --kafka HOST:PORT`);
    kafka = cfg.kafka ?? {
      brokers: rec.brokers,
      ssl: rec.ssl,
      ...(rec.sasl ? { sasl: { ...rec.sasl, password: process.env.KAFKA_SASL_PASSWORD ?? '' } } : {}),
      createTopics: true,
      partitions: rec.partitions,
      replicationFactor: 1,
      compression: rec.compression ?? 'none',
    };
    kafka = { ...kafka, partitions: rec.partitions };
  }
  // A duration run goes on for what was left of it when its heartbeat stopped.
  const ranMs = Date.parse(run.heartbeat_at) - Date.parse(run.started_at);
  return {
    run,
    cfg: {
      ...cfg,
      engine: recorded.engine,
      kafka,
      topicPrefix: recorded.topicPrefix,
      partitions: recorded.partitions,
      events: recorded.events,
      durationMs: recorded.durationMs === null ? null : Math.max(0, recorded.durationMs - ranMs),
      warp: recorded.warp,
      eps: recorded.eps,
    },
  };
}

/** Per raw partition, the highest seq of `runId` already on the bus (0 when none). */
export async function findResumePoint(
  bus: Bus, runId: string, topics: Record<RawTopic, string>, partitions: number, commands: RunRow['command_log'],
): Promise<ResumePoint> {
  // Reading back from the end: an event of this run, or the first message of an earlier run (this
  // run has nothing on that partition; no need to read the earlier runs' history).
  const stopAt = (m: { headers: Record<string, string> }): boolean => {
    const run = m.headers[HEADERS.run];
    return run !== undefined && (run !== runId || m.headers[HEADERS.seq] !== undefined);
  };
  const lastOf = async (topic: string): Promise<number[]> => Promise.all(
    Array.from({ length: partitions }, async (_, p) => {
      const m = await bus.readLastWhere(topic, p, stopAt);
      return m && m.headers[HEADERS.run] === runId ? Number(m.headers[HEADERS.seq]) : 0;
    }),
  );
  return { lastSeq: { foot_traffic: await lastOf(topics.foot_traffic), shelf_events: await lastOf(topics.shelf_events) }, commands };
}
