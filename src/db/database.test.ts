import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatabaseError } from './errors.js';
import { MIGRATIONS, STORESIM_TABLES, STORESIM_VIEWS } from './migrations.js';
import { rejectedRow } from './rows.js';
import { openTestDatabase } from './testing.js';
import type { TestDatabase } from './testing.js';
import type { RejectedRow, RunRow, SinkBatch, StagingRow, TransactionRow, VisitRow } from './types.js';

const RUN = '0196b000-0000-7000-8000-000000000001';
const OTHER_RUN = '0196b000-0000-7000-8000-000000000002';
const T0 = Date.parse('2026-11-23T08:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const uuid = (n: number) => `0196b000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

function staging(run: string, seq: number): StagingRow {
  const event = { event_id: uuid(1000 + seq), event_type: 'entry', store_id: 's1', customer_id: `c${seq}`, visit_id: uuid(5000 + seq), timestamp: at(seq), schema_version: 1, door: 'D1' };
  return {
    run_id: run, event_id: event.event_id, seq, topic: 'foot_traffic', event_type: 'entry', customer_id: event.customer_id,
    visit_id: event.visit_id, event_time: event.timestamp, payload: JSON.stringify(event),
  };
}

function rejected(run: string | null, seq: number | null, code: string, offset: number): RejectedRow {
  return {
    run_id: run, seq, code, reason: `${code} reason`, source_topic: 'foot_traffic', source_partition: 0, source_offset: offset,
    key: 'c1', value: Buffer.from([0xff, 0x00, 0x7b, 0x0a]), headers: JSON.stringify({ 'error.code': code }), rejected_at: at(100),
  };
}

function transaction(run: string, n: number): TransactionRow {
  return {
    run_id: run, transaction_id: uuid(9000 + n), visit_id: uuid(5000 + n), customer_id: `c${n}`, store_id: 's1', lane: 2,
    payment_method: 'card', transaction_time: at(600 + n), subtotal_cents: 1298, discount_cents: 65, total_cents: 1233,
    items: [
      { line_no: 1, item_id: 'SKU-1', quantity: 2, unit_price_cents: 399, discount_rate: 0, discount_cents: 0, total_cents: 798 },
      { line_no: 2, item_id: 'SKU-2', quantity: 1, unit_price_cents: 500, discount_rate: 0.13, discount_cents: 65, total_cents: 435 },
    ],
  };
}

function visit(run: string, n: number, status: VisitRow['status']): VisitRow {
  const paid = status === 'purchased';
  return {
    run_id: run, visit_id: uuid(5000 + n), record_id: uuid(7000 + n), customer_id: `c${n}`, store_id: 's1', status,
    entry_time: at(n), exit_time: status === 'open_at_end' ? null : at(n + 600), lane: paid ? 2 : null,
    queue_joined_at: paid ? at(n + 500) : null, service_started_at: paid ? at(n + 550) : null, payment_method: paid ? 'card' : null,
    transaction_id: paid ? uuid(9000 + n) : null, lines: '[{"item_id":"SKU-1","quantity":2}]', items: 2, stale: false,
  };
}

function batch(): SinkBatch {
  return {
    staging: [staging(RUN, 1), staging(RUN, 2), staging(RUN, 4), staging(OTHER_RUN, 1)],
    rejected: [rejected(RUN, 3, 'schema', 3), rejected(RUN, 5, 'late', 5), rejected(null, null, 'foreign', 77)],
    transactions: [transaction(RUN, 1), transaction(RUN, 2)],
    visits: [visit(RUN, 1, 'purchased'), visit(RUN, 2, 'purchased'), visit(RUN, 3, 'abandoned'), visit(RUN, 4, 'open_at_end')],
  };
}

function run(id: string, over: Partial<RunRow> = {}): RunRow {
  return {
    run_id: id, seed: 42, started_at: at(0), bus: 'memory', db: 'sqlite', topic_prefix: 'p1.', config: '{"rate":30,"faults":{"late":0.01}}',
    command_log: [], stopped_at_seq: null, stopped_at_ms: null, status: 'live', heartbeat_at: at(0), produced: null, summary: null,
    verify_ok: null, ...over,
  };
}

describe.each(['sqlite', 'postgres'] as const)('%s database', (dialect) => {
  let t: TestDatabase;

  beforeAll(async () => {
    t = await openTestDatabase(dialect);
  });
  afterAll(async () => {
    await t?.cleanup();
  });
  beforeEach(async () => {
    await t.db.reset();
  });

  it('migrates once: a second migrate is a no-op, and every table is one reset knows', async () => {
    // Given a database opened (and so migrated) once
    // When migrate runs twice more
    await t.db.migrate();
    await t.db.migrate();
    // Then each version is recorded once, the tables are exactly STORESIM_TABLES and the views STORESIM_VIEWS
    const versions = await t.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(versions.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
    const names = async (kind: 'table' | 'view') => (dialect === 'sqlite'
      ? await t.query(`SELECT name FROM sqlite_master WHERE type = '${kind}' AND name NOT LIKE 'sqlite_%'`)
      : await t.query(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = '${t.location}'
          AND table_type = '${kind === 'table' ? 'BASE TABLE' : 'VIEW'}'`)).map((r) => String(r.name)).sort();
    expect(await names('table')).toEqual([...STORESIM_TABLES].sort());
    expect(await names('view')).toEqual([...STORESIM_VIEWS].sort());
    expect(t.db.dialect).toBe(dialect);
  });

  it('writes a batch idempotently: a redelivered batch changes nothing', async () => {
    await t.db.writeBatch(batch());
    const counts = await t.db.counts(RUN);
    const contents = await t.db.contents(RUN);
    // When the same batch is delivered again (a crash before the offset commit)
    await t.db.writeBatch(batch());
    expect(await t.db.counts(RUN)).toEqual(counts);
    expect(await t.db.contents(RUN)).toEqual(contents);
    const foreign = await t.query('SELECT count(*) AS n FROM rejected_events WHERE run_id IS NULL');
    expect(Number(foreign[0]?.n)).toBe(1);
    const items = await t.query('SELECT count(*) AS n FROM transaction_items');
    expect(Number(items[0]?.n)).toBe(4);
  });

  it('stores each staging row with its own payload, quotes, backslashes and non-ASCII text included', async () => {
    // Given staging rows whose payloads hold what an array literal would have to escape
    const odd = ['a "quoted" {brace}, comma', 'back\\slash \\" and \\\\', 'Crème brûlée — 🛒 日本', '', 'NULL'];
    const rows = odd.map((text, i) => {
      const r = staging(RUN, 10 + i);
      return { ...r, payload: JSON.stringify({ ...JSON.parse(r.payload), note: text, nested: { list: [text, i, null, true] } }) };
    });
    // When they are written in one batch, in an order other than their seq
    await t.db.writeBatch({ staging: [...rows].reverse(), rejected: [], transactions: [], visits: [] });
    // Then each event_id reads back its own payload, value for value
    const back = await t.query(`SELECT event_id, payload FROM staging_events WHERE run_id = '${RUN}' ORDER BY seq`);
    expect(back.map((r) => [r.event_id, typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload]))
      .toEqual(rows.map((r) => [r.event_id, JSON.parse(r.payload)]));
  });

  it('absorbs duplicates inside one batch and overlapping concurrent batches', async () => {
    const b = batch();
    b.staging.push(staging(RUN, 1));
    b.rejected.push(rejected(RUN, 3, 'schema', 3));
    b.transactions.push(transaction(RUN, 1));
    b.visits.push(visit(RUN, 1, 'purchased'));
    await Promise.all([t.db.writeBatch(b), t.db.writeBatch(batch()), t.db.writeBatch(batch())]);
    const c = await t.db.counts(RUN);
    expect(c.staging).toBe(3);
    expect(c.rejected).toBe(2);
    expect(c.transactions).toBe(2);
    expect(c.visits).toBe(4);
  });

  it('counts and reads back one run, apart from other runs and foreign dead letters', async () => {
    await t.db.writeBatch(batch());
    expect(await t.db.counts(RUN)).toEqual({
      staging: 3,
      rejected: 2,
      rejectedByCode: { schema: 1, late: 1 },
      transactions: 2,
      revenueCents: 2466,
      visits: 4,
      visitsByStatus: { purchased: 2, abandoned: 1, open_at_end: 1 },
    });
    expect((await t.db.counts(OTHER_RUN)).staging).toBe(1);
    expect(await t.db.counts('no-such-run')).toEqual({
      staging: 0, rejected: 0, rejectedByCode: {}, transactions: 0, revenueCents: 0, visits: 0, visitsByStatus: {},
    });

    const c = await t.db.contents(RUN);
    expect(c.staging).toEqual([1, 2, 4].map((seq) => ({ seq, event_id: uuid(1000 + seq) })));
    expect(c.rejected).toEqual([{ seq: 3, code: 'schema' }, { seq: 5, code: 'late' }]);
    expect(c.transactions).toEqual([1, 2].map((n) => {
      const { run_id: _r, customer_id: _c, store_id: _s, lane: _l, payment_method: _p, transaction_time: _t, ...rest } = transaction(RUN, n);
      return rest;
    }));
    expect(c.visits).toEqual([1, 2, 3, 4].map((n) => {
      const v = visit(RUN, n, n <= 2 ? 'purchased' : n === 3 ? 'abandoned' : 'open_at_end');
      return { visit_id: v.visit_id, status: v.status, lines: v.lines, transaction_id: v.transaction_id };
    }));
  });

  it('keeps values exactly: bytes, JSON headers, ISO times, big cents', async () => {
    const tx = transaction(RUN, 3);
    tx.total_cents = 2 ** 40;
    await t.db.writeBatch({ staging: [], rejected: [rejected(RUN, 9, 'unparseable', 9)], transactions: [tx], visits: [] });
    const rows = await t.query(`SELECT value, headers, key FROM rejected_events WHERE seq = 9`);
    const value = rows[0]?.value;
    expect(Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array)).toEqual(Buffer.from([0xff, 0x00, 0x7b, 0x0a]));
    const headers = rows[0]?.headers;
    expect(typeof headers === 'string' ? JSON.parse(headers) : headers).toEqual({ 'error.code': 'unparseable' });
    expect((await t.db.counts(RUN)).revenueCents).toBe(2 ** 40);
  });

  it('stores a foreign dead letter whose key and headers hold NUL characters', async () => {
    const msg = {
      topic: 'rejected_events', partition: 0, offset: 5, key: 'k\u0000ey', value: Buffer.from([0]), timestamp: T0,
      headers: { 'error.code': 'foreign', 'x\u0000': 'v\u0000', 'source.topic': 'foot_traffic', 'source.partition': '0', 'source.offset': '9' },
    };
    await t.db.writeBatch({ staging: [], rejected: [rejectedRow(msg)], transactions: [], visits: [] });
    const rows = await t.query('SELECT key FROM rejected_events WHERE run_id IS NULL');
    expect(rows).toEqual([{ key: 'k\uFFFDey' }]);
  });

  it('keys foreign dead letters by source topic, partition and offset', async () => {
    const f = (topic: string, partition: number, offset: number) => ({ ...rejected(null, null, 'foreign', offset), source_topic: topic, source_partition: partition });
    await t.db.writeBatch({ staging: [], rejected: [f('foot_traffic', 0, 1), f('foot_traffic', 0, 1), f('foot_traffic', 1, 1), f('shelf_events', 0, 1)], transactions: [], visits: [] });
    await t.db.writeBatch({ staging: [], rejected: [f('foot_traffic', 0, 1), f('foot_traffic', 0, 2)], transactions: [], visits: [] });
    const rows = await t.query('SELECT count(*) AS n FROM rejected_events WHERE run_id IS NULL');
    expect(Number(rows[0]?.n)).toBe(4);
    // A run's dead letter at the same source position is a different row (keyed by run and seq)
    await t.db.writeBatch({ staging: [], rejected: [rejected(RUN, 1, 'schema', 1)], transactions: [], visits: [] });
    expect((await t.db.counts(RUN)).rejected).toBe(1);
  });

  it('creates, reads, updates and lists runs, and appends to the command log', async () => {
    const r1 = run(RUN);
    await t.db.createRun(r1);
    expect(await t.db.getRun(RUN)).toEqual(r1);
    expect(await t.db.getRun('nope')).toBeNull();

    await t.db.appendCommand(RUN, { step: 10, sim_ms: T0 + 5000, command: { type: 'set_rate', perMin: 40 } });
    await t.db.appendCommand(RUN, { step: 20, sim_ms: T0 + 9000, command: { type: 'set_fault', fault: 'late', rate: 0.1 } });
    await t.db.updateRun(RUN, {
      status: 'completed', stopped_at_seq: 1234, stopped_at_ms: T0 + 60_000, produced: 1234, heartbeat_at: at(60),
      summary: '{"type":"summary","produced":1234}', verify_ok: true,
    });
    const got = await t.db.getRun(RUN);
    expect(got).toEqual({
      ...r1,
      status: 'completed', stopped_at_seq: 1234, stopped_at_ms: T0 + 60_000, produced: 1234, heartbeat_at: at(60),
      summary: '{"type":"summary","produced":1234}', verify_ok: true,
      command_log: [
        { step: 10, sim_ms: T0 + 5000, command: { type: 'set_rate', perMin: 40 } },
        { step: 20, sim_ms: T0 + 9000, command: { type: 'set_fault', fault: 'late', rate: 0.1 } },
      ],
    });
    await t.db.updateRun(RUN, { verify_ok: false, command_log: [] });
    expect(await t.db.getRun(RUN)).toMatchObject({ verify_ok: false, command_log: [] });
    await expect(t.db.updateRun('nope', { status: 'failed' })).rejects.toThrow(/no run/);
    await expect(t.db.appendCommand('nope', { step: 1, sim_ms: 0, command: {} })).rejects.toThrow(/no run/);

    await t.db.createRun(run(OTHER_RUN, { started_at: at(10), db: 'postgres', bus: 'kafka', seed: 2 ** 40 }));
    expect((await t.db.listRuns()).map((r) => r.run_id)).toEqual([OTHER_RUN, RUN]);
    expect((await t.db.getRun(OTHER_RUN))?.seed).toBe(2 ** 40);
    await expect(t.db.createRun(run(RUN))).rejects.toThrow();
  });

  it('finds the live run of a prefix by its lease, and claims a prefix atomically', async () => {
    await t.db.createRun(run(RUN, { heartbeat_at: at(100) }));
    expect((await t.db.liveRun('p1.', at(90)))?.run_id).toBe(RUN);
    expect(await t.db.liveRun('p1.', at(100))).toBeNull(); // lease expired
    expect(await t.db.liveRun('p2.', at(0))).toBeNull(); // another prefix

    // A second run on the same prefix while the lease holds is refused, with the holder
    expect((await t.db.claimRun(run(OTHER_RUN), at(90)))?.run_id).toBe(RUN);
    expect(await t.db.getRun(OTHER_RUN)).toBeNull();
    // Once the lease has expired, the claim wins
    expect(await t.db.claimRun(run(OTHER_RUN, { heartbeat_at: at(200) }), at(150))).toBeNull();
    expect((await t.db.liveRun('p1.', at(150)))?.run_id).toBe(OTHER_RUN);

    await t.db.updateRun(OTHER_RUN, { status: 'stopped' });
    expect(await t.db.liveRun('p1.', at(0))).toMatchObject({ run_id: RUN });
  });

  it('races claims on one prefix: exactly one wins', async () => {
    const ids = [1, 2, 3, 4, 5].map((n) => uuid(100 + n));
    const results = await Promise.all(ids.map((id) => t.db.claimRun(run(id, { heartbeat_at: at(100) }), at(50))));
    expect(results.filter((r) => r === null)).toHaveLength(1);
  });

  it('reset drops every row and leaves a migrated, empty schema', async () => {
    await t.db.createRun(run(RUN));
    await t.db.writeBatch(batch());
    await t.db.reset();
    expect(await t.db.listRuns()).toEqual([]);
    expect((await t.db.counts(RUN)).staging).toBe(0);
    await t.db.writeBatch(batch());
    expect((await t.db.counts(RUN)).staging).toBe(3);
  });

  it('rejects a batch as a whole: nothing of it stays when one row fails', async () => {
    const bad = batch();
    bad.visits.push({ ...visit(RUN, 9, 'purchased'), status: 'bogus' as VisitRow['status'] });
    await expect(t.db.writeBatch(bad)).rejects.toThrow();
    expect((await t.db.counts(RUN)).staging).toBe(0);
    await expect(t.db.writeBatch(bad)).rejects.not.toBeInstanceOf(DatabaseError);
  });
});
