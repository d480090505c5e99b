/**
 * The processor's pure core (DESIGN.md, "Event time, lateness and checkout", "Processor state"):
 * `(pair state, message) → (pair state mutated, outputs)`. No I/O and no clock except the injected
 * `now()`, used only for the wall-clock `rejected_at` header of dead letters. The consumer loop
 * around it reads both partitions of a pair, sends the outputs, and checkpoints the pair state
 * (snapshot-codec.ts) before committing.
 *
 * Decisions where DESIGN.md is silent (also in the report of the change that added this file):
 * - An event of a run whose run_start has not been read on that partition is `foreign`: the engine
 *   always sends run_start first on every partition, so only another producer can do that. The same
 *   for a run whose run_start value is invalid or whose run_id differs from its header.
 * - A message of a run already dropped from state (both end markers read) is `redelivered` when its
 *   seq is not above that run's high-water mark, `foreign` otherwise. Markers of unknown runs are
 *   ignored, as are repeated run_start markers.
 * - A later run's run_start on a partition acts as an end marker, on that partition, for every other
 *   run still in the pair state; once a run has ended (really or so) on both partitions it is
 *   flushed like any ended run: visits with an exit close with their own status, the rest
 *   `open_at_end`, held events become `unknown_customer`.
 * - The stale-session safety net closes a visit with no exit as `abandoned` (items) or `left_empty`
 *   (none), `stale: true`, exit_time null, never with a transaction, and reports `{kind:'stale'}`.
 * - A second entry or a second exit for a visit that already has one is accepted (clean) and does
 *   not change the visit. A paid exit with an empty cart is still `purchased` (an empty transaction).
 * - Closes in one step are emitted in (close time, visit_id) order; for each, pos before visit.
 */
import { SCHEMA_VERSION } from '../engine/types.js';
import type { Discount, EntryEvent, ExitEvent, PaymentMethod, Product, RejectCode, ShelfEvent, VisitStatus } from '../engine/types.js';
import type { IncomingMessage } from '../kafka/bus.js';
import { messageText } from '../kafka/memory-bus.js';
import { HEADERS } from './types.js';
import type { PairSide, PosTransaction, ProcessorOutput, ProducedOutput, RunSettings, VisitClosed, VisitLine } from './types.js';
import { fastWatermarkTime, parseFootEvent, parseRunSettings, parseShelfEvent, parseWatermark } from './schemas.js';
import { centsToDecimal, createPriceBook, priceLines } from './pricing.js';
import { transactionId, visitRecordId } from './ids.js';

/** Ended runs remembered (for redelivery detection) after they are dropped from a pair state. */
export const MAX_ENDED_RUNS = 16;
/** A side more than this many marker intervals ahead of the other should be paused. */
export const PAUSE_AHEAD_MARKER_INTERVALS = 3;
/** Marker interval assumed for a run whose run_start gave none (a refused run). */
const DEFAULT_MARKER_INTERVAL_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Pair state: plain data, Maps in insertion order; snapshot-codec.ts encodes it exactly.

/** One partition of the pair, for one run. */
export interface SideState {
  /** run_start read on this partition. */
  started: boolean;
  /** End marker read (or implied by a later run): partition time is +∞. A flag, never Infinity. */
  ended: boolean;
  /** Highest timestamp (ms) among markers and schema-valid events; null before any. */
  time: number | null;
  /** Highest storesim.seq read (0 before any). */
  seqHigh: number;
  /** event_id → timestamp ms of schema-valid events, in arrival order (expiry checked on lookup). */
  dedup: Map<string, number>;
}

export interface EntryInfo {
  eventId: string;
  customerId: string;
  storeId: string;
  entryTime: string;
  entryMs: number;
  producedAt: string | null;
  recordTimestamp: number;
}

export interface ExitInfo {
  eventId: string;
  exitTime: string;
  exitMs: number;
  lane: number | null;
  queueJoinedAt: string | null;
  serviceStartedAt: string | null;
  paymentMethod: PaymentMethod | null;
  producedAt: string | null;
  recordTimestamp: number;
}

/** An event waiting for its visit's entry, with the message it came in (for its output). */
export interface HeldEvent {
  side: PairSide;
  tsMs: number;
  event: ExitEvent | ShelfEvent;
  msg: IncomingMessage;
}

export interface VisitState {
  visitId: string;
  /** The accepted entry; null while the visit only has held events. */
  entry: EntryInfo | null;
  /** item_id → accepted pickups − accepted putbacks (entries at 0 removed). */
  cart: Map<string, number>;
  exit: ExitInfo | null;
  /** Non-empty only while entry is null, in arrival order. */
  held: HeldEvent[];
}

export interface RunState {
  runId: string;
  /** From the first run_start read; null when it was refused. */
  settings: RunSettings | null;
  /** Why this run's events are `foreign` (fixtures hash differs, bad run_start); null when accepted. */
  refused: string | null;
  foot: SideState;
  shelf: SideState;
  visits: Map<string, VisitState>;
  /**
   * Lowest pending deadline (held time + grace, exit + grace, entry + session cap), or null: the
   * visits are scanned only when the pair watermark passes it.
   */
  nextDue: number | null;
}

export interface EndedRun {
  runId: string;
  seqHigh: { foot: number; shelf: number };
}

/** Everything the core knows about one partition pair (foot_traffic p + shelf_events p). */
export interface PairState {
  /** Runs by run_id, in the order they were first seen. */
  runs: Map<string, RunState>;
  /** Runs dropped after both end markers, oldest first, at most MAX_ENDED_RUNS. */
  endedRuns: EndedRun[];
}

export interface PendingCounts {
  runs: number;
  /** Visits with an accepted entry (open carts). */
  carts: number;
  /** Events held for a missing entry. */
  held: number;
  /** Recorded event ids, both partitions. */
  dedupIds: number;
}

export interface ProcessorCoreOptions {
  catalog: readonly Product[];
  discounts: readonly Discount[];
  /** sha256 of the fixture files; a run whose run_start names another is refused as `foreign`. */
  fixturesHash: string;
  /** Wall clock, epoch ms: only for the `rejected_at` header of dead letters. */
  now: () => number;
}

export interface ProcessorCore {
  newPairState(): PairState;
  /** Judges one message of the pair; mutates `pair` and returns the outputs, in order. */
  handle(pair: PairState, side: PairSide, msg: IncomingMessage): ProcessorOutput[];
  /** The side to pause: more than PAUSE_AHEAD_MARKER_INTERVALS marker intervals ahead of the other. */
  pauseHint(pair: PairState): PairSide | null;
  /** Sizes of what the pair holds, for bounded-memory checks and the dashboard. */
  pendingCounts(pair: PairState): PendingCounts;
}

// ---------------------------------------------------------------------------------------------

export function newSideState(): SideState {
  return { started: false, ended: false, time: null, seqHigh: 0, dedup: new Map() };
}

export function newPairState(): PairState {
  return { runs: new Map(), endedRuns: [] };
}

/** Partition time with the ended flag applied: +∞ when ended, −∞ before any time. */
export function effectiveTime(s: SideState): number {
  if (s.ended) return Infinity;
  return s.time ?? -Infinity;
}

/** min(foot time, shelf time) of a run. */
export function pairWatermark(run: RunState): number {
  return Math.min(effectiveTime(run.foot), effectiveTime(run.shelf));
}

const minDue = (a: number | null, b: number): number => (a === null || b < a ? b : a);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isoOrEnd(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ms > 0 ? 'ended' : 'none';
}

function parseSeq(raw: string): number | null {
  if (!/^[1-9][0-9]*$/.test(raw)) return null;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : null;
}

export function createProcessorCore(opts: ProcessorCoreOptions): ProcessorCore {
  const book = createPriceBook(opts.catalog, opts.discounts);
  const { fixturesHash, now } = opts;

  // --- outputs -------------------------------------------------------------------------------

  function deadLetter(msg: IncomingMessage, code: RejectCode, reason: string, run: string | null): ProducedOutput {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) if (k.startsWith('storesim.')) headers[k] = v;
    headers[HEADERS.errorCode] = code;
    headers[HEADERS.errorReason] = reason;
    headers[HEADERS.sourceTopic] = msg.topic;
    headers[HEADERS.sourcePartition] = String(msg.partition);
    headers[HEADERS.sourceOffset] = String(msg.offset);
    headers[HEADERS.rejectedAt] = String(now());
    return { kind: 'dead_letter', key: msg.key, value: msg.value, headers, timestamp: msg.timestamp, run, code };
  }

  /** A clean_events record; `json` is the event as parsed, `text` the value's exact text when known. */
  function clean(msg: IncomingMessage, run: string, json: unknown, text?: string): ProducedOutput {
    const headers: Record<string, string> = {};
    const h = msg.headers;
    const r = h[HEADERS.run];
    const seq = h[HEADERS.seq];
    const at = h[HEADERS.producedAt];
    if (r !== undefined) headers[HEADERS.run] = r;
    if (seq !== undefined) headers[HEADERS.seq] = seq;
    if (at !== undefined) headers[HEADERS.producedAt] = at;
    // Text the in-process bus handed over stands for the bytes (it has not made them yet).
    const value = text !== undefined && text === messageText(msg) ? text : msg.value;
    return { kind: 'clean', key: msg.key, value, headers, timestamp: msg.timestamp, run, text, json };
  }

  function derivedHeaders(runId: string, producedAt: string | null): Record<string, string> {
    const h: Record<string, string> = { [HEADERS.run]: runId };
    if (producedAt !== null) h[HEADERS.producedAt] = producedAt;
    return h;
  }

  // --- closing visits --------------------------------------------------------------------------

  type CloseMode = 'exit' | 'end' | 'stale';

  function closeVisit(run: RunState, settings: RunSettings, v: VisitState, mode: CloseMode, out: ProcessorOutput[]): void {
    const entry = v.entry;
    if (entry === null) return;
    const lines: VisitLine[] = [...v.cart]
      .filter(([, q]) => q > 0)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([item_id, quantity]) => ({ item_id, quantity }));
    const exit = mode === 'exit' ? v.exit : null;
    let status: VisitStatus;
    let withTransaction = false;
    if (exit !== null) {
      const paid = exit.serviceStartedAt !== null && exit.paymentMethod !== null;
      status = paid ? 'purchased' : lines.length > 0 ? 'abandoned' : 'left_empty';
      withTransaction = paid || (status === 'left_empty' && settings.force_checkout_if_empty);
    } else if (mode === 'stale') {
      status = lines.length > 0 ? 'abandoned' : 'left_empty';
    } else {
      status = 'open_at_end';
    }
    const producedAt = exit !== null ? exit.producedAt : entry.producedAt;
    const timestamp = exit !== null ? exit.recordTimestamp : entry.recordTimestamp;
    let txId: string | null = null;
    if (withTransaction && exit !== null) {
      txId = transactionId(run.runId, exit.eventId);
      const priced = priceLines(lines, exit.exitMs, book);
      const tx: PosTransaction = {
        event_type: 'pos_transaction',
        schema_version: SCHEMA_VERSION,
        transaction_id: txId,
        visit_id: v.visitId,
        customer_id: entry.customerId,
        store_id: entry.storeId,
        timestamp: exit.exitTime,
        lane: exit.lane,
        payment_method: exit.paymentMethod,
        currency: 'USD',
        items: priced.items,
        subtotal: centsToDecimal(priced.subtotalCents),
        discount_total: centsToDecimal(priced.discountCents),
        total: centsToDecimal(priced.totalCents),
      };
      const text = JSON.stringify(tx);
      out.push({
        kind: 'pos', key: entry.customerId, value: text,
        headers: derivedHeaders(run.runId, producedAt), timestamp, run: run.runId, text, json: tx,
      });
    }
    const record: VisitClosed = {
      event_type: 'visit_closed',
      schema_version: SCHEMA_VERSION,
      id: visitRecordId(run.runId, v.visitId),
      visit_id: v.visitId,
      customer_id: entry.customerId,
      store_id: entry.storeId,
      status,
      entry_time: entry.entryTime,
      exit_time: exit?.exitTime ?? null,
      lines,
      lane: exit?.lane ?? null,
      queue_joined_at: exit?.queueJoinedAt ?? null,
      service_started_at: exit?.serviceStartedAt ?? null,
      payment_method: exit?.paymentMethod ?? null,
      transaction_id: txId,
      stale: mode === 'stale',
    };
    const text = JSON.stringify(record);
    out.push({
      kind: 'visit', key: entry.customerId, value: text,
      headers: derivedHeaders(run.runId, producedAt), timestamp, run: run.runId, text, json: record,
    });
    if (mode === 'stale') out.push({ kind: 'stale', run: run.runId, visit_id: v.visitId });
  }

  /**
   * Applies what the pair watermark now allows: held events past time + grace become
   * `unknown_customer`, visits past exit + grace close, visits past entry + cap close as stale, and
   * at +∞ everything closes. Returns true when the run has ended on both partitions (flushed).
   */
  function advance(run: RunState, out: ProcessorOutput[]): boolean {
    const w = pairWatermark(run);
    const settings = run.settings;
    if (settings === null) return w === Infinity;
    if (w !== Infinity && (run.nextDue === null || !(w > run.nextDue))) return false;
    const grace = settings.grace_ms;
    const capMs = settings.max_session_age_sec * 1000;
    let due: number | null = null;
    const closing: { v: VisitState; mode: CloseMode; at: number }[] = [];
    for (const v of run.visits.values()) {
      if (v.entry === null) {
        const keep: HeldEvent[] = [];
        for (const h of v.held) {
          if (h.tsMs + grace < w) {
            // Same words whatever the interleaving, so a replay gives the same bytes.
            const why = `no entry for visit ${v.visitId} by ${isoOrEnd(h.tsMs + grace)} (event time + grace ${grace} ms)`;
            out.push(deadLetter(h.msg, 'unknown_customer', why, run.runId));
          } else {
            keep.push(h);
            due = minDue(due, h.tsMs + grace);
          }
        }
        v.held = keep;
        if (keep.length === 0) run.visits.delete(v.visitId);
        continue;
      }
      if (v.exit !== null) {
        if (w > v.exit.exitMs + grace) closing.push({ v, mode: 'exit', at: v.exit.exitMs });
        else due = minDue(due, v.exit.exitMs + grace);
      } else if (w === Infinity) {
        closing.push({ v, mode: 'end', at: v.entry.entryMs });
      } else if (w > v.entry.entryMs + capMs) {
        closing.push({ v, mode: 'stale', at: v.entry.entryMs });
      } else {
        due = minDue(due, v.entry.entryMs + capMs);
      }
    }
    closing.sort((a, b) => a.at - b.at || (a.v.visitId < b.v.visitId ? -1 : a.v.visitId > b.v.visitId ? 1 : 0));
    for (const c of closing) {
      closeVisit(run, settings, c.v, c.mode, out);
      run.visits.delete(c.v.visitId);
    }
    run.nextDue = due;
    return w === Infinity;
  }

  function dropRun(pair: PairState, run: RunState): void {
    pair.runs.delete(run.runId);
    pair.endedRuns.push({ runId: run.runId, seqHigh: { foot: run.foot.seqHigh, shelf: run.shelf.seqHigh } });
    while (pair.endedRuns.length > MAX_ENDED_RUNS) pair.endedRuns.shift();
  }

  function advanceOrDrop(pair: PairState, run: RunState, out: ProcessorOutput[]): void {
    if (advance(run, out)) dropRun(pair, run);
  }

  // --- partition time and dedup ---------------------------------------------------------------

  /** Moves a partition's time forward and forgets event ids that expired with it. */
  function bumpTime(s: SideState, t: number, dedupWindowMs: number): void {
    if (s.ended || (s.time !== null && t <= s.time)) return;
    s.time = t;
    expireDedup(s, dedupWindowMs);
  }

  function expireDedup(s: SideState, dedupWindowMs: number): void {
    const t = effectiveTime(s);
    // Ids arrive roughly in time order: drop from the front; lookups check expiry anyway.
    for (const [id, ts] of s.dedup) {
      if (t > ts + dedupWindowMs) s.dedup.delete(id);
      else break;
    }
  }

  // --- applying events --------------------------------------------------------------------------

  function applyToVisit(run: RunState, v: VisitState, event: ExitEvent | ShelfEvent, msg: IncomingMessage, out: ProcessorOutput[], text?: string): void {
    const settings = run.settings as RunSettings;
    if (event.event_type === 'exit') {
      if (v.exit === null) {
        const exitMs = Date.parse(event.exit_time);
        v.exit = {
          eventId: event.event_id,
          exitTime: event.exit_time,
          exitMs,
          lane: event.lane,
          queueJoinedAt: event.queue_joined_at,
          serviceStartedAt: event.service_started_at,
          paymentMethod: event.payment_method,
          producedAt: msg.headers[HEADERS.producedAt] ?? null,
          recordTimestamp: msg.timestamp,
        };
        run.nextDue = minDue(run.nextDue, exitMs + settings.grace_ms);
      }
      out.push(clean(msg, run.runId, event, text));
      return;
    }
    if (book.priceCents(event.item_id) === undefined) {
      out.push(deadLetter(msg, 'unknown_item', `item_id ${event.item_id} is not in the catalog`, run.runId));
      return;
    }
    const held = v.cart.get(event.item_id) ?? 0;
    const q = event.quantity;
    if (event.event_type === 'pickup') {
      if (q <= 0) {
        out.push(deadLetter(msg, 'quantity', `pickup quantity must be positive (got ${q})`, run.runId));
        return;
      }
      v.cart.set(event.item_id, held + q);
    } else {
      if (q <= 0) {
        out.push(deadLetter(msg, 'quantity', `putback quantity must be positive (got ${q})`, run.runId));
        return;
      }
      if (q > held) {
        out.push(deadLetter(msg, 'quantity', `putback of ${q} × ${event.item_id} but visit ${v.visitId} holds ${held}`, run.runId));
        return;
      }
      if (held - q === 0) v.cart.delete(event.item_id);
      else v.cart.set(event.item_id, held - q);
    }
    out.push(clean(msg, run.runId, event, text));
  }

  function acceptEntry(run: RunState, event: EntryEvent, tsMs: number, msg: IncomingMessage, out: ProcessorOutput[], text?: string): void {
    const settings = run.settings as RunSettings;
    let v = run.visits.get(event.visit_id);
    if (v === undefined) {
      v = { visitId: event.visit_id, entry: null, cart: new Map(), exit: null, held: [] };
      run.visits.set(event.visit_id, v);
    }
    out.push(clean(msg, run.runId, event, text));
    if (v.entry !== null) return;
    v.entry = {
      eventId: event.event_id,
      customerId: event.customer_id,
      storeId: event.store_id,
      entryTime: event.timestamp,
      entryMs: tsMs,
      producedAt: msg.headers[HEADERS.producedAt] ?? null,
      recordTimestamp: msg.timestamp,
    };
    run.nextDue = minDue(run.nextDue, tsMs + settings.max_session_age_sec * 1000);
    const held = v.held;
    v.held = [];
    for (const h of held) applyToVisit(run, v, h.event, h.msg, out);
  }

  function hold(run: RunState, event: ExitEvent | ShelfEvent, side: PairSide, tsMs: number, msg: IncomingMessage): void {
    const settings = run.settings as RunSettings;
    let v = run.visits.get(event.visit_id);
    if (v === undefined) {
      v = { visitId: event.visit_id, entry: null, cart: new Map(), exit: null, held: [] };
      run.visits.set(event.visit_id, v);
    }
    v.held.push({ side, tsMs, event, msg });
    run.nextDue = minDue(run.nextDue, tsMs + settings.grace_ms);
  }

  // --- control messages -------------------------------------------------------------------------

  function refusal(runId: string, value: Buffer): { settings: RunSettings | null; refused: string | null } {
    let json: unknown;
    try {
      json = JSON.parse(utf8.decode(value));
    } catch {
      return { settings: null, refused: `run ${runId}: run_start value is not JSON` };
    }
    const r = parseRunSettings(json);
    if (!r.ok) return { settings: null, refused: `run ${runId}: invalid run_start settings (${r.reason})` };
    if (r.value.run_id !== runId) {
      return { settings: null, refused: `run ${runId}: run_start names another run_id (${r.value.run_id})` };
    }
    if (r.value.fixtures_hash !== fixturesHash) {
      return {
        settings: r.value,
        refused: `run ${runId} uses fixtures ${r.value.fixtures_hash}, this processor has ${fixturesHash}`,
      };
    }
    return { settings: r.value, refused: null };
  }

  function onRunStart(pair: PairState, side: PairSide, runId: string, msg: IncomingMessage, out: ProcessorOutput[]): void {
    let run = pair.runs.get(runId);
    if (run === undefined) {
      if (pair.endedRuns.some((r) => r.runId === runId)) return; // a repeated marker of an ended run
      const { settings, refused } = refusal(runId, msg.value);
      run = { runId, settings, refused, foot: newSideState(), shelf: newSideState(), visits: new Map(), nextDue: null };
      pair.runs.set(runId, run);
    }
    if (run[side].started) return; // a repeated run_start does no harm
    run[side].started = true;
    // A later run's first message on a partition ends, on that partition, every run before it.
    for (const other of [...pair.runs.values()]) {
      if (other === run || other[side].ended) continue;
      other[side].ended = true;
      expireDedup(other[side], other.settings?.dedup_window_ms ?? 0);
      advanceOrDrop(pair, other, out);
    }
  }

  function onControl(pair: PairState, side: PairSide, runId: string, marker: string, msg: IncomingMessage, out: ProcessorOutput[]): void {
    if (marker === 'run_start') {
      onRunStart(pair, side, runId, msg, out);
      return;
    }
    const run = pair.runs.get(runId);
    if (run === undefined || !run[side].started) return;
    const s = run[side];
    const windowMs = run.settings?.dedup_window_ms ?? 0;
    if (marker === 'watermark') {
      let time = fastWatermarkTime(msg.value);
      if (time === null) {
        let json: unknown;
        try {
          json = JSON.parse(utf8.decode(msg.value));
        } catch {
          return;
        }
        const r = parseWatermark(json);
        if (!r.ok) return;
        time = r.value.time;
      }
      bumpTime(s, time, windowMs);
    } else if (marker === 'end') {
      if (s.ended) return;
      s.ended = true;
      expireDedup(s, windowMs);
    } else {
      return;
    }
    advanceOrDrop(pair, run, out);
  }

  // --- events -------------------------------------------------------------------------------------

  function handle(pair: PairState, side: PairSide, msg: IncomingMessage): ProcessorOutput[] {
    const out: ProcessorOutput[] = [];
    const runId = msg.headers[HEADERS.run];
    const marker = msg.headers[HEADERS.marker];
    if (marker !== undefined) {
      // Control messages are never events: never forwarded, counted or dead-lettered.
      if (runId !== undefined) onControl(pair, side, runId, marker, msg, out);
      return out;
    }
    const seqRaw = msg.headers[HEADERS.seq];
    if (runId === undefined || seqRaw === undefined) {
      out.push(deadLetter(msg, 'foreign', 'no storesim.run/storesim.seq headers: not produced by a storesim engine', null));
      return out;
    }
    const seq = parseSeq(seqRaw);
    if (seq === null) {
      out.push(deadLetter(msg, 'foreign', `storesim.seq header is not a positive integer: ${JSON.stringify(seqRaw)}`, runId));
      return out;
    }
    const run = pair.runs.get(runId);
    if (run === undefined) {
      const ended = pair.endedRuns.find((r) => r.runId === runId);
      if (ended !== undefined && seq <= ended.seqHigh[side]) {
        out.push({ kind: 'redelivered', run: runId, seq });
      } else if (ended !== undefined) {
        out.push(deadLetter(msg, 'foreign', `run ${runId} has already ended on this partition`, runId));
      } else {
        out.push(deadLetter(msg, 'foreign', `no run_start read for run ${runId} on ${msg.topic} partition ${msg.partition}`, runId));
      }
      return out;
    }
    const s = run[side];
    if (!s.started) {
      out.push(deadLetter(msg, 'foreign', `no run_start read for run ${runId} on ${msg.topic} partition ${msg.partition}`, runId));
      return out;
    }
    if (seq <= s.seqHigh) {
      out.push({ kind: 'redelivered', run: runId, seq });
      return out;
    }
    s.seqHigh = seq;
    if (run.refused !== null || run.settings === null) {
      out.push(deadLetter(msg, 'foreign', run.refused ?? `run ${runId} has no settings`, runId));
      return out;
    }
    const settings = run.settings;

    let json: unknown;
    // The in-process bus may hand over the value's text: the same string the fatal decoder gives,
    // unless it starts with a byte-order mark (the decoder drops one), then it decodes the bytes.
    const given = messageText(msg);
    let text = given;
    try {
      if (text === undefined || text.charCodeAt(0) === 0xfeff) text = utf8.decode(msg.value);
      json = JSON.parse(text);
    } catch (e) {
      const why = e instanceof SyntaxError ? e.message : 'invalid UTF-8';
      out.push(deadLetter(msg, 'unparseable', `not JSON: ${why}`, runId));
      return out;
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      out.push(deadLetter(msg, 'unparseable', `JSON but not an object (${json === null ? 'null' : Array.isArray(json) ? 'array' : typeof json})`, runId));
      return out;
    }
    const obj = json as Record<string, unknown>;
    const parsed = side === 'foot' ? parseFootEvent(obj) : parseShelfEvent(obj);
    if (!parsed.ok) {
      out.push(deadLetter(msg, 'schema', parsed.reason, runId));
      return out;
    }
    const event = parsed.value;
    const tsMs = Date.parse(event.timestamp);
    // The text is the value's exact text (for the sink) unless the decoder dropped a byte-order mark
    // (text handed over by the in-process bus is exact: then its bytes are not read at all).
    const exactText = given === text || !(msg.value[0] === 0xef && msg.value[1] === 0xbb && msg.value[2] === 0xbf) ? text : undefined;

    // Judged on arrival against the partition's state before this event.
    const partitionTime = effectiveTime(s);
    const seenTs = s.dedup.get(event.event_id);
    const duplicate = seenTs !== undefined && !(partitionTime > seenTs + settings.dedup_window_ms);
    const late = tsMs < partitionTime - settings.grace_ms;
    if (!duplicate) {
      s.dedup.delete(event.event_id); // an expired record is replaced, at the back
      s.dedup.set(event.event_id, tsMs);
    }
    bumpTime(s, tsMs, settings.dedup_window_ms);

    if (duplicate) {
      out.push(deadLetter(msg, 'duplicate', `event_id ${event.event_id} already read on this partition`, runId));
    } else if (late) {
      out.push(deadLetter(msg, 'late',
        `timestamp ${event.timestamp} is older than partition time ${isoOrEnd(partitionTime)} minus grace ${settings.grace_ms} ms`, runId));
    } else if (event.event_type === 'entry') {
      acceptEntry(run, event, tsMs, msg, out, exactText);
    } else {
      const v = run.visits.get(event.visit_id);
      if (v !== undefined && v.entry !== null) applyToVisit(run, v, event, msg, out, exactText);
      else hold(run, event, side, tsMs, msg);
    }
    advanceOrDrop(pair, run, out);
    return out;
  }

  // --- loop helpers -------------------------------------------------------------------------------

  function pauseHint(pair: PairState): PairSide | null {
    // The oldest run is the one whose carts and held events are waiting; later runs queue behind it.
    const run = pair.runs.values().next().value;
    if (run === undefined) return null;
    const f = effectiveTime(run.foot);
    const sh = effectiveTime(run.shelf);
    if (f === sh) return null;
    const limit = PAUSE_AHEAD_MARKER_INTERVALS * (run.settings?.marker_interval_ms ?? DEFAULT_MARKER_INTERVAL_MS);
    if (f - sh > limit) return 'foot';
    if (sh - f > limit) return 'shelf';
    return null;
  }

  function pendingCounts(pair: PairState): PendingCounts {
    let carts = 0;
    let held = 0;
    let dedupIds = 0;
    for (const run of pair.runs.values()) {
      dedupIds += run.foot.dedup.size + run.shelf.dedup.size;
      for (const v of run.visits.values()) {
        if (v.entry !== null) carts++;
        held += v.held.length;
      }
    }
    return { runs: pair.runs.size, carts, held, dedupIds };
  }

  return { newPairState, handle, pauseHint, pendingCounts };
}
