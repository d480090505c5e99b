/**
 * Test support for the processor core: builds the messages of one partition pair the way the engine
 * publishes them (headers, per-run seq, per-partition offsets), and normalises outputs for
 * comparison. Used by processor-core.test.ts and snapshot-codec.test.ts only.
 */
import type { Discount, PaymentMethod, Product } from '../engine/types.js';
import type { IncomingMessage } from '../kafka/bus.js';
import { createProcessorCore, type ProcessorCore } from './processor-core.js';
import { HEADERS, type PairSide, type PosTransaction, type ProcessorOutput, type RunSettings, type VisitClosed } from './types.js';

export const RUN = '01936a5e-0000-7000-8000-000000000001';
export const RUN2 = '01936a5f-0000-7000-8000-000000000002';
export const FIXTURES_HASH = 'test-fixtures-sha256';
/** Simulated start: 2026-11-23T08:00:00Z (a Monday, ISO week 2026-W48). */
export const T0 = Date.parse('2026-11-23T08:00:00.000Z');
export const WALL = 1_800_000_000_000;

export const CATALOG: Product[] = [
  { item_id: 'A', name: 'Apples', category: 'produce', price_cents: 199 },
  { item_id: 'B', name: 'Bread', category: 'bakery', price_cents: 350 },
  { item_id: 'C', name: 'Coffee', category: 'pantry', price_cents: 1005 },
];
export const DISCOUNTS: Discount[] = [
  { item_id: 'B', week: '2026-W48', rate: 0.15 },
  { item_id: 'C', week: '2026-W49', rate: 0.5 },
];

export function settings(over: Partial<RunSettings> = {}): RunSettings {
  return {
    run_id: RUN,
    grace_ms: 30_000,
    dedup_window_ms: 120_000,
    marker_interval_ms: 10_000,
    max_session_age_sec: 10_800,
    force_checkout_if_empty: false,
    fixtures_hash: FIXTURES_HASH,
    store_id: 'store-1',
    ...over,
  };
}

export function makeCore(now: () => number = () => WALL): ProcessorCore {
  return createProcessorCore({ catalog: CATALOG, discounts: DISCOUNTS, fixturesHash: FIXTURES_HASH, now });
}

export const iso = (tSec: number): string => new Date(T0 + tSec * 1000).toISOString();
export const eid = (n: number): string => `00000000-0000-7000-8000-${n.toString(16).padStart(12, '0')}`;

export type Delivery = [PairSide, IncomingMessage];

export interface ExitOpts { lane?: number | null; queued?: number | null; served?: number | null; payment?: PaymentMethod | null }

/**
 * One partition pair of one run. Event builders take the seq explicitly (as CONTRACT-CASES.md
 * numbers them); offsets are assigned per partition in creation order.
 */
export function pairStream(opts: { run?: string; settings?: Partial<RunSettings>; partition?: number } = {}) {
  const run = opts.run ?? RUN;
  const partition = opts.partition ?? 0;
  const offsets = { foot: 0, shelf: 0 };
  let nextEventId = 1;
  const topicOf = (side: PairSide): string => (side === 'foot' ? 'foot_traffic' : 'shelf_events');

  function msg(side: PairSide, value: string | Buffer, headers: Record<string, string>, key: string | null = null): IncomingMessage {
    const offset = offsets[side]++;
    return {
      topic: topicOf(side), partition, offset, key,
      value: typeof value === 'string' ? Buffer.from(value, 'utf8') : value,
      headers, timestamp: WALL - 100_000 + offset,
    };
  }
  const control = (side: PairSide, marker: string, value: string): IncomingMessage =>
    msg(side, value, { [HEADERS.run]: run, [HEADERS.marker]: marker });
  const event = (side: PairSide, seq: number, payload: unknown, key: string | null): IncomingMessage =>
    msg(side, typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload), {
      [HEADERS.run]: run, [HEADERS.seq]: String(seq), [HEADERS.producedAt]: String(WALL + seq),
    }, key);
  const base = (type: string, visit: string, tSec: number, id?: string) => ({
    event_id: id ?? eid(nextEventId++), event_type: type, store_id: 'store-1', customer_id: `cust-${visit}`,
    visit_id: visit, timestamp: iso(tSec), schema_version: 1,
  });

  return {
    run,
    runStart: (side: PairSide, over: Partial<RunSettings> = {}): IncomingMessage =>
      control(side, 'run_start', JSON.stringify(settings({ run_id: run, ...opts.settings, ...over }))),
    watermark: (side: PairSide, tSec: number): IncomingMessage => control(side, 'watermark', JSON.stringify({ time: T0 + tSec * 1000 })),
    end: (side: PairSide): IncomingMessage => control(side, 'end', ''),
    raw: (side: PairSide, seq: number, value: string | Buffer, headers?: Record<string, string>): IncomingMessage =>
      headers === undefined ? event(side, seq, value, 'cust-raw') : msg(side, value, headers, 'cust-raw'),
    payload: (side: PairSide, seq: number, payload: unknown): IncomingMessage => event(side, seq, payload, 'cust-x'),
    entryPayload: (visit: string, tSec: number, id?: string) => ({ ...base('entry', visit, tSec, id), door: 'D1' }),
    entry(seq: number, visit: string, tSec: number, id?: string): IncomingMessage {
      return event('foot', seq, this.entryPayload(visit, tSec, id), `cust-${visit}`);
    },
    exitPayload(visit: string, tSec: number, entrySec: number, o: ExitOpts = {}, id?: string) {
      return {
        ...base('exit', visit, tSec, id), entry_time: iso(entrySec), exit_time: iso(tSec),
        lane: o.lane ?? null,
        queue_joined_at: o.queued === undefined || o.queued === null ? null : iso(o.queued),
        service_started_at: o.served === undefined || o.served === null ? null : iso(o.served),
        payment_method: o.payment ?? null,
      };
    },
    exit(seq: number, visit: string, tSec: number, entrySec: number, o: ExitOpts = {}, id?: string): IncomingMessage {
      return event('foot', seq, this.exitPayload(visit, tSec, entrySec, o, id), `cust-${visit}`);
    },
    /** A paid exit: queued 20 s and served 10 s before leaving, by card. */
    paidExit(seq: number, visit: string, tSec: number, entrySec: number, lane = 2, id?: string): IncomingMessage {
      return this.exit(seq, visit, tSec, entrySec, { lane, queued: tSec - 20, served: tSec - 10, payment: 'card' }, id);
    },
    shelfPayload: (type: 'pickup' | 'putback', visit: string, item: string, qty: number, tSec: number, id?: string) => ({
      ...base(type, visit, tSec, id), shelf_id: 'S1', item_id: item, quantity: qty,
    }),
    pickup(seq: number, visit: string, item: string, qty: number, tSec: number, id?: string): IncomingMessage {
      return event('shelf', seq, this.shelfPayload('pickup', visit, item, qty, tSec, id), `cust-${visit}`);
    },
    putback(seq: number, visit: string, item: string, qty: number, tSec: number, id?: string): IncomingMessage {
      return event('shelf', seq, this.shelfPayload('putback', visit, item, qty, tSec, id), `cust-${visit}`);
    },
  };
}

/** Feeds deliveries in order and returns all outputs. */
export function feed(core: ProcessorCore, pair: ReturnType<ProcessorCore['newPairState']>, deliveries: Delivery[]): ProcessorOutput[] {
  return deliveries.flatMap(([side, m]) => core.handle(pair, side, m));
}

/** An output as comparable data: bytes as text, without the wall-clock rejected_at header. */
/**
 * An output as its record: the wall-clock `rejected_at` header and the in-process extras (`text`,
 * `json`: caches of the value, set when the core had them at hand) left out.
 */
export function normalise(o: ProcessorOutput): unknown {
  if (o.kind === 'redelivered' || o.kind === 'stale') return o;
  const headers = { ...o.headers };
  delete headers[HEADERS.rejectedAt];
  const { text: _text, json: _json, ...record } = o;
  return { ...record, value: o.value.toString('base64'), headers };
}

/** seq → 'accepted' or the rejection code, for every clean output and dead letter with a seq. */
export function verdicts(outputs: ProcessorOutput[]): Record<number, string> {
  const v: Record<number, string> = {};
  for (const o of outputs) {
    if (o.kind !== 'clean' && o.kind !== 'dead_letter') continue;
    const seq = Number(o.headers[HEADERS.seq]);
    v[seq] = o.kind === 'clean' ? 'accepted' : (o.code ?? '?');
  }
  return v;
}

export const transactions = (outputs: ProcessorOutput[]): PosTransaction[] =>
  outputs.flatMap((o) => (o.kind === 'pos' ? [JSON.parse(o.value.toString('utf8')) as PosTransaction] : []));
export const visitRecords = (outputs: ProcessorOutput[]): VisitClosed[] =>
  outputs.flatMap((o) => (o.kind === 'visit' ? [JSON.parse(o.value.toString('utf8')) as VisitClosed] : []));
