/**
 * Acceptance ("Real Kafka and PostgreSQL"): one headless run with every data fault on, through the
 * real broker into a PostgreSQL database of this file's own. It conserves every message (exit 0,
 * verify ok, the summary = the tables), and what it left on the topics is plain JSON any Kafka
 * client reads: key = customer_id, dead letters with their headers, key, value and timestamp
 * (DESIGN.md, Events; Identity and counting; Promises).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines, summaryOf, type CliResult, type SummaryLine } from './cli-helpers.js';
import {
  KAFKA_BROKERS, createTestDatabase, expectSummaryMatchesTables, kafkaClient, pgTableCounts, readTopics, uniquePrefix,
  type ReadMessage, type TestPgDatabase,
} from './kafka-helpers.js';

const EVENTS = 15_000;

/** Why a run failed: its stderr and its last progress line (where it was stuck). */
function failure(r: CliResult): string {
  return `exit ${r.code} (${r.signal ?? 'no signal'}); stderr: ${r.stderr.slice(-2_000)}; last stdout line: ${r.stdout.trim().split('\n').at(-1)?.slice(0, 1_000)}`;
}
const CODES = ['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate'];

describe('storesim run through Kafka into PostgreSQL, every data fault on', () => {
  const prefix = uniquePrefix('pipeline');
  let db: TestPgDatabase;
  let result: CliResult;
  let summary: SummaryLine;
  let startedAt: number;
  let finishedAt: number;

  beforeAll(async () => {
    db = await createTestDatabase('pipeline');
    startedAt = Date.now();
    // Given a headless run of 15 000 raw messages with every data fault at 1 %
    result = await runCli([
      'run', '--headless', '--seed', '11', '--events', String(EVENTS), '--faults', 'all=0.01',
      '--kafka', KAFKA_BROKERS, '--topic-prefix', prefix, '--database-url', db.url, '--drain-timeout', '60s',
    ], { timeoutMs: 150_000 });
    finishedAt = Date.now();
    if (result.code === 0) summary = summaryOf(result);
  }, 160_000);

  afterAll(async () => {
    await db?.drop();
  });

  it('exits 0 with a summary that verifies and conserves every produced message', () => {
    expect(result.code, failure(result)).toBe(0);
    expect(stderrLines(result), 'nothing on stderr').toEqual([]);
    expect((summary as SummaryLine & { mode: unknown }).mode).toEqual({ bus: 'kafka', db: 'postgres' });
    expect(summary.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
    expect(summary.produced).toBe(EVENTS);
    expect(summary.accepted + summary.rejected).toBe(summary.produced);
    for (const code of CODES) expect(summary.rejected_by_code[code], code).toBeGreaterThan(0);
    const s = summary as SummaryLine & { events_per_sec: number; elapsed_s: number; latency_ms: unknown };
    console.log(`kafka+postgres: ${EVENTS} raw events, ${s.events_per_sec} events/s end to end, run ${s.elapsed_s} s, process ${(finishedAt - startedAt) / 1000} s, latency ${JSON.stringify(s.latency_ms)}`);
  });

  it('has in PostgreSQL exactly what the summary says', async () => {
    expect(result.code, failure(result)).toBe(0);
    const t = await pgTableCounts(db, summary.run_id);
    expectSummaryMatchesTables(summary, t);
    // one transaction per purchased visit, each adding up to its lines
    const bad = await db.query(
      `SELECT t.transaction_id FROM transactions t
         LEFT JOIN (SELECT run_id, transaction_id, sum(total_cents) AS s FROM transaction_items GROUP BY 1, 2) i USING (run_id, transaction_id)
        WHERE t.run_id = $1 AND coalesce(i.s, 0) <> t.total_cents`,
      [summary.run_id],
    );
    expect(bad).toEqual([]);
    expect(t.visitsByStatus.purchased ?? 0).toBe(t.transactions);
  });

  describe('what is on the topics (read with kafkajs, a group of its own)', () => {
    let topics: Map<string, ReadMessage[]>;
    const foot = `${prefix}foot_traffic`;
    const shelf = `${prefix}shelf_events`;
    const rejected = `${prefix}rejected_events`;

    beforeAll(async () => {
      if (result.code !== 0) return;
      topics = await readTopics(kafkaClient(), [foot, shelf, rejected]);
    }, 120_000);

    it('raw topics: JSON values keyed by customer_id, except the poison the engine meant', async () => {
      expect(result.code, failure(result)).toBe(0);
      // What the processor rejected as unparseable or schema, by seq (from the database)
      const rows = await db.query<{ seq: string; code: string }>(
        `SELECT seq, code FROM rejected_events WHERE run_id = $1 AND code IN ('unparseable', 'schema')`, [summary.run_id],
      );
      const verdict = new Map(rows.map((r) => [Number(r.seq), r.code]));
      let events = 0;
      let markers = 0;
      let poison = 0;
      const problems: string[] = [];
      for (const topic of [foot, shelf]) {
        for (const m of topics.get(topic)!) {
          expect(m.headers['storesim.run']).toBe(summary.run_id);
          if (m.headers['storesim.marker'] !== undefined) {
            // control messages: JSON too, never keyed, never counted
            markers++;
            expect(() => JSON.parse(m.value.toString('utf8')) as unknown).not.toThrow();
            continue;
          }
          events++;
          const seq = Number(m.headers['storesim.seq']);
          let payload: { customer_id?: unknown } | null = null;
          try {
            payload = JSON.parse(m.value.toString('utf8')) as { customer_id?: unknown };
          } catch {
            poison++;
            if (verdict.get(seq) !== 'unparseable') problems.push(`${topic}@${m.offset} seq ${seq}: not JSON but not rejected as unparseable`);
            continue;
          }
          if (typeof payload?.customer_id === 'string') {
            if (m.key !== payload.customer_id) problems.push(`${topic}@${m.offset} seq ${seq}: key ${m.key} ≠ customer_id ${payload.customer_id}`);
          } else if (verdict.get(seq) !== 'schema') {
            problems.push(`${topic}@${m.offset} seq ${seq}: no customer_id but not rejected as schema`);
          }
        }
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(events).toBe(EVENTS); // every produced message is on a raw topic once
      expect(markers).toBeGreaterThan(0);
      expect(poison).toBe(summary.rejected_by_code.unparseable);
    });

    it('dead letters keep the original key, value and timestamp, and carry their headers', () => {
      expect(result.code, failure(result)).toBe(0);
      const source = new Map<string, ReadMessage>();
      for (const topic of [foot, shelf]) for (const m of topics.get(topic)!) source.set(`${topic}/${m.partition}/${m.offset}`, m);
      const letters = topics.get(rejected)!;
      const bySeq = new Map<number, ReadMessage>();
      const problems: string[] = [];
      for (const d of letters) {
        const h = d.headers;
        for (const name of ['error.code', 'error.reason', 'source.topic', 'source.partition', 'source.offset', 'rejected_at', 'storesim.run', 'storesim.seq']) {
          if (!h[name]) problems.push(`dead letter @${d.partition}/${d.offset}: no ${name} header`);
        }
        expect(CODES).toContain(h['error.code']);
        expect(h['storesim.run']).toBe(summary.run_id);
        const at = Number(h.rejected_at);
        expect(at).toBeGreaterThanOrEqual(startedAt - 1_000);
        expect(at).toBeLessThanOrEqual(finishedAt + 1_000);
        const orig = source.get(`${h['source.topic']}/${h['source.partition']}/${h['source.offset']}`);
        if (!orig) {
          problems.push(`dead letter seq ${h['storesim.seq']}: no message at its source ${h['source.topic']}/${h['source.partition']}@${h['source.offset']}`);
          continue;
        }
        if (orig.headers['storesim.seq'] !== h['storesim.seq']) problems.push(`dead letter seq ${h['storesim.seq']}: source has seq ${orig.headers['storesim.seq']}`);
        if (d.key !== orig.key) problems.push(`dead letter seq ${h['storesim.seq']}: key ${d.key} ≠ ${orig.key}`);
        if (!d.value.equals(orig.value)) problems.push(`dead letter seq ${h['storesim.seq']}: value differs from the original bytes`);
        if (d.timestamp !== orig.timestamp) problems.push(`dead letter seq ${h['storesim.seq']}: timestamp ${d.timestamp} ≠ ${orig.timestamp}`);
        bySeq.set(Number(h['storesim.seq']), d);
      }
      expect(problems.slice(0, 10)).toEqual([]);
      // one dead letter per rejected message, under the code the summary counts
      expect(bySeq.size).toBe(summary.rejected);
      const byCode: Record<string, number> = {};
      for (const d of bySeq.values()) byCode[d.headers['error.code']!] = (byCode[d.headers['error.code']!] ?? 0) + 1;
      expect(byCode).toEqual(summary.rejected_by_code);
    });

    it('the rejected_events table holds the dead letters as they are on the topic', async () => {
      expect(result.code, failure(result)).toBe(0);
      const rows = await db.query<{ seq: string; code: string; source_topic: string; source_partition: number; source_offset: string; key: string | null; value: Buffer }>(
        'SELECT seq, code, source_topic, source_partition, source_offset, key, value FROM rejected_events WHERE run_id = $1', [summary.run_id],
      );
      const bySeq = new Map(topics.get(rejected)!.map((d) => [Number(d.headers['storesim.seq']), d]));
      const problems: string[] = [];
      for (const r of rows) {
        const d = bySeq.get(Number(r.seq));
        if (!d) {
          problems.push(`row seq ${r.seq}: no dead letter on the topic`);
          continue;
        }
        const same = d.headers['error.code'] === r.code && d.headers['source.topic'] === r.source_topic
          && Number(d.headers['source.partition']) === Number(r.source_partition) && Number(d.headers['source.offset']) === Number(r.source_offset)
          && d.key === r.key && Buffer.from(r.value).equals(d.value);
        if (!same) problems.push(`row seq ${r.seq}: differs from its dead letter`);
      }
      expect(problems.slice(0, 10)).toEqual([]);
      expect(rows).toHaveLength(summary.rejected);
    });
  });
});
