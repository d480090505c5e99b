/**
 * What the processor reads besides events and what it writes: header names, control messages,
 * and the payloads of pos_transactions and visits (DESIGN.md, Events; Processor state).
 */
import type { PaymentMethod, RejectCode, VisitStatus } from '../engine/types.js';

export const HEADERS = {
  run: 'storesim.run',
  seq: 'storesim.seq',
  producedAt: 'storesim.produced_at',
  marker: 'storesim.marker',
  // dead letters (after Kafka Connect's)
  errorCode: 'error.code',
  errorReason: 'error.reason',
  sourceTopic: 'source.topic',
  sourcePartition: 'source.partition',
  sourceOffset: 'source.offset',
  rejectedAt: 'rejected_at',
} as const;

/** Values of the `storesim.marker` header: control messages, never events. */
export type MarkerKind = 'run_start' | 'watermark' | 'end';

/**
 * The run-start control message's value: the settings that decide verdicts. A processor judges a
 * run with these only (and refuses a run whose fixtures hash differs from its own as `foreign`).
 */
export interface RunSettings {
  run_id: string;
  grace_ms: number;
  dedup_window_ms: number;
  marker_interval_ms: number;
  max_session_age_sec: number;
  force_checkout_if_empty: boolean;
  fixtures_hash: string;
  store_id: string;
}

/** Watermark marker value. `time` is simulated epoch ms. */
export interface WatermarkValue { time: number }

export interface PosLine {
  item_id: string;
  quantity: number;
  /** Decimal currency units with at most two places (cents inside). */
  unit_price: number;
  /** A rate: 0.10 = 10 %. */
  discount: number;
  total_price: number;
}

export interface PosTransaction {
  event_type: 'pos_transaction';
  schema_version: number;
  /** UUIDv5(run namespace, exit event_id). */
  transaction_id: string;
  visit_id: string;
  customer_id: string;
  store_id: string;
  /** The exit time (simulated). */
  timestamp: string;
  lane: number | null;
  payment_method: PaymentMethod | null;
  currency: string;
  items: PosLine[];
  subtotal: number;
  discount_total: number;
  total: number;
}

export interface VisitLine { item_id: string; quantity: number }

export interface VisitClosed {
  event_type: 'visit_closed';
  schema_version: number;
  /** UUIDv5(run namespace, visit_id + ":visit"). */
  id: string;
  visit_id: string;
  customer_id: string;
  store_id: string;
  status: VisitStatus;
  entry_time: string;
  exit_time: string | null;
  lines: VisitLine[];
  lane: number | null;
  queue_joined_at: string | null;
  service_started_at: string | null;
  payment_method: PaymentMethod | null;
  transaction_id: string | null;
  /** True when closed by the stale-session safety net (never on a stream storesim made). */
  stale: boolean;
}

// ---------------------------------------------------------------------------------------------
// The processor core's outputs (src/pipeline/processor-core.ts); the consumer loop picks the
// destination topic from `kind`: clean → clean_events, pos → pos_transactions, visit → visits,
// dead_letter → rejected_events; redelivered and stale are counts only.

/** Which raw topic of a partition pair a message came from. */
export type PairSide = 'foot' | 'shelf';

/** A record for an output topic. `value` is the exact payload; `timestamp` is a record timestamp (ms). */
export interface ProducedOutput {
  kind: 'clean' | 'pos' | 'visit' | 'dead_letter';
  key: string | null;
  /** The bytes, or their text (UTF-8) where the processor has only that: the bus encodes it. */
  value: Buffer | string;
  headers: Record<string, string>;
  timestamp?: number;
  /** The `storesim.run` the record belongs to; null for a message without one (foreign). */
  run: string | null;
  /** The rejection code, for dead letters only (also in the `error.code` header). */
  code?: RejectCode;
  /**
   * In-process extras (src/kafka/memory-bus.ts, InProcessExtras): `value` as text and as parsed JSON,
   * when the processor has them anyway; the in-process bus hands them to the sink, which then does not
   * decode and parse the same bytes again. Kafka ignores them.
   */
  text?: string;
  json?: unknown;
}

/** A transport redelivery (seq not above the high-water mark): dropped silently, counted. */
export interface RedeliveredOutput { kind: 'redelivered'; run: string; seq: number }

/** A visit closed by the stale-session safety net (its visit record is a separate output). */
export interface StaleOutput { kind: 'stale'; run: string; visit_id: string }

export type ProcessorOutput = ProducedOutput | RedeliveredOutput | StaleOutput;
