/**
 * The contracts every part of storesim shares: raw events, fault names and rejection codes, the
 * fixtures' shape, engine configuration, commands, the messages the engine emits, its ledger and its
 * live snapshot. Pure types and constants only (DESIGN.md "Events", "Faults", "Identity").
 */

export const SCHEMA_VERSION = 1;

/** Logical topic names; the configured prefix is added at the edge (src/kafka). */
export const TOPICS = {
  foot: 'foot_traffic',
  shelf: 'shelf_events',
  clean: 'clean_events',
  pos: 'pos_transactions',
  visits: 'visits',
  rejected: 'rejected_events',
} as const;
export type RawTopic = typeof TOPICS.foot | typeof TOPICS.shelf;

// ---------------------------------------------------------------------------------------------
// Raw events (JSON on foot_traffic and shelf_events; key = customer_id)

interface EventBase {
  /** UUIDv7 from simulated time and the seeded generator. */
  event_id: string;
  store_id: string;
  customer_id: string;
  /** One per store visit; a customer may come back later in the same run. */
  visit_id: string;
  /** ISO-8601 UTC, simulated time, millisecond precision (`2026-11-23T08:00:00.000Z`). */
  timestamp: string;
  schema_version: number;
}

export interface EntryEvent extends EventBase {
  event_type: 'entry';
  door: string;
}

/** The exit event is a whole session (DESIGN.md, Events). */
export interface ExitEvent extends EventBase {
  event_type: 'exit';
  entry_time: string;
  exit_time: string;
  /** Lane number (1-based); null when the customer never queued. */
  lane: number | null;
  queue_joined_at: string | null;
  service_started_at: string | null;
  payment_method: PaymentMethod | null;
}

export interface ShelfEvent extends EventBase {
  event_type: 'pickup' | 'putback';
  shelf_id: string;
  item_id: string;
  quantity: number;
}

export type RawEvent = EntryEvent | ExitEvent | ShelfEvent;
export type PaymentMethod = 'card' | 'cash' | 'mobile' | 'gift_card';
export const PAYMENT_METHODS: readonly PaymentMethod[] = ['card', 'cash', 'mobile', 'gift_card'];

// ---------------------------------------------------------------------------------------------
// Faults and verdicts

/** Data-fault names are the rejection codes the processor gives (DESIGN.md, Faults). */
export const FAULT_KINDS = ['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];
export const FAULT_ALIASES: Readonly<Record<string, FaultKind>> = { invalid: 'schema', poison: 'unparseable' };

/** Rejection codes in precedence order (highest first). `foreign` is never made by the engine. */
export const REJECT_CODES = ['foreign', 'unparseable', 'schema', 'duplicate', 'late', 'unknown_customer', 'unknown_item', 'quantity'] as const;
export type RejectCode = (typeof REJECT_CODES)[number];

/** What the processor must decide for a message: accepted, or rejected with a code. */
export type Verdict = 'accepted' | Exclude<RejectCode, 'foreign'>;

export type FaultRates = Record<FaultKind, number>;
export const NO_FAULTS: FaultRates = {
  schema: 0, unparseable: 0, unknown_item: 0, quantity: 0, unknown_customer: 0, late: 0, duplicate: 0,
};

// ---------------------------------------------------------------------------------------------
// Fixtures (loaded from fixtures/ outside the engine and handed in as plain data)

export interface Product {
  item_id: string;
  name: string;
  category: string;
  /** List price in integer cents. */
  price_cents: number;
}

/** A weekly discount: `rate` 0.10 = 10 %, for `item_id` in ISO week `week` (`2026-W48`). */
export interface Discount {
  item_id: string;
  week: string;
  rate: number;
}

export interface Customer {
  customer_id: string;
  name: string;
  segment: string;
  loyalty: boolean;
}

export interface GridPoint { x: number; y: number }

export interface Shelf {
  shelf_id: string;
  /** Where a customer stands to reach this shelf (a walkable cell next to it). */
  access: GridPoint;
  /** The shelf's own cells, drawn on the floor. */
  cells: GridPoint[];
  item_ids: string[];
}

export interface Door { door_id: string; at: GridPoint }
export interface LaneFixture { lane: number; at: GridPoint; /** where the queue forms, nearest first */ queue: GridPoint[] }

export interface Layout {
  name: string;
  store_id: string;
  title: string;
  width: number;
  height: number;
  /** Rows of the floor plan as text: `#` wall, `.` floor, `S` shelf, `D` door, `L` lane, `Q` queue space. */
  plan: string[];
  doors: Door[];
  shelves: Shelf[];
  lanes: LaneFixture[];
}

export interface Fixtures {
  catalog: Product[];
  discounts: Discount[];
  customers: Customer[];
  layouts: Record<string, Layout>;
  /** sha256 of the fixture files' bytes, computed by the loader (run-start message, DESIGN.md). */
  hash: string;
}

// ---------------------------------------------------------------------------------------------
// Engine configuration and commands

export type Distribution =
  | { kind: 'exponential'; mean: number }
  | { kind: 'fixed'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'lognormal'; mean: number; sd: number };

export interface EngineConfig {
  seed: number;
  /** Simulated start, epoch ms (default 2026-11-23T08:00:00Z). */
  startMs: number;
  layout: string;
  /** Customer arrivals per simulated minute at the curve's peak (flat curve: always). */
  ratePerMin: number;
  trafficCurve: 'flat' | 'opening-hours';
  /** Number of distinct items a customer intends to buy. */
  listSize: Distribution;
  /** Service time at a lane, simulated seconds. */
  serviceTimeSec: Distribution;
  /** `shortest`: each customer joins the shortest lane queue; `shared`: one queue feeds every lane (M/M/c). */
  queueDiscipline: 'shortest' | 'shared';
  faults: FaultRates;
  /** Event-time grace window, ms (default 30 000). */
  graceMs: number;
  /** Watermark marker interval, simulated ms (default 10 000). */
  markerIntervalMs: number;
  /** Duplicate-detection window, simulated ms (default 120 000). */
  dedupWindowMs: number;
  /** Cap on a visit's length, simulated seconds (default 10 800, as in the seed POS service). */
  maxSessionAgeSec: number;
  /** A left_empty visit also yields an empty transaction (seed POS service; default false). */
  forceCheckoutIfEmpty: boolean;
  // Behaviour knobs (optional; `defaultEngineConfig` fills them, the engine resolves missing ones):
  /** Patience in a lane queue before giving up, simulated s; null = never reneges (default exponential mean 480). */
  renegePatienceSec?: Distribution | null;
  /** Walking pace, simulated ms per grid cell (default 700). */
  walkMsPerCell?: number;
  /** Time at a shelf before taking the item, simulated s (default exponential mean 20). */
  dwellSec?: Distribution;
  /** Probability that a customer with items leaves without queueing: abandoned (default 0.04). */
  abandonProb?: number;
  /** Probability of putting back part of what was just picked up (default 0.1). */
  putbackProb?: number;
}

export type EngineCommand =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'set_rate'; perMin: number }
  | { type: 'set_fault'; fault: FaultKind; rate: number };

// ---------------------------------------------------------------------------------------------
// What the engine emits

/** A raw message for the bus: `value` is the exact payload (poison included), `seq` is 1..N. */
export interface EngineEvent {
  kind: 'event';
  seq: number;
  topic: RawTopic;
  key: string;
  value: string;
  /** Simulated time at which it is published, epoch ms. */
  atMs: number;
  /** The verdict the processor must give it (the ledger). */
  verdict: Verdict;
  /** event_id in the payload when it has one (not for unparseable bytes). */
  eventId: string | null;
}

/** A watermark marker: goes to every partition of both raw topics; never counted. */
export interface EngineWatermark {
  kind: 'watermark';
  atMs: number;
}

export type EngineMessage = EngineEvent | EngineWatermark;

// ---------------------------------------------------------------------------------------------
// Ledger: what the engine meant, for verify

export type VisitStatus = 'purchased' | 'abandoned' | 'left_empty' | 'open_at_end';

export interface ExpectedLine { item_id: string; quantity: number }

export interface ExpectedVisit {
  visit_id: string;
  customer_id: string;
  status: VisitStatus;
  /** Net accepted quantities per item, sorted by item_id, quantity > 0 only. */
  lines: ExpectedLine[];
  /** event_id of the exit event; a transaction's id derives from it. Null for open_at_end. */
  exitEventId: string | null;
  lane: number | null;
  payment_method: PaymentMethod | null;
  /** True when the visit yields a transaction (purchased, or left_empty with forced checkout). */
  transaction: boolean;
  entryMs: number;
  exitMs: number | null;
}

// ---------------------------------------------------------------------------------------------
// Live snapshot for the dashboard and headless lines (cheap: built a few times a second)

export type CustomerState = 'entering' | 'walking' | 'browsing' | 'queueing' | 'paying' | 'leaving';

export interface SnapshotCustomer { customer_id: string; x: number; y: number; state: CustomerState }
export interface SnapshotCart { customer_id: string; items: number; value_cents: number; age_ms: number }
export interface SnapshotLane { lane: number; queue: number; serving: boolean }

export interface EngineSnapshot {
  simTimeMs: number;
  paused: boolean;
  ratePerMin: number;
  faults: FaultRates;
  customers: SnapshotCustomer[];
  /** Largest carts first, at most 10. */
  carts: SnapshotCart[];
  lanes: SnapshotLane[];
  counters: {
    produced: number;
    entries: number;
    exits: number;
    purchased: number;
    abandoned: number;
    leftEmpty: number;
    /** Extra bad messages made, by fault kind. */
    faults: Record<FaultKind, number>;
  };
}

// ---------------------------------------------------------------------------------------------
// The engine's handle (implemented by createEngine in src/engine/engine.ts)

export interface Engine {
  readonly config: Readonly<EngineConfig>;
  /** Current simulated time, epoch ms. */
  readonly nowMs: number;
  /** Raw messages emitted so far (= the last seq). */
  readonly produced: number;
  /** Engine step index (number of queue entries processed); the command log records it. */
  readonly step: number;
  readonly paused: boolean;
  /**
   * Runs the simulation up to simulated time `untilMs` (inclusive), emitting at most `maxEvents`
   * raw events (markers do not count) to `emit`, in order. Returns the number of raw events emitted.
   * While paused it emits nothing and the clock does not move. With `untilStep`, it also stops once
   * `step` reaches it (replaying a command log: a command is applied at the step it was logged at).
   * Messages made by one step but not yet emitted (maxEvents reached) go out first on the next call.
   */
  run(untilMs: number, maxEvents: number, emit: (m: EngineMessage) => void, untilStep?: number): number;
  /** Applies a command at the current step (commands never come from timers inside the engine). */
  apply(cmd: EngineCommand): void;
  snapshot(): EngineSnapshot;
  /** Expected outcome counts so far (always kept, O(1) memory): what the drain waits for. */
  expected(): ExpectedCounts;
  /**
   * The full ledger, kept only when created with `recordLedger: true` (verify, tests, `--events N`
   * runs); a live endless run keeps counts only, so memory stays flat.
   */
  ledger(): Ledger;
}

export interface ExpectedCounts {
  produced: number;
  accepted: number;
  rejected: number;
  rejectedByCode: Partial<Record<Verdict, number>>;
  /** Visits started (entries emitted). */
  visits: number;
  /** Visits closed with each status so far, open ones counted as open_at_end. */
  visitsByStatus: Record<VisitStatus, number>;
  /** Transactions expected (purchased visits, plus forced empty checkouts). */
  transactions: number;
}

export interface Ledger {
  /** Verdict per seq: verdicts[seq - 1]. */
  verdicts: readonly Verdict[];
  /** event_id per seq (null for unparseable bytes and schema faults that dropped it). */
  eventIds: readonly (string | null)[];
  /**
   * Every visit that has started, with its expected outcome: closed visits as they ended, visits
   * still in the store as `open_at_end` (what they become when the run stops now).
   */
  visits: ExpectedVisit[];
}
