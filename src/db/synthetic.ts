/**
 * Synthetic sink batches for tests and benchmarks (no engine, no bus): a seeded, realistic mix of
 * what the sink writes — per visit an entry, pickups, an exit, a visit record, and for a paid visit a
 * transaction priced from the fixtures — cut into batches the size the sink uses. Deterministic for a
 * given seed. Not used by a run.
 */
import type { Fixtures } from '../engine/types.js';
import { transactionId as posTransactionId } from '../pipeline/ids.js';
import { lineDiscountCents } from '../pipeline/pricing.js';
import type { RejectedRow, SinkBatch, StagingRow, TransactionRow, VisitRow } from './types.js';
import type { VisitStatus } from '../engine/types.js';

export interface SyntheticRunOptions {
  runId: string;
  fixtures: Fixtures;
  /** Visits to generate. */
  visits: number;
  seed?: number;
  /** Simulated time of the first entry. Default 2026-11-23T08:00:00Z. */
  startMs?: number;
  /** Simulated ms between entries. Default 9 000. */
  gapMs?: number;
  /** Rows per batch, as the sink's maxBatch. Default 2 000. */
  batchRows?: number;
  /** One extra rejected event per this many staging rows. Default 100. */
  rejectEvery?: number;
}

const PAYMENTS = ['card', 'card', 'card', 'mobile', 'cash', 'gift_card'];
const CODES = ['schema', 'late', 'duplicate', 'unknown_item', 'quantity'];
const RATES = [0, 0, 0, 0.1, 0.15, 0.05];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A UUID-shaped id, increasing with n, unique per run (`tag` keeps kinds of ids apart). Event and
 * visit ids increase as a run's UUIDv7s (simulated time first) do; transaction ids are UUIDv5 of the
 * exit event, as the processor makes them (src/pipeline/ids.ts), so they are random within a run.
 */
function idOf(runId: string, tag: number, n: number): string {
  return `${runId.slice(0, 8)}-${tag.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function* syntheticBatches(opts: SyntheticRunOptions): Generator<SinkBatch> {
  const rnd = mulberry32(opts.seed ?? 1);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const start = opts.startMs ?? Date.parse('2026-11-23T08:00:00.000Z');
  const gap = opts.gapMs ?? 9_000;
  const batchRows = opts.batchRows ?? 2_000;
  const rejectEvery = opts.rejectEvery ?? 100;
  const layout = Object.values(opts.fixtures.layouts)[0]!;
  const lanes = Math.max(1, layout.lanes.length);
  const { catalog, customers } = opts.fixtures;
  const { runId } = opts;
  const price = new Map(catalog.map((p) => [p.item_id, p.price_cents]));
  const iso = (ms: number): string => new Date(ms).toISOString();

  let batch: SinkBatch = { staging: [], rejected: [], transactions: [], visits: [] };
  let rows = 0;
  let seq = 0;
  let eventN = 0;
  const event = (visitId: string, customerId: string, type: string, ms: number, extra: Record<string, unknown>): StagingRow => {
    seq++;
    const eventId = idOf(runId, 1, ++eventN);
    const body = { event_id: eventId, event_type: type, store_id: layout.store_id, customer_id: customerId, visit_id: visitId, timestamp: iso(ms), schema_version: 1, ...extra };
    return {
      run_id: runId, event_id: eventId, seq, topic: type === 'entry' || type === 'exit' ? 'foot_traffic' : 'shelf_events', event_type: type,
      customer_id: customerId, visit_id: visitId, event_time: iso(ms), payload: JSON.stringify(body),
    };
  };
  const rejected = (): RejectedRow => {
    seq++;
    const code = pick(CODES);
    return {
      run_id: runId, seq, code, reason: `${code}: synthetic`, source_topic: 'foot_traffic', source_partition: 0, source_offset: seq,
      key: 'c', value: Buffer.from('{"bad":true}'), headers: JSON.stringify({ 'error.code': code }), rejected_at: iso(start),
    };
  };

  for (let i = 0; i < opts.visits; i++) {
    const visitId = idOf(runId, 2, i + 1);
    const customer = pick(customers).customer_id;
    const entryMs = start + i * gap;
    const r = rnd();
    const status: VisitStatus = i >= opts.visits - Math.ceil(opts.visits * 0.02) ? 'open_at_end'
      : r < 0.66 ? 'purchased' : r < 0.8 ? 'abandoned' : 'left_empty';
    const lineCount = status === 'left_empty' ? 0 : 1 + Math.floor(rnd() * 5);
    const chosen = new Map<string, number>();
    while (chosen.size < lineCount) chosen.set(pick(catalog).item_id, 1 + Math.floor(rnd() * 3));
    const lines = [...chosen].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([item_id, quantity]) => ({ item_id, quantity }));

    batch.staging.push(event(visitId, customer, 'entry', entryMs, { door: 'D1' }));
    let t = entryMs;
    for (const l of lines) {
      t += 20_000 + Math.floor(rnd() * 60_000);
      batch.staging.push(event(visitId, customer, 'pickup', t, { shelf_id: 'S1', item_id: l.item_id, quantity: l.quantity }));
    }
    rows += 1 + lines.length;
    const paid = status === 'purchased';
    const queued = paid || (status === 'abandoned' && rnd() < 0.3);
    const lane = queued ? 1 + Math.floor(rnd() * lanes) : null;
    const joined = queued ? t + 15_000 : null;
    const served = paid ? joined! + Math.floor(rnd() * 240_000) : null;
    const exitMs = status === 'open_at_end' ? null : (served ?? joined ?? t) + 30_000 + Math.floor(rnd() * 30_000);
    const payment = paid ? pick(PAYMENTS) : null;
    let exitEventId: string | null = null;
    if (exitMs !== null) {
      exitEventId = idOf(runId, 1, eventN + 1);
      batch.staging.push(event(visitId, customer, 'exit', exitMs, {
        entry_time: iso(entryMs), exit_time: iso(exitMs), lane, queue_joined_at: joined === null ? null : iso(joined),
        service_started_at: served === null ? null : iso(served), payment_method: payment,
      }));
      rows++;
    }
    if (seq % rejectEvery < 1 + lines.length) {
      batch.rejected.push(rejected());
      rows++;
    }
    const transactionId = paid ? posTransactionId(runId, exitEventId!) : null;
    if (paid) {
      const items = lines.map((l, k) => {
        const unit = price.get(l.item_id)!;
        const rate = pick(RATES);
        const gross = unit * l.quantity;
        const discount = lineDiscountCents(gross, Math.round(rate * 10_000));
        return { line_no: k + 1, item_id: l.item_id, quantity: l.quantity, unit_price_cents: unit, discount_rate: rate, discount_cents: discount, total_cents: gross - discount };
      });
      const subtotal = items.reduce((s, x) => s + x.unit_price_cents * x.quantity, 0);
      const discount = items.reduce((s, x) => s + x.discount_cents, 0);
      const tx: TransactionRow = {
        run_id: runId, transaction_id: transactionId!, visit_id: visitId, customer_id: customer, store_id: layout.store_id, lane,
        payment_method: payment, transaction_time: iso(exitMs!), subtotal_cents: subtotal, discount_cents: discount, total_cents: subtotal - discount, items,
      };
      batch.transactions.push(tx);
      rows++;
    }
    const visit: VisitRow = {
      run_id: runId, visit_id: visitId, record_id: idOf(runId, 4, i + 1), customer_id: customer, store_id: layout.store_id, status,
      entry_time: iso(entryMs), exit_time: exitMs === null ? null : iso(exitMs), lane, queue_joined_at: joined === null ? null : iso(joined),
      service_started_at: served === null ? null : iso(served), payment_method: payment, transaction_id: transactionId,
      lines: JSON.stringify(lines), items: lines.reduce((s, l) => s + l.quantity, 0), stale: false,
    };
    batch.visits.push(visit);
    rows++;
    if (rows >= batchRows) {
      yield batch;
      batch = { staging: [], rejected: [], transactions: [], visits: [] };
      rows = 0;
    }
  }
  if (rows > 0) yield batch;
}
