/**
 * Pure mappings from the processor's output messages (clean_events, rejected_events,
 * pos_transactions, visits) to database rows. No I/O. A message that cannot be mapped is a bug
 * upstream (the processor validated it) and throws a RowMappingError naming where it came from.
 */
import type { IncomingMessage } from '../kafka/bus.js';
import { messageJson, messageText } from '../kafka/memory-bus.js';
import { HEADERS } from '../pipeline/types.js';
import type { PosTransaction, VisitClosed } from '../pipeline/types.js';
import { TOPICS } from '../engine/types.js';
import type { RejectedRow, StagingRow, TransactionItemRow, TransactionRow, VisitRow } from './types.js';

export class RowMappingError extends Error {
  override readonly name = 'RowMappingError';
}

function where(msg: IncomingMessage): string {
  return `${msg.topic}[${msg.partition}]@${msg.offset}`;
}

function fail(msg: IncomingMessage, what: string): never {
  throw new RowMappingError(`cannot map ${where(msg)} to a row: ${what}`);
}

/** The value's text: the in-process bus's copy when it has one (src/kafka/memory-bus.ts), else decoded. */
function textOf(msg: IncomingMessage): string {
  return messageText(msg) ?? msg.value.toString('utf8');
}

/** The value's JSON object: the in-process bus's parsed copy when it has one, else parsed here. */
function parseJson(msg: IncomingMessage, text?: string): Record<string, unknown> {
  let v = messageJson(msg);
  if (v === undefined) {
    try {
      v = JSON.parse(text ?? textOf(msg));
    } catch {
      fail(msg, 'value is not JSON');
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(msg, 'value is not a JSON object');
  return v as Record<string, unknown>;
}

function str(msg: IncomingMessage, obj: Record<string, unknown>, field: string): string {
  const v = obj[field];
  if (typeof v !== 'string') fail(msg, `${field} is not a string`);
  return v;
}

function strOrNull(msg: IncomingMessage, obj: Record<string, unknown>, field: string): string | null {
  const v = obj[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') fail(msg, `${field} is not a string`);
  return v;
}

function numOrNull(msg: IncomingMessage, obj: Record<string, unknown>, field: string): number | null {
  const v = obj[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(msg, `${field} is not a number`);
  return v;
}

function numField(msg: IncomingMessage, obj: Record<string, unknown>, field: string): number {
  const v = numOrNull(msg, obj, field);
  if (v === null) fail(msg, `${field} is missing`);
  return v;
}

/** A header as a non-negative integer, or null when absent or not one. */
function intHeader(msg: IncomingMessage, name: string): number | null {
  const v = msg.headers[name];
  if (v === undefined || !/^\d+$/.test(v)) return null;
  return Number(v);
}

function runId(msg: IncomingMessage): string {
  const run = msg.headers[HEADERS.run];
  if (run === undefined || run === '') fail(msg, `no ${HEADERS.run} header`);
  return run;
}

/** Decimal currency units (at most two places) → integer cents. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}

/** The raw topic an event type is published on. */
export function topicOfEventType(eventType: string): string | null {
  switch (eventType) {
    case 'entry':
    case 'exit':
      return TOPICS.foot;
    case 'pickup':
    case 'putback':
      return TOPICS.shelf;
    default:
      return null;
  }
}

/** A clean_events message (the raw event's JSON, validated) → a staging_events row. */
export function stagingRow(msg: IncomingMessage): StagingRow {
  const seq = intHeader(msg, HEADERS.seq);
  if (seq === null) fail(msg, `no ${HEADERS.seq} header`);
  const payload = textOf(msg);
  const ev = parseJson(msg, payload);
  const eventType = str(msg, ev, 'event_type');
  const topic = topicOfEventType(eventType);
  if (topic === null) fail(msg, `unknown event_type ${JSON.stringify(eventType)}`);
  return {
    run_id: runId(msg),
    event_id: str(msg, ev, 'event_id'),
    seq,
    topic,
    event_type: eventType,
    customer_id: str(msg, ev, 'customer_id'),
    visit_id: str(msg, ev, 'visit_id'),
    event_time: str(msg, ev, 'timestamp'),
    payload,
  };
}

/**
 * PostgreSQL text and jsonb cannot hold U+0000, and a dead letter's key and headers are whatever a
 * producer sent: replace it (in both dialects, so they agree) rather than fail the batch forever.
 * The value stays untouched bytes.
 */
function noNul(s: string): string {
  return s.includes('\u0000') ? s.replaceAll('\u0000', '\uFFFD') : s;
}

/**
 * A dead letter → a rejected_events row. Keyed by (run_id, seq) when it carries both storesim
 * headers, else by its source (topic, partition, offset) with run_id and seq null (`foreign`).
 * A dead letter missing its source headers falls back to its own coordinates, so it still has a key.
 */
export function rejectedRow(msg: IncomingMessage): RejectedRow {
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(msg.headers)) h[noNul(k)] = noNul(v);
  const run = h[HEADERS.run];
  const seq = intHeader(msg, HEADERS.seq);
  const identified = run !== undefined && run !== '' && seq !== null;
  const rejectedAt = h[HEADERS.rejectedAt];
  return {
    run_id: identified ? run : null,
    seq: identified ? seq : null,
    code: h[HEADERS.errorCode] ?? 'foreign',
    reason: h[HEADERS.errorReason] ?? '',
    source_topic: h[HEADERS.sourceTopic] ?? msg.topic,
    source_partition: intHeader(msg, HEADERS.sourcePartition) ?? msg.partition,
    source_offset: intHeader(msg, HEADERS.sourceOffset) ?? msg.offset,
    key: msg.key === null ? null : noNul(msg.key),
    value: msg.value,
    headers: JSON.stringify(h),
    rejected_at: rejectedAt !== undefined && !Number.isNaN(Date.parse(rejectedAt))
      ? rejectedAt
      : new Date(msg.timestamp).toISOString(),
  };
}

/** A pos_transactions message (PosTransaction JSON, decimals) → a transactions row with its items (cents). */
export function transactionRow(msg: IncomingMessage): TransactionRow {
  const t = parseJson(msg) as Partial<PosTransaction> & Record<string, unknown>;
  if (t.event_type !== 'pos_transaction') fail(msg, 'event_type is not pos_transaction');
  if (!Array.isArray(t.items)) fail(msg, 'items is not an array');
  const items: TransactionItemRow[] = t.items.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) fail(msg, `items[${i}] is not an object`);
    const line = raw as Record<string, unknown>;
    const quantity = numField(msg, line, 'quantity');
    const unit = toCents(numField(msg, line, 'unit_price'));
    const total = toCents(numField(msg, line, 'total_price'));
    return {
      line_no: i + 1,
      item_id: str(msg, line, 'item_id'),
      quantity,
      unit_price_cents: unit,
      discount_rate: numField(msg, line, 'discount'),
      // total_price = gross − discount exactly (DESIGN.md, Money), so the line discount is the difference.
      discount_cents: unit * quantity - total,
      total_cents: total,
    };
  });
  return {
    run_id: runId(msg),
    transaction_id: str(msg, t, 'transaction_id'),
    visit_id: str(msg, t, 'visit_id'),
    customer_id: str(msg, t, 'customer_id'),
    store_id: str(msg, t, 'store_id'),
    lane: numOrNull(msg, t, 'lane'),
    payment_method: strOrNull(msg, t, 'payment_method'),
    transaction_time: str(msg, t, 'timestamp'),
    subtotal_cents: toCents(numField(msg, t, 'subtotal')),
    discount_cents: toCents(numField(msg, t, 'discount_total')),
    total_cents: toCents(numField(msg, t, 'total')),
    items,
  };
}

/** A visits message (VisitClosed JSON) → a visits row. `items` is the number of units in the cart. */
export function visitRow(msg: IncomingMessage): VisitRow {
  const v = parseJson(msg) as Partial<VisitClosed> & Record<string, unknown>;
  if (v.event_type !== 'visit_closed') fail(msg, 'event_type is not visit_closed');
  const status = str(msg, v, 'status');
  if (!['purchased', 'abandoned', 'left_empty', 'open_at_end'].includes(status)) fail(msg, `unknown status ${JSON.stringify(status)}`);
  if (!Array.isArray(v.lines)) fail(msg, 'lines is not an array');
  let units = 0;
  const lines = v.lines.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) fail(msg, `lines[${i}] is not an object`);
    const line = raw as Record<string, unknown>;
    const quantity = numField(msg, line, 'quantity');
    units += quantity;
    return { item_id: str(msg, line, 'item_id'), quantity };
  });
  return {
    run_id: runId(msg),
    visit_id: str(msg, v, 'visit_id'),
    record_id: str(msg, v, 'id'),
    customer_id: str(msg, v, 'customer_id'),
    store_id: str(msg, v, 'store_id'),
    status: status as VisitRow['status'],
    entry_time: str(msg, v, 'entry_time'),
    exit_time: strOrNull(msg, v, 'exit_time'),
    lane: numOrNull(msg, v, 'lane'),
    queue_joined_at: strOrNull(msg, v, 'queue_joined_at'),
    service_started_at: strOrNull(msg, v, 'service_started_at'),
    payment_method: strOrNull(msg, v, 'payment_method'),
    transaction_id: strOrNull(msg, v, 'transaction_id'),
    lines: JSON.stringify(lines),
    items: units,
    stale: v.stale === true,
  };
}
