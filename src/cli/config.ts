/**
 * Flags over environment over defaults (DESIGN.md, Configuration). Everything here is pure: argv and
 * env in, a checked configuration out, or a UserError naming the flag and the fix.
 */
import { defaultEngineConfig } from '../engine/engine.js';
import type { EngineConfig, Fixtures } from '../engine/types.js';
import { UserError } from './errors.js';
import { maskUrl } from '../db/errors.js';
import { checkNumber, parseDuration, parseFaults, parseStart, parseWarp } from './parse.js';
import type { Scenario } from './scenario.js';
import type { KafkaCompression } from '../kafka/kafka-bus.js';

export type Role = 'engine' | 'processor' | 'sink' | 'ui';
export const ROLES: readonly Role[] = ['engine', 'processor', 'sink', 'ui'];

export interface KafkaConfig {
  brokers: string[];
  ssl: boolean;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  createTopics: boolean;
  partitions: number;
  replicationFactor: number;
  /** Produced record batches: 'none' or 'gzip' (`--compression`, KAFKA_COMPRESSION). */
  compression: KafkaCompression;
}

export interface DbTarget { url?: string; sqlitePath?: string }

export interface RunConfig {
  engine: EngineConfig;
  roles: Set<Role>;
  kafka: KafkaConfig | null;
  db: DbTarget;
  topicPrefix: string;
  /** In-process partitions per topic (memory bus) — Kafka uses kafka.partitions. */
  partitions: number;
  events: number | null;
  durationMs: number | null;
  warp: number | 'max';
  eps: number | null;
  intervalMs: number;
  tui: boolean;
  drainTimeoutMs: number;
  resume: string | null;
  /** The scenario to play (`--scenario`, loaded and checked before anything starts), or null. */
  scenario: Scenario | null;
  /** Multiplies every wall-clock duration of the scenario's infrastructure faults (`--time-scale`). Default 1. */
  timeScale: number;
}

export type Env = Record<string, string | undefined>;

export const DEFAULT_SQLITE_PATH = 'storesim.db';

/** The database flags: --database-url (postgres://…), else --sqlite PATH, else env, else ./storesim.db. */
export function resolveDb(argv: { sqlite?: string; 'database-url'?: string }, env: Env): DbTarget {
  const url = argv['database-url'] ?? (argv.sqlite === undefined ? env.DATABASE_URL : undefined);
  if (url !== undefined && url !== '') {
    if (/^postgres(ql)?:\/\//.test(url)) return { url };
    if (url.startsWith('sqlite:')) return { sqlitePath: url.replace(/^sqlite:(\/\/)?/, '') };
    if (!url.includes('://')) return { sqlitePath: url };
    throw new UserError(`--database-url: "${maskUrl(url)}" is not postgres://… (or pass --sqlite PATH for SQLite)`);
  }
  return { sqlitePath: argv.sqlite ?? env.STORESIM_SQLITE ?? DEFAULT_SQLITE_PATH };
}

export function resolveKafka(argv: Record<string, unknown>, env: Env): KafkaConfig | null {
  const raw = (argv.kafka as string | undefined) ?? env.KAFKA_BROKERS ?? env.KAFKA_BOOTSTRAP_SERVERS;
  if (raw === undefined || raw === '' || raw === 'memory') return null;
  const brokers = raw.split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of brokers) {
    if (!/^[\w.-]+:\d+$/.test(b) && !/^\[[0-9a-f:]+\]:\d+$/i.test(b)) {
      throw new UserError(`--kafka: "${b}" is not HOST:PORT (e.g. --kafka 127.0.0.1:9092)`);
    }
  }
  const mech = (argv['sasl-mechanism'] as string | undefined) ?? env.KAFKA_SASL_MECHANISM;
  let sasl: KafkaConfig['sasl'];
  if (mech) {
    const m = mech.toLowerCase();
    if (m !== 'plain' && m !== 'scram-sha-256' && m !== 'scram-sha-512') {
      throw new UserError(`--sasl-mechanism: "${mech}" is not one of plain, scram-sha-256, scram-sha-512`);
    }
    const username = (argv['sasl-username'] as string | undefined) ?? env.KAFKA_SASL_USERNAME ?? '';
    const password = env.KAFKA_SASL_PASSWORD ?? (argv['sasl-password'] as string | undefined) ?? '';
    if (!username) throw new UserError('--sasl-username (or KAFKA_SASL_USERNAME) is required with --sasl-mechanism');
    sasl = { mechanism: m, username, password };
  }
  return {
    brokers,
    ssl: Boolean(argv.ssl ?? (env.KAFKA_SSL === '1' || env.KAFKA_SSL === 'true')),
    sasl,
    createTopics: argv['create-topics'] !== false,
    partitions: checkNumber(argv.partitions ?? 6, '--partitions', { min: 1, integer: true }),
    replicationFactor: checkNumber(argv['replication-factor'] ?? 1, '--replication-factor', { min: 1, integer: true }),
    compression: parseCompression((argv.compression as string | undefined) ?? env.KAFKA_COMPRESSION),
  };
}

function parseCompression(raw: string | undefined): KafkaCompression {
  const c = (raw ?? 'none').toLowerCase();
  if (c === 'none' || c === 'gzip') return c;
  throw new UserError(`--compression: "${raw}" is not none or gzip (snappy, lz4 and zstd need codecs storesim does not ship; KAFKA_COMPRESSION takes the same values)`);
}

/** Engine settings shared by `run` and `simulate`. */
export function resolveEngineConfig(argv: Record<string, unknown>, env: Env, fixtures: Fixtures, now: () => number = Date.now): EngineConfig {
  const layout = (argv.layout as string | undefined) ?? 'corner-shop';
  if (!fixtures.layouts[layout]) {
    throw new UserError(`--layout: unknown layout "${layout}" (known: ${Object.keys(fixtures.layouts).sort().join(', ')})`);
  }
  const seed = argv.seed === undefined ? pickSeed(now) : checkNumber(argv.seed, '--seed', { min: 0, integer: true, allowZero: true });
  const overrides: Partial<EngineConfig> = {
    seed,
    layout,
    startMs: parseStart(argv.start as string | undefined, now),
    faults: parseFaults(argv.faults as string | undefined),
  };
  if (argv.rate !== undefined) overrides.ratePerMin = checkNumber(argv.rate, '--rate', { min: 0 });
  if (argv['traffic-curve'] !== undefined) overrides.trafficCurve = argv['traffic-curve'] as EngineConfig['trafficCurve'];
  if (argv.queue !== undefined) overrides.queueDiscipline = argv.queue as EngineConfig['queueDiscipline'];
  if (argv.grace !== undefined) overrides.graceMs = parseDuration(argv.grace as string, '--grace');
  const maxAge = argv['max-session-age-sec'] ?? env.MAX_SESSION_AGE_SEC;
  if (maxAge !== undefined) overrides.maxSessionAgeSec = checkNumber(maxAge, '--max-session-age-sec (MAX_SESSION_AGE_SEC)', { min: 60, integer: true });
  const force = argv['force-checkout-if-empty'] ?? env.FORCE_CHECKOUT_IF_EMPTY;
  if (force !== undefined) overrides.forceCheckoutIfEmpty = force === true || force === '1' || force === 'true';
  return defaultEngineConfig(overrides);
}

export function pickSeed(now: () => number): number {
  return Math.floor(now() % 2_147_483_647);
}

/**
 * A scenario's settings under the flags (docs/scenarios.md): a flag given on the command line wins,
 * then the scenario, then the defaults. `argv.scenario` is the loaded Scenario.
 */
export function withScenarioSettings(argv: Record<string, unknown>): Record<string, unknown> {
  const scenario = argv.scenario as Scenario | undefined;
  if (!scenario || typeof scenario !== 'object') return argv;
  const s = scenario.settings;
  const out = { ...argv };
  const under = (flag: string, value: unknown): void => {
    if (value !== undefined && out[flag] === undefined) out[flag] = value;
  };
  under('layout', s.layout);
  under('seed', s.seed);
  under('rate', s.rate);
  under('traffic-curve', s.trafficCurve);
  under('warp', s.warp === undefined ? undefined : String(s.warp));
  under('events', s.events);
  if (s.faults) under('faults', Object.entries(s.faults).map(([k, v]) => `${k}=${v}`).join(','));
  return out;
}

export function resolveRunConfig(rawArgv: Record<string, unknown>, env: Env, fixtures: Fixtures, now: () => number = Date.now): RunConfig {
  const argv = withScenarioSettings(rawArgv);
  const engine = resolveEngineConfig(argv, env, fixtures, now);
  const roleArgs = (argv.role as string[] | undefined) ?? [];
  const roles = new Set<Role>();
  for (const r of roleArgs.flatMap((x) => String(x).split(','))) {
    if (!(ROLES as readonly string[]).includes(r)) throw new UserError(`--role: unknown role "${r}" (known: ${ROLES.join(', ')})`);
    roles.add(r as Role);
  }
  if (roles.size === 0) for (const r of ROLES) roles.add(r);
  if (roles.has('ui') && !roles.has('engine')) {
    throw new UserError('--role ui: the dashboard draws the engine\'s store, so it runs beside the engine: add --role engine to this process (a processor or sink alone prints progress lines)');
  }
  const events = argv.events === undefined ? null : checkNumber(argv.events, '--events', { min: 1, integer: true });
  const durationMs = argv.duration === undefined ? null : parseDuration(argv.duration as string, '--duration');
  const headless = argv.headless === true || argv.tui === 'off' || (argv.tui !== 'on' && !(argv.stdoutIsTTY as boolean));
  const tui = !headless && roles.has('ui');
  const bounded = events !== null || durationMs !== null;
  return {
    engine,
    roles,
    kafka: resolveKafka(argv, env),
    db: resolveDb(argv as { sqlite?: string; 'database-url'?: string }, env),
    topicPrefix: (argv['topic-prefix'] as string | undefined) ?? env.STORESIM_TOPIC_PREFIX ?? '',
    partitions: checkNumber(argv.partitions ?? 6, '--partitions', { min: 1, integer: true }),
    events,
    durationMs,
    // The dashboard defaults to a watchable pace; bounded and headless runs go as fast as they can.
    warp: parseWarp(argv.warp as string | undefined, tui && !bounded ? 20 : events !== null || headless ? 'max' : 20),
    eps: argv.eps === undefined ? null : checkNumber(argv.eps, '--eps', { min: 1 }),
    intervalMs: parseDuration((argv.interval as string | undefined) ?? '1s', '--interval'),
    tui,
    drainTimeoutMs: parseDuration((argv['drain-timeout'] as string | undefined) ?? '30s', '--drain-timeout'),
    resume: (argv.resume as string | undefined) ?? null,
    scenario: (argv.scenario as Scenario | undefined) ?? null,
    timeScale: argv['time-scale'] === undefined ? 1 : checkNumber(argv['time-scale'], '--time-scale', { min: 0 }),
  };
}
