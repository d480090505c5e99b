/**
 * Test support for the acceptance tests against the real broker and PostgreSQL (DESIGN.md,
 * Services): a fresh PostgreSQL database per test file (dropped after), a unique topic prefix per
 * test, the tables counted straight with pg (not through src/db), and Kafka read with kafkajs as any
 * other client would (not through the bus).
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel, type Admin, type IHeaders } from 'kafkajs';
import pg from 'pg';
import type { IncomingMessage } from '../src/kafka/bus.js';
import { waitFor, type CliProcess, type CliResult, type TableCounts } from './cli-helpers.js';

/** The broker the tests use (vitest's globalSetup starts it when none answers). */
export const KAFKA_BROKERS = process.env.KAFKA_BROKERS ?? process.env.KAFKA_BOOTSTRAP_SERVERS ?? '127.0.0.1:9092';

/** A database on the server the tests may create databases in (STORESIM_TEST_DATABASE_URL overrides). */
export const PG_ADMIN_URL = process.env.STORESIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const rand = (): string => randomBytes(3).toString('hex');

/** A topic prefix no other test (or earlier run of this one) uses. */
export function uniquePrefix(tag: string): string {
  return `it-${tag}-${Date.now()}-${rand()}-`;
}

export interface TestPgDatabase {
  name: string;
  /** postgres://… of the new database, for --database-url. */
  url: string;
  query<T extends Record<string, unknown> = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Closes the connections and drops the database (whatever still holds it open). */
  drop(): Promise<void>;
}

async function onAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** CREATE DATABASE storesim_it_<tag>_<random>: a test file's own database, empty, no migrations. */
export async function createTestDatabase(tag: string): Promise<TestPgDatabase> {
  const name = `storesim_it_${tag.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${rand()}`;
  await onAdmin((c) => c.query(`CREATE DATABASE "${name}"`));
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  let pool: pg.Pool | null = null;
  return {
    name,
    url,
    async query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
      if (!pool) {
        pool = new pg.Pool({ connectionString: url, max: 2 });
        pool.on('error', () => undefined);
      }
      return (await pool.query(sql, params)).rows as T[];
    },
    async drop() {
      await pool?.end().catch(() => undefined);
      pool = null;
      await onAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

export type PgTableCounts = TableCounts;

/** What the tables hold for one run, counted with plain SQL. */
export async function pgTableCounts(db: TestPgDatabase, runId: string): Promise<PgTableCounts> {
  const one = async (sql: string): Promise<number> => Number((await db.query<{ n: string }>(sql, [runId]))[0]?.n ?? 0);
  const byKey = async (sql: string): Promise<Record<string, number>> =>
    Object.fromEntries((await db.query<{ k: string; n: string }>(sql, [runId])).map((r) => [r.k, Number(r.n)]));
  const rejectedByCode = await byKey('SELECT code AS k, count(*) AS n FROM rejected_events WHERE run_id = $1 GROUP BY code');
  return {
    staging: await one('SELECT count(*) AS n FROM staging_events WHERE run_id = $1'),
    stagingSeqs: await one('SELECT count(DISTINCT seq) AS n FROM staging_events WHERE run_id = $1'),
    rejected: Object.values(rejectedByCode).reduce((a, b) => a + b, 0),
    rejectedByCode,
    transactions: await one('SELECT count(*) AS n FROM transactions WHERE run_id = $1'),
    revenueCents: await one('SELECT coalesce(sum(total_cents), 0) AS n FROM transactions WHERE run_id = $1'),
    visits: await one('SELECT count(*) AS n FROM visits WHERE run_id = $1'),
    visitsByStatus: await byKey('SELECT status AS k, count(*) AS n FROM visits WHERE run_id = $1 GROUP BY status'),
  };
}

/** Rows (accepted + rejected) the database holds so far for the run on this topic prefix; 0 before it starts. */
export async function rowsSoFar(db: TestPgDatabase, prefix: string): Promise<number> {
  const has = await db.query<{ t: string | null }>(`SELECT to_regclass('runs')::text AS t`);
  if (!has[0]?.t) return 0;
  const rows = await db.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM staging_events s WHERE s.run_id = r.run_id)
          + (SELECT count(*) FROM rejected_events j WHERE j.run_id = r.run_id) AS n
       FROM runs r WHERE r.topic_prefix = $1`,
    [prefix],
  );
  return rows.reduce((a, r) => a + Number(r.n), 0);
}

export function kafkaClient(clientId = 'storesim-it'): Kafka {
  return new Kafka({ clientId, brokers: KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
}

/** Waits until a consumer group is Stable with `members` members (how a test knows a --role process joined). */
export async function waitForGroup(admin: Admin, groupId: string, members: number, timeoutMs = 90_000): Promise<void> {
  await waitFor(async () => {
    const { groups } = await admin.describeGroups([groupId]).catch(() => ({ groups: [] as { state: string; members: unknown[] }[] }));
    const g = groups[0];
    return g !== undefined && g.state === 'Stable' && g.members.length === members;
  }, `group ${groupId} Stable with ${members} member(s)`, timeoutMs, 250);
}

/** A message as any Kafka client reads it: the bus's own shape. */
export type ReadMessage = IncomingMessage;

function headerText(h: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h ?? {})) {
    const one = Array.isArray(v) ? v[v.length - 1] : v;
    if (one !== undefined) out[k] = one.toString();
  }
  return out;
}

/**
 * Reads every message now on `topics` with a plain kafkajs consumer in a group of its own (any
 * Kafka client could do the same), until each partition's high watermark at the start is reached.
 */
export async function readTopics(kafka: Kafka, topics: string[], timeoutMs = 90_000): Promise<Map<string, ReadMessage[]>> {
  const admin = kafka.admin();
  await admin.connect();
  const want = new Map<string, number>();
  try {
    for (const topic of topics) {
      for (const o of await admin.fetchTopicOffsets(topic)) {
        if (Number(o.high) > Number(o.low)) want.set(`${topic}/${o.partition}`, Number(o.high));
      }
    }
  } finally {
    await admin.disconnect();
  }
  const got = new Map<string, ReadMessage[]>(topics.map((t) => [t, []]));
  const reached = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `it-reader-${Date.now()}-${rand()}`, sessionTimeout: 10_000, maxBytesPerPartition: 4 * 1024 * 1024 });
  await consumer.connect();
  try {
    await consumer.subscribe({ topics, fromBeginning: true });
    await consumer.run({
      eachBatch: async ({ batch }) => {
        const list = got.get(batch.topic)!;
        for (const m of batch.messages) {
          list.push({
            topic: batch.topic, partition: batch.partition, offset: Number(m.offset),
            key: m.key ? m.key.toString('utf8') : null, value: m.value ?? Buffer.alloc(0), headers: headerText(m.headers),
            timestamp: Number(m.timestamp),
          });
          reached.set(`${batch.topic}/${batch.partition}`, Number(m.offset) + 1);
        }
      },
    });
    await waitFor(() => [...want].every(([tp, high]) => (reached.get(tp) ?? 0) >= high), `reading ${topics.join(', ')} to the end`, timeoutMs, 100);
  } finally {
    await consumer.disconnect();
  }
  return got;
}

/** Sends `signal` and waits for the process to end. */
export async function stopWith(p: CliProcess, signal: NodeJS.Signals): Promise<CliResult> {
  p.child.kill(signal);
  return p.done;
}

/** The last stdout line of a process without the engine role (`{"type":"stopped",…}`), parsed. */
export function stoppedLine(r: CliResult): { type: string; processor: { consumed: number } | null; sink: { written: number } | null } {
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { type: string; processor: { consumed: number } | null; sink: { written: number } | null };
}

export { expectSummaryMatchesTables } from './cli-helpers.js';
