/**
 * bench:kafka's (5), the latency floor (scripts/latency-floor.ts), on the real broker and PostgreSQL:
 * every message published reaches the database once, the figures come from all of them, and the
 * benchmark leaves no table behind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureLatencyFloor } from '../scripts/latency-floor.js';
import { createTestDatabase, KAFKA_BROKERS, uniquePrefix, type TestPgDatabase } from './kafka-helpers.js';

describe('the latency floor', () => {
  let db: TestPgDatabase;
  beforeAll(async () => { db = await createTestDatabase('floor'); });
  afterAll(async () => { await db.drop(); });

  it('writes every message once, measures them all and drops its table', async () => {
    const floor = await measureLatencyFloor({ brokers: KAFKA_BROKERS, dbUrl: db.url, rate: 2_000, messages: 3_000, prefix: uniquePrefix('floor') });
    expect(floor.written).toBe(3_000);
    expect(floor.p50).toBeGreaterThan(0);
    expect(floor.p99).toBeGreaterThanOrEqual(floor.p50!);
    expect(floor.recentP99).not.toBeNull();
    // Paced at 2,000 messages/s: 3,000 take at least 1.5 s to send.
    expect(floor.wallS).toBeGreaterThanOrEqual(1.4);
    expect(floor.cpuS).toBeGreaterThan(0);
    const tables = await db.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE 'latency_floor_%'`);
    expect(Number(tables[0]!.n)).toBe(0);
  });
});
