/**
 * Reading rows back from either dialect into the shared row types: pg returns bigint and numeric
 * as strings, timestamptz as Date, json as text only when selected `::text`; SQLite returns numbers,
 * text and 0/1. Both end up as the same values.
 */
import { readIso, readIsoOrNull } from './iso.js';
import type { VisitStatus } from '../engine/types.js';
import type {
  CommandLogEntry, RunContents, RunCounts, RunRow, RunStatus, TransactionItemRow, TransactionRow, VisitRow,
} from './types.js';

type Rec = Record<string, unknown>;

export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' || typeof v === 'bigint') return Number(v);
  if (v === null || v === undefined) return 0;
  throw new TypeError(`not a number: ${String(v)}`);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

export function boolOrNull(v: unknown): boolean | null {
  return v === null || v === undefined ? null : v === true || v === 1 || v === '1';
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** `runs` columns in select order; JSON columns are selected as text by each dialect. */
export function runFromRecord(r: Rec): RunRow {
  const log: unknown = typeof r.command_log === 'string' ? JSON.parse(r.command_log) : r.command_log;
  return {
    run_id: String(r.run_id),
    seed: num(r.seed),
    started_at: readIso(r.started_at),
    bus: r.bus as RunRow['bus'],
    db: r.db as RunRow['db'],
    topic_prefix: String(r.topic_prefix),
    config: text(r.config),
    command_log: Array.isArray(log) ? (log as CommandLogEntry[]) : [],
    stopped_at_seq: numOrNull(r.stopped_at_seq),
    stopped_at_ms: numOrNull(r.stopped_at_ms),
    status: r.status as RunStatus,
    heartbeat_at: readIso(r.heartbeat_at),
    produced: numOrNull(r.produced),
    summary: r.summary === null || r.summary === undefined ? null : text(r.summary),
    verify_ok: boolOrNull(r.verify_ok),
  };
}

export function itemFromRecord(r: Rec): TransactionItemRow {
  return {
    line_no: num(r.line_no),
    item_id: String(r.item_id),
    quantity: num(r.quantity),
    unit_price_cents: num(r.unit_price_cents),
    discount_rate: num(r.discount_rate),
    discount_cents: num(r.discount_cents),
    total_cents: num(r.total_cents),
  };
}

/** RunCounts from the four grouped queries (shared by both dialects). */
export function assembleCounts(staging: number, byCode: Rec[], tx: Rec, byStatus: Rec[]): RunCounts {
  const rejectedByCode: Record<string, number> = {};
  let rejected = 0;
  for (const r of byCode) {
    rejectedByCode[String(r.code)] = num(r.n);
    rejected += num(r.n);
  }
  const visitsByStatus: Record<string, number> = {};
  let visits = 0;
  for (const r of byStatus) {
    visitsByStatus[String(r.status)] = num(r.n);
    visits += num(r.n);
  }
  return { staging, rejected, rejectedByCode, transactions: num(tx.n), revenueCents: num(tx.revenue), visits, visitsByStatus };
}

/** Joins item records (ordered by transaction_id, line_no) onto their transactions. */
export function assembleTransactions(txRecs: Rec[], itemRecs: Rec[]): RunContents['transactions'] {
  const items = new Map<string, TransactionItemRow[]>();
  for (const r of itemRecs) {
    const id = String(r.transaction_id);
    let list = items.get(id);
    if (!list) items.set(id, (list = []));
    list.push(itemFromRecord(r));
  }
  return txRecs.map((r) => ({
    transaction_id: String(r.transaction_id),
    visit_id: String(r.visit_id),
    total_cents: num(r.total_cents),
    subtotal_cents: num(r.subtotal_cents),
    discount_cents: num(r.discount_cents),
    items: items.get(String(r.transaction_id)) ?? [],
  }));
}


function strOrNull(v: unknown): string | null {
  return v === null || v === undefined ? null : String(v);
}

/** A full `transactions` row and its items (ordered by line_no) back into a TransactionRow. */
export function transactionFromRecord(r: Rec, items: TransactionItemRow[]): TransactionRow {
  return {
    run_id: String(r.run_id),
    transaction_id: String(r.transaction_id),
    visit_id: String(r.visit_id),
    customer_id: String(r.customer_id),
    store_id: String(r.store_id),
    lane: numOrNull(r.lane),
    payment_method: strOrNull(r.payment_method),
    transaction_time: readIso(r.transaction_time),
    subtotal_cents: num(r.subtotal_cents),
    discount_cents: num(r.discount_cents),
    total_cents: num(r.total_cents),
    items,
  };
}

/** A full `visits` row (lines selected as text) back into a VisitRow. */
export function visitFromRecord(r: Rec): VisitRow {
  return {
    run_id: String(r.run_id),
    visit_id: String(r.visit_id),
    record_id: String(r.record_id),
    customer_id: String(r.customer_id),
    store_id: String(r.store_id),
    status: r.status as VisitStatus,
    entry_time: readIso(r.entry_time),
    exit_time: readIsoOrNull(r.exit_time),
    lane: numOrNull(r.lane),
    queue_joined_at: readIsoOrNull(r.queue_joined_at),
    service_started_at: readIsoOrNull(r.service_started_at),
    payment_method: strOrNull(r.payment_method),
    transaction_id: strOrNull(r.transaction_id),
    lines: text(r.lines),
    items: num(r.items),
    stale: r.stale === true || r.stale === 1,
  };
}
