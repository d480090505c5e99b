/**
 * Schemas for untrusted bytes at the processor's edge (zod 4), and for what it writes. Raw events
 * follow DESIGN.md (Events) and src/engine/types.ts exactly: unknown fields are refused, a quantity
 * only has to be an integer (zero and negative pass; the business rule rejects them as `quantity`).
 * The JSON Schema files in schemas/ are exported from these by scripts/export-schemas.ts.
 */
import { z } from 'zod';
import { PAYMENT_METHODS, TOPICS } from '../engine/types.js';
import type { EntryEvent, ExitEvent, ShelfEvent, PaymentMethod } from '../engine/types.js';
import type { PosTransaction, RunSettings, VisitClosed, WatermarkValue } from './types.js';

/** ISO-8601 UTC (`Z` only), any sub-second precision; impossible dates are refused. */
const isoUtc = z.iso.datetime();
const paymentMethod = z.enum(PAYMENT_METHODS as [PaymentMethod, ...PaymentMethod[]]);
const id = z.string().min(1);

const eventBase = {
  event_id: z.uuid(),
  store_id: id,
  customer_id: id,
  visit_id: id,
  timestamp: isoUtc,
  schema_version: z.number().int(),
};

export const entryEventSchema = z.strictObject({
  ...eventBase,
  event_type: z.literal('entry'),
  door: id,
});

export const exitEventSchema = z.strictObject({
  ...eventBase,
  event_type: z.literal('exit'),
  entry_time: isoUtc,
  exit_time: isoUtc,
  lane: z.number().int().positive().nullable(),
  queue_joined_at: isoUtc.nullable(),
  service_started_at: isoUtc.nullable(),
  payment_method: paymentMethod.nullable(),
});

export const shelfEventSchema = z.strictObject({
  ...eventBase,
  event_type: z.enum(['pickup', 'putback']),
  shelf_id: id,
  item_id: id,
  quantity: z.number().int(),
});

export const runSettingsSchema = z.object({
  run_id: z.uuid(),
  grace_ms: z.number().int().nonnegative(),
  dedup_window_ms: z.number().int().nonnegative(),
  marker_interval_ms: z.number().int().positive(),
  max_session_age_sec: z.number().nonnegative(),
  force_checkout_if_empty: z.boolean(),
  fixtures_hash: z.string().min(1),
  store_id: id,
});

export const watermarkValueSchema = z.object({ time: z.number().int() });

const money = z.number();
export const posLineSchema = z.strictObject({
  item_id: id,
  quantity: z.number().int().positive(),
  unit_price: money,
  discount: z.number().min(0).max(1),
  total_price: money,
});

export const posTransactionSchema = z.strictObject({
  event_type: z.literal('pos_transaction'),
  schema_version: z.number().int(),
  transaction_id: z.uuid(),
  visit_id: id,
  customer_id: id,
  store_id: id,
  timestamp: isoUtc,
  lane: z.number().int().positive().nullable(),
  payment_method: paymentMethod.nullable(),
  currency: z.string().length(3),
  items: z.array(posLineSchema),
  subtotal: money,
  discount_total: money,
  total: money,
});

export const visitClosedSchema = z.strictObject({
  event_type: z.literal('visit_closed'),
  schema_version: z.number().int(),
  id: z.uuid(),
  visit_id: id,
  customer_id: id,
  store_id: id,
  status: z.enum(['purchased', 'abandoned', 'left_empty', 'open_at_end']),
  entry_time: isoUtc,
  exit_time: isoUtc.nullable(),
  lines: z.array(z.strictObject({ item_id: id, quantity: z.number().int().positive() })),
  lane: z.number().int().positive().nullable(),
  queue_joined_at: isoUtc.nullable(),
  service_started_at: isoUtc.nullable(),
  payment_method: paymentMethod.nullable(),
  transaction_id: z.uuid().nullable(),
  stale: z.boolean(),
});

// The schemas and the shared interfaces must describe the same shapes (checked at compile time).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const shapesAgree: [
  Same<z.infer<typeof entryEventSchema>, EntryEvent>,
  Same<z.infer<typeof exitEventSchema>, ExitEvent>,
  Same<z.infer<typeof shelfEventSchema>, ShelfEvent>,
  Same<z.infer<typeof runSettingsSchema>, RunSettings>,
  Same<z.infer<typeof watermarkValueSchema>, WatermarkValue>,
  Same<z.infer<typeof posTransactionSchema>, PosTransaction>,
  Same<z.infer<typeof visitClosedSchema>, VisitClosed>,
] = [true, true, true, true, true, true, true];
void shapesAgree;

export type FootEvent = EntryEvent | ExitEvent;

export type SchemaResult<T> = { ok: true; value: T } | { ok: false; reason: string };

const FOOT_TYPES = ['entry', 'exit'] as const;
const SHELF_TYPES = ['pickup', 'putback'] as const;

/** One line naming the offending fields, e.g. `door: Invalid input: expected string, received undefined`. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const parts = issues.slice(0, 3).map((i) => {
    if (i.code === 'unrecognized_keys') return `unexpected field(s): ${i.keys.join(', ')}`;
    const path = i.path.length > 0 ? i.path.join('.') : '(event)';
    return `${path}: ${i.message}`;
  });
  if (issues.length > 3) parts.push(`and ${issues.length - 3} more`);
  return parts.join('; ');
}

function eventTypeMismatch(obj: Record<string, unknown>, topic: string, allowed: readonly string[]): string | null {
  const t = obj['event_type'];
  if (typeof t === 'string' && allowed.includes(t)) return null;
  const got = t === undefined ? 'missing' : JSON.stringify(t);
  return `event_type: ${got} does not belong on ${topic} (expected ${allowed.join(' or ')})`;
}

// Fast paths for the exact shapes the engine makes: plain checks with zod's own patterns, no issue
// machinery. They only ever say yes when zod would (same rules, field by field); anything they do not
// accept goes to zod, which stays the authority and words the reason.
const UUID_RE = (eventBase.event_id._zod.def as { pattern?: RegExp }).pattern!;
const ISO_RE = (isoUtc._zod.def as { pattern?: RegExp }).pattern!;
const hasOwn = Object.prototype.hasOwnProperty;
const PAYMENT_SET: ReadonlySet<unknown> = new Set(PAYMENT_METHODS);

const isId = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
const isIso = (v: unknown): boolean => typeof v === 'string' && ISO_RE.test(v);
const isIsoOrNull = (v: unknown): boolean => v === null || isIso(v);
const isSafeInt = (v: unknown): boolean => Number.isSafeInteger(v);

/** Exactly `keys` as own properties (JSON.parse makes no others but enumerable own ones). */
function hasExactly(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  let n = 0;
  for (const k in obj) {
    if (!hasOwn.call(obj, k)) return false;
    n++;
  }
  if (n !== keys.length) return false;
  for (const k of keys) if (!hasOwn.call(obj, k)) return false;
  return true;
}

function baseOk(o: Record<string, unknown>): boolean {
  const id = o['event_id'];
  return typeof id === 'string' && UUID_RE.test(id) && isId(o['store_id']) && isId(o['customer_id']) && isId(o['visit_id'])
    && isIso(o['timestamp']) && isSafeInt(o['schema_version']);
}

const ENTRY_KEYS = [...Object.keys(entryEventSchema.shape)];
const EXIT_KEYS = [...Object.keys(exitEventSchema.shape)];
const SHELF_KEYS = [...Object.keys(shelfEventSchema.shape)];

function fastEntry(o: Record<string, unknown>): boolean {
  return hasExactly(o, ENTRY_KEYS) && baseOk(o) && isId(o['door']);
}

function fastExit(o: Record<string, unknown>): boolean {
  const lane = o['lane'];
  const pay = o['payment_method'];
  return hasExactly(o, EXIT_KEYS) && baseOk(o) && isIso(o['entry_time']) && isIso(o['exit_time'])
    && (lane === null || (isSafeInt(lane) && (lane as number) > 0))
    && isIsoOrNull(o['queue_joined_at']) && isIsoOrNull(o['service_started_at'])
    && (pay === null || PAYMENT_SET.has(pay));
}

function fastShelf(o: Record<string, unknown>): boolean {
  return hasExactly(o, SHELF_KEYS) && baseOk(o) && isId(o['shelf_id']) && isId(o['item_id']) && isSafeInt(o['quantity']);
}

/** Validates a parsed JSON object read from foot_traffic. */
export function parseFootEvent(obj: Record<string, unknown>): SchemaResult<FootEvent> {
  const t = obj['event_type'];
  if (t === 'entry' ? fastEntry(obj) : t === 'exit' && fastExit(obj)) return { ok: true, value: obj as unknown as FootEvent };
  const wrong = eventTypeMismatch(obj, TOPICS.foot, FOOT_TYPES);
  if (wrong !== null) return { ok: false, reason: wrong };
  const r = obj['event_type'] === 'entry' ? entryEventSchema.safeParse(obj) : exitEventSchema.safeParse(obj);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: describeIssues(r.error.issues) };
}

/** Validates a parsed JSON object read from shelf_events. */
export function parseShelfEvent(obj: Record<string, unknown>): SchemaResult<ShelfEvent> {
  const t = obj['event_type'];
  if ((t === 'pickup' || t === 'putback') && fastShelf(obj)) return { ok: true, value: obj as unknown as ShelfEvent };
  const wrong = eventTypeMismatch(obj, TOPICS.shelf, SHELF_TYPES);
  if (wrong !== null) return { ok: false, reason: wrong };
  const r = shelfEventSchema.safeParse(obj);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: describeIssues(r.error.issues) };
}

export function parseRunSettings(v: unknown): SchemaResult<RunSettings> {
  const r = runSettingsSchema.safeParse(v);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: describeIssues(r.error.issues) };
}

/**
 * The engine's watermark bytes, `{"time":<integer>}`, read without JSON.parse; null for anything else
 * (the caller then parses and validates with zod as usual). At most 15 digits: always a safe integer,
 * and Number() reads it exactly as JSON.parse does.
 */
export function fastWatermarkTime(value: Uint8Array): number | null {
  const n = value.length;
  // {"time":  = 7B 22 74 69 6D 65 22 3A
  if (n < 10 || n > 24 || value[0] !== 0x7b || value[1] !== 0x22 || value[2] !== 0x74 || value[3] !== 0x69 || value[4] !== 0x6d
    || value[5] !== 0x65 || value[6] !== 0x22 || value[7] !== 0x3a || value[n - 1] !== 0x7d) return null;
  let i = 8;
  let neg = false;
  if (value[i] === 0x2d) { neg = true; i++; }
  const first = i;
  if (first >= n - 1 || n - 1 - first > 15) return null;
  if (value[first] === 0x30 && n - 1 - first > 1) return null; // a leading zero is not JSON
  let t = 0;
  for (; i < n - 1; i++) {
    const d = value[i]! - 0x30;
    if (d < 0 || d > 9) return null;
    t = t * 10 + d;
  }
  return neg ? -t : t;
}

export function parseWatermark(v: unknown): SchemaResult<WatermarkValue> {
  const r = watermarkValueSchema.safeParse(v);
  return r.success ? { ok: true, value: r.data } : { ok: false, reason: describeIssues(r.error.issues) };
}

/** The JSON Schema files committed in schemas/ (file name → schema), exported with z.toJSONSchema. */
export function jsonSchemaFiles(): Record<string, unknown> {
  const doc = (title: string, s: z.ZodType): unknown => {
    const { $schema, ...rest } = z.toJSONSchema(s);
    return { $schema, title, ...rest };
  };
  return {
    'foot_traffic.entry.json': doc('foot_traffic entry event', entryEventSchema),
    'foot_traffic.exit.json': doc('foot_traffic exit event (a whole session)', exitEventSchema),
    'shelf_events.json': doc('shelf_events pickup or putback event', shelfEventSchema),
    'pos_transaction.json': doc('pos_transactions record', posTransactionSchema),
    'visit_closed.json': doc('visits record', visitClosedSchema),
  };
}

/** The exact text of each committed schemas/ file (2-space JSON, trailing newline). */
export function renderJsonSchemaFiles(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(jsonSchemaFiles()).map(([name, schema]) => [name, `${JSON.stringify(schema, null, 2)}\n`]),
  );
}
