/**
 * The store simulation: a discrete-event engine over one (time, sequence) heap, driven by a
 * simulated clock and seeded generators, emitting raw events, extra bad messages (data faults) and
 * watermark markers in simulated-time order (DESIGN.md "Events", "Faults made by the engine",
 * "Event time"). Pure: no I/O, no wall clock, no ambient randomness, no timers.
 *
 * Every heap entry makes at most one normal event, followed by its fault extras; messages wait in a
 * small pending queue so that `run` can stop after exactly `maxEvents`.
 *
 * Verdicts (what the processor must decide) follow from how each message is made:
 * - normal events are published at their own timestamp in time order: never late, never unknown
 *   (a shelf event is held at most until its entry, whose time is not after it), always accepted;
 * - fault shelf events for a visit (unknown_item, quantity) are stamped now, while the visit is in
 *   progress, so the processor knows the visit (or holds them until its entry) and judges them on
 *   the cart as the engine holds it;
 * - `late` goes out at timestamp + grace + marker interval + 1 s + 1 ms: by then a marker newer than
 *   timestamp + grace has reached every partition; `duplicate` goes out at most half the dedup window
 *   after its original, before the original's id can expire.
 */
import { resolveEngineConfig } from './config.js';
import type { ResolvedEngineConfig } from './config.js';
import { EventHeap } from './event-heap.js';
import { Floor } from './floor.js';
import { IsoClock } from './iso-time.js';
import { Rng, STREAM } from './random.js';
import { curveFactor } from './traffic-curve.js';
import { UuidV7 } from './uuid.js';
import { FAULT_KINDS, PAYMENT_METHODS, TOPICS } from './types.js';
import type {
  CustomerState, Engine, EngineCommand, EngineEvent, EngineMessage, EngineSnapshot, ExpectedCounts,
  ExpectedLine, ExpectedVisit, FaultKind, Fixtures, GridPoint, Layout, Ledger, RawTopic,
  SnapshotCart, SnapshotCustomer, Verdict, VisitStatus,
} from './types.js';

export interface CreateEngineOptions {
  fixtures: Omit<Fixtures, 'hash'> & { hash?: string };
  config: Parameters<typeof resolveEngineConfig>[0];
  /** Keep the full ledger (verdicts and ids per seq, every visit); default false (counts only). */
  recordLedger?: boolean;
}

// Heap entry kinds.
const K_ARRIVAL = 0;
const K_PICKUP = 1;
const K_PUTBACK = 2;
const K_AT_LANES = 3;
const K_SERVICE_END = 4;
const K_RENEGE = 5;
const K_EXIT = 6;
const K_PUBLISH = 7;

// Queue states of a visit.
const Q_NONE = 0;
const Q_WAITING = 1;
const Q_SERVING = 2;
const Q_DONE = 3;

/** Probability of a second unit when picking an item, and of a third given a second. */
const P_QTY2 = 0.15;
const P_QTY3 = 0.3;
/** Probability that an item on the list is not found (no pickup). */
const P_NOT_FOUND = 0.05;
/** Payment mix over PAYMENT_METHODS (card, cash, mobile, gift_card). */
const PAYMENT_CDF = [0.55, 0.7, 0.95, 1];
/** A customer counts as `entering` for this long after the door. */
const ENTERING_MS = 2000;
/** Safety bound on customers listed in a snapshot. */
const SNAPSHOT_MAX_CUSTOMERS = 2000;


class Visit {
  serial = 0;
  cust = 0;
  customerId = '';
  keyJson = '';
  visitId = '';
  /** `"store_id":…,"customer_id":…,"visit_id":…,"timestamp":"` for this visit's events. */
  part = '';
  entryMs = 0;
  entryIso = '';
  deadline = 0;
  state: CustomerState = 'entering';
  x0 = 0; y0 = 0; x1 = 0; y1 = 0; moveStart = 0; moveEnd = 0;
  list: number[] = [];
  listPos = 0;
  browseOnly = false;
  curItem = -1;
  curQty = 0;
  heldItem: number[] = [];
  heldQty: number[] = [];
  cartValue = 0;
  cartUnits = 0;
  lane = 0;
  laneIdx = -1;
  queueState = Q_NONE;
  queueJoinedMs = -1;
  serviceStartMs = -1;
  payment = -1;
  token = 0;
  activeIdx = -1;
}

/** A scheduled publication (late or duplicate). */
interface Publication {
  topic: RawTopic;
  key: string;
  value: string;
  eventId: string;
  verdict: Verdict;
  fault: number;
}

class Fifo {
  items: Visit[] = [];
  head = 0;
  waiting = 0;
  push(v: Visit): void { this.items.push(v); this.waiting++; }
  /** Next visit still waiting (reneged ones are skipped lazily). */
  shift(): Visit | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const v = items[this.head++]!;
      if (v.queueState === Q_WAITING) {
        if (this.head > 1024 && this.head * 2 > items.length) { this.items = items.slice(this.head); this.head = 0; }
        return v;
      }
    }
    this.items = [];
    this.head = 0;
    return undefined;
  }
}

interface Lane { lane: number; at: GridPoint; queuePts: GridPoint[]; busy: Visit | null; fifo: Fifo }

type Ref = Visit | Publication;

export function createEngine(opts: CreateEngineOptions): Engine {
  return new StoreEngine(opts);
}

class StoreEngine implements Engine {
  readonly config: ResolvedEngineConfig;
  private readonly record: boolean;
  private readonly layout: Layout;
  private readonly storeJson: string;

  private readonly rng: Rng;
  private readonly frng: Rng;
  private readonly ids = new UuidV7();
  private readonly iso = new IsoClock();
  private readonly heap = new EventHeap<Ref>();

  // Fixtures, indexed.
  private readonly itemIds: string[];
  private readonly itemIndex = new Map<string, number>();
  private readonly priceCents: number[];
  private readonly itemShelf: Int32Array;
  private readonly itemFrag: string[];
  private readonly stockable: number[];
  private readonly shelfAccess: GridPoint[];
  private readonly shelfIdJson: string[];
  private readonly customerIds: string[];
  private readonly customerJson: string[];
  private readonly inside: Uint16Array;
  private readonly doors: GridPoint[];
  private readonly doorJson: string[];
  private readonly lanes: Lane[];
  private readonly sharedFifo = new Fifo();
  private readonly checkoutPoint: GridPoint;
  private readonly floor: Floor;
  private readonly shelfField: (Int32Array | null)[];

  // Clock and counters.
  private now: number;
  private nextMarker: number;
  private steps = 0;
  private seq = 0;
  private isPaused = false;
  private arrivalGen = 0;
  private visitSerial = 0;
  /** Any fault rate above 0 (skips the per-event draws loop when none is). */
  private faultsOn: boolean;

  private readonly active: Visit[] = [];
  private pending: EngineEvent[] = [];
  private pendingFault: number[] = [];
  private pHead = 0;
  private pTail = 0;

  private accepted = 0;
  private readonly byCode: Partial<Record<Verdict, number>> = {};
  private readonly faultCounts: number[] = FAULT_KINDS.map(() => 0);
  private entries = 0;
  private exits = 0;
  private purchased = 0;
  private abandoned = 0;
  private leftEmpty = 0;
  private transactions = 0;

  private readonly verdicts: Verdict[] = [];
  private readonly eventIds: (string | null)[] = [];
  private readonly closedVisits: ExpectedVisit[] = [];

  constructor(opts: CreateEngineOptions) {
    const config = resolveEngineConfig(opts.config);
    this.config = config;
    this.record = opts.recordLedger === true;
    const f = opts.fixtures;
    const layout = f.layouts[config.layout];
    if (layout === undefined) {
      throw new Error(`engine config: unknown layout ${config.layout} (fixtures have: ${Object.keys(f.layouts).join(', ')})`);
    }
    if (f.customers.length === 0) throw new Error('fixtures: the customer pool is empty');
    if (layout.doors.length === 0) throw new Error(`layout ${layout.name}: no doors`);
    this.layout = layout;
    this.floor = new Floor(layout);
    this.storeJson = JSON.stringify(layout.store_id);

    this.rng = new Rng(config.seed, STREAM.behaviour);
    this.frng = new Rng(config.seed, STREAM.faults);

    this.itemIds = f.catalog.map((p) => p.item_id);
    this.priceCents = f.catalog.map((p) => p.price_cents);
    f.catalog.forEach((p, i) => { if (!this.itemIndex.has(p.item_id)) this.itemIndex.set(p.item_id, i); });
    this.itemShelf = new Int32Array(f.catalog.length).fill(-1);
    this.shelfAccess = layout.shelves.map((s) => s.access);
    this.shelfField = this.shelfAccess.map((a) => this.floor.field(a));
    this.shelfIdJson = layout.shelves.map((s) => JSON.stringify(s.shelf_id));
    layout.shelves.forEach((s, si) => {
      for (const id of s.item_ids) {
        const i = this.itemIndex.get(id);
        if (i !== undefined && this.itemShelf[i] === -1) this.itemShelf[i] = si;
      }
    });
    this.stockable = [];
    this.itemFrag = this.itemIds.map((id, i) => {
      const si = this.itemShelf[i]!;
      if (si < 0) return '';
      this.stockable.push(i);
      return '"shelf_id":' + this.shelfIdJson[si]! + ',"item_id":' + JSON.stringify(id) + ',"quantity":';
    });
    if (this.stockable.length === 0) throw new Error(`layout ${layout.name}: no shelf carries a catalog item`);

    this.customerIds = f.customers.map((c) => c.customer_id);
    this.customerJson = this.customerIds.map((id) => JSON.stringify(id));
    this.inside = new Uint16Array(this.customerIds.length);
    this.doors = layout.doors.map((d) => d.at);
    this.doorJson = layout.doors.map((d) => JSON.stringify(d.door_id));
    const sorted = [...layout.lanes].sort((a, b) => a.lane - b.lane);
    this.lanes = sorted.map((l) => ({
      lane: l.lane, at: l.at, queuePts: l.queue, busy: null,
      fifo: config.queueDiscipline === 'shared' ? this.sharedFifo : new Fifo(),
    }));
    if (this.lanes.length > 0) {
      // Customers head for the first lane's queue tail and pick their lane on arrival there.
      const l = this.lanes[0]!;
      this.checkoutPoint = l.queuePts[l.queuePts.length - 1] ?? l.at;
    } else {
      this.checkoutPoint = this.doors[0]!;
    }

    this.faultsOn = FAULT_KINDS.some((k) => config.faults[k] > 0);
    this.now = config.startMs;
    this.nextMarker = config.startMs;
    this.scheduleArrival(this.now);
  }

  // -------------------------------------------------------------------------------------------
  // Engine interface

  get nowMs(): number { return this.now; }
  get produced(): number { return this.seq; }
  get step(): number { return this.steps; }
  get paused(): boolean { return this.isPaused; }

  run(untilMs: number, maxEvents: number, emit: (m: EngineMessage) => void, untilStep = Infinity): number {
    if (this.isPaused) return 0;
    let n = 0;
    const heap = this.heap;
    const mi = this.config.markerIntervalMs;
    for (;;) {
      const pending = this.pending;
      while (this.pHead < this.pTail && n < maxEvents) {
        const ev = pending[this.pHead]!;
        const fk = this.pendingFault[this.pHead]!;
        this.pHead++;
        ev.seq = ++this.seq;
        if (ev.verdict === 'accepted') this.accepted++;
        else this.byCode[ev.verdict] = (this.byCode[ev.verdict] ?? 0) + 1;
        if (fk >= 0) this.faultCounts[fk]!++;
        if (this.record) { this.verdicts.push(ev.verdict); this.eventIds.push(ev.eventId); }
        n++;
        emit(ev);
      }
      // Drained: reuse the slots from the start (stale references are overwritten, never read).
      if (this.pHead === this.pTail) this.pHead = this.pTail = 0;
      if (n >= maxEvents) return n;
      if (this.steps >= untilStep) {
        // A live run applies a command between chunks, after its clock moved on to untilMs when
        // nothing was due before it; a replay stopping at that step moves the clock there too,
        // so the command takes effect at the same simulated instant.
        if (heap.peekTime() > untilMs) this.advanceClock(untilMs, emit);
        return n;
      }
      const t = heap.peekTime();
      if (t > untilMs || t === Infinity) break;
      if (this.nextMarker <= t) this.emitMarker(t, mi, emit);
      const e = heap.pop()!;
      this.now = t;
      this.steps++;
      const ref = e.ref;
      const kind = e.kind;
      const token = e.token;
      heap.release(e);
      this.process(kind, ref, token);
    }
    this.advanceClock(untilMs, emit);
    return n;
  }

  /** Moves the clock to `untilMs` with nothing due before it, emitting the markers it passes. */
  private advanceClock(untilMs: number, emit: (m: EngineMessage) => void): void {
    if (!Number.isFinite(untilMs) || untilMs <= this.now) return;
    const mi = this.config.markerIntervalMs;
    if (this.nextMarker <= untilMs) this.emitMarker(untilMs, mi, emit);
    this.now = untilMs;
  }

  /**
   * Emits the watermark of the last marker boundary at or before `t`. When the clock jumps over
   * several boundaries with nothing between them (a quiet night at warp max), one marker stands for
   * them all: partition times reach the same value before the next event, so every verdict is the
   * same (a late fault is published only after its boundary), and the wire carries a marker per
   * jump instead of a dozen per partition for every quiet minute.
   */
  private emitMarker(t: number, mi: number, emit: (m: EngineMessage) => void): void {
    const last = this.nextMarker + Math.floor((t - this.nextMarker) / mi) * mi;
    emit({ kind: 'watermark', atMs: last });
    this.nextMarker = last + mi;
  }

  apply(cmd: EngineCommand): void {
    switch (cmd.type) {
      case 'pause': this.isPaused = true; return;
      case 'resume': this.isPaused = false; return;
      case 'set_rate': {
        if (!(cmd.perMin >= 0) || !Number.isFinite(cmd.perMin)) throw new Error(`set_rate: rate must be >= 0, got ${cmd.perMin}`);
        this.config.ratePerMin = cmd.perMin;
        // Memoryless arrivals: redrawing the next candidate from now is exact.
        this.arrivalGen++;
        this.scheduleArrival(this.now);
        return;
      }
      case 'set_fault': {
        if (!(FAULT_KINDS as readonly string[]).includes(cmd.fault)) throw new Error(`set_fault: unknown fault ${String(cmd.fault)}`);
        if (!(cmd.rate >= 0 && cmd.rate <= 1)) throw new Error(`set_fault: rate must be between 0 and 1, got ${cmd.rate}`);
        this.config.faults[cmd.fault] = cmd.rate;
        this.faultsOn = FAULT_KINDS.some((k) => this.config.faults[k] > 0);
        return;
      }
    }
  }

  expected(): ExpectedCounts {
    return {
      produced: this.seq,
      accepted: this.accepted,
      rejected: this.seq - this.accepted,
      rejectedByCode: { ...this.byCode },
      visits: this.entries,
      visitsByStatus: {
        purchased: this.purchased,
        abandoned: this.abandoned,
        left_empty: this.leftEmpty,
        open_at_end: this.active.length,
      },
      transactions: this.transactions,
    };
  }

  ledger(): Ledger {
    if (!this.record) throw new Error('engine: the full ledger is kept only with recordLedger: true');
    const open = [...this.active].sort((a, b) => a.serial - b.serial).map((v) => this.expectedVisit(v, 'open_at_end', null));
    return { verdicts: this.verdicts, eventIds: this.eventIds, visits: [...this.closedVisits, ...open] };
  }

  snapshot(): EngineSnapshot {
    const now = this.now;
    const customers: SnapshotCustomer[] = [];
    const queuePos = new Map<Visit, GridPoint>();
    for (const l of this.lanes) {
      if (l.fifo === this.sharedFifo && l !== this.lanes[0]) continue;
      let k = 0;
      const items = l.fifo.items;
      for (let i = l.fifo.head; i < items.length; i++) {
        const v = items[i]!;
        if (v.queueState !== Q_WAITING) continue;
        // queue[0] is where the customer being served stands; the line forms behind.
        queuePos.set(v, l.queuePts[Math.min(k + 1, l.queuePts.length - 1)] ?? l.at);
        k++;
      }
    }
    const top: SnapshotCart[] = [];
    for (const v of this.active) {
      if (customers.length < SNAPSHOT_MAX_CUSTOMERS) {
        let x: number, y: number;
        let state = v.state;
        const q = queuePos.get(v);
        if (v.queueState === Q_WAITING && q !== undefined) { x = q.x; y = q.y; }
        else if (v.queueState === Q_SERVING && v.laneIdx >= 0) {
          const l = this.lanes[v.laneIdx]!;
          const a = l.queuePts[0] ?? l.at;
          x = a.x; y = a.y;
        }
        else {
          [x, y] = this.position(v, now);
          if (state === 'walking' && now >= v.moveEnd && v.curItem >= 0) state = 'browsing';
          if (state === 'queueing' && now < v.moveEnd) state = 'walking';
        }
        if (now - v.entryMs < ENTERING_MS && (state === 'walking' || state === 'entering')) state = 'entering';
        customers.push({ customer_id: v.customerId, x, y, state });
      }
      if (v.cartUnits > 0) {
        if (top.length < 10 || v.cartValue > top[top.length - 1]!.value_cents) {
          const c: SnapshotCart = { customer_id: v.customerId, items: v.cartUnits, value_cents: v.cartValue, age_ms: now - v.entryMs };
          let i = top.length;
          top.push(c);
          while (i > 0 && top[i - 1]!.value_cents < c.value_cents) { top[i] = top[i - 1]!; i--; }
          top[i] = c;
          if (top.length > 10) top.pop();
        }
      }
    }
    const faults = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, this.faultCounts[i]!])) as Record<FaultKind, number>;
    return {
      simTimeMs: now,
      paused: this.isPaused,
      ratePerMin: this.config.ratePerMin,
      faults: { ...this.config.faults },
      customers,
      carts: top,
      lanes: this.lanes.map((l) => ({ lane: l.lane, queue: l.fifo.waiting, serving: l.busy !== null })),
      counters: {
        produced: this.seq,
        entries: this.entries,
        exits: this.exits,
        purchased: this.purchased,
        abandoned: this.abandoned,
        leftEmpty: this.leftEmpty,
        faults,
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // The store

  private process(kind: number, ref: Ref | null, token: number): void {
    switch (kind) {
      case K_ARRIVAL:
        if (token === this.arrivalGen) this.arrival();
        return;
      case K_PUBLISH: {
        const p = ref as Publication;
        this.pushPending(p.topic, p.key, p.value, p.eventId, p.verdict, p.fault);
        return;
      }
    }
    const v = ref as Visit;
    switch (kind) {
      case K_PICKUP: this.atShelf(v); return;
      case K_PUTBACK: {
        const item = v.curItem;
        const q = v.curQty;
        this.hold(v, item, -q);
        this.shelfEvent(v, 'putback', item, q);
        this.nextShelf(v, this.now);
        return;
      }
      case K_AT_LANES: this.joinQueue(v); return;
      case K_SERVICE_END: {
        const lane = this.lanes[v.laneIdx]!;
        lane.busy = null;
        v.queueState = Q_DONE;
        const u = this.rng.float();
        let pm = 0;
        while (pm < PAYMENT_CDF.length - 1 && u >= PAYMENT_CDF[pm]!) pm++;
        v.payment = pm;
        this.startServices(lane);
        this.walkToDoor(v, this.now);
        return;
      }
      case K_RENEGE:
        if (token === v.token && v.queueState === Q_WAITING) {
          v.queueState = Q_DONE;
          this.lanes[v.laneIdx]!.fifo.waiting--;
          this.walkToDoor(v, this.now);
        }
        return;
      case K_EXIT:
        if (v.queueState === Q_WAITING) {
          // Forced out at the session cap while waiting: gave up.
          v.queueState = Q_DONE;
          this.lanes[v.laneIdx]!.fifo.waiting--;
          v.token++;
        }
        this.exit(v);
        return;
    }
  }

  private scheduleArrival(from: number): void {
    const rate = this.config.ratePerMin;
    if (!(rate > 0)) return;
    const t = from + Math.max(1, Math.round(this.rng.exponential(60_000 / rate)));
    this.heap.push(t, K_ARRIVAL, null, this.arrivalGen);
  }

  private arrival(): void {
    const now = this.now;
    this.scheduleArrival(now);
    // Thinning: candidates come at the peak rate, kept with probability curve(t).
    if (this.config.trafficCurve !== 'flat' && this.rng.float() >= curveFactor(this.config.trafficCurve, now)) return;
    const rng = this.rng;
    const nc = this.customerIds.length;
    let cust = rng.int(nc);
    for (let tries = 0; tries < 4 && this.inside[cust]! > 0; tries++) cust = rng.int(nc);
    this.inside[cust]!++;
    const v = new Visit();
    v.serial = ++this.visitSerial;
    v.cust = cust;
    v.customerId = this.customerIds[cust]!;
    v.keyJson = this.customerJson[cust]!;
    v.visitId = this.ids.make(now, rng);
    v.part = '"store_id":' + this.storeJson + ',"customer_id":' + v.keyJson + ',"visit_id":"' + v.visitId + '","timestamp":"';
    v.entryMs = now;
    v.entryIso = this.iso.format(now);
    v.deadline = now + this.config.maxSessionAgeSec * 1000;
    const door = rng.int(this.doors.length);
    const at = this.doors[door]!;
    v.x0 = v.x1 = at.x;
    v.y0 = v.y1 = at.y;
    v.moveStart = v.moveEnd = now;
    this.planList(v);
    v.activeIdx = this.active.length;
    this.active.push(v);
    this.entries++;

    const id = this.ids.make(now, rng);
    const value = '{"event_id":"' + id + '","event_type":"entry",' + v.part + v.entryIso + '","schema_version":1,"door":' + this.doorJson[door]! + '}';
    this.normal(TOPICS.foot, v, value, id);
    this.nextShelf(v, now);
  }

  /** The shopping list: distinct stocked items in a greedy nearest-shelf order from the door. */
  private planList(v: Visit): void {
    const rng = this.rng;
    const stock = this.stockable;
    let n = Math.round(rng.sample(this.config.listSize));
    if (!(n >= 0)) n = 0;
    n = Math.min(n, Math.ceil(stock.length / 2));
    const list = v.list;
    if (n === 0) {
      v.browseOnly = true;
      list.push(stock[rng.int(stock.length)]!);
      return;
    }
    while (list.length < n) {
      const it = stock[rng.int(stock.length)]!;
      if (!list.includes(it)) list.push(it);
    }
    let x = v.x0, y = v.y0;
    for (let i = 0; i < list.length - 1; i++) {
      let best = i, bestD = Infinity;
      for (let j = i; j < list.length; j++) {
        const si = this.itemShelf[list[j]!]!;
        const d = this.floor.distance(x, y, this.shelfAccess[si]!, this.shelfField[si]!);
        if (d < bestD) { bestD = d; best = j; }
      }
      const tmp = list[i]!; list[i] = list[best]!; list[best] = tmp;
      const a = this.shelfAccess[this.itemShelf[list[i]!]!]!;
      x = a.x; y = a.y;
    }
  }

  /** Next shelf on the list, or the checkout / the door when the list is done. */
  private nextShelf(v: Visit, t: number): void {
    if (v.listPos < v.list.length) {
      const item = v.list[v.listPos++]!;
      const si = this.itemShelf[item]!;
      const arrive = this.moveTo(v, this.shelfAccess[si]!, t, 'walking', this.shelfField[si]!);
      v.curItem = item;
      this.schedule(v, arrive + Math.round(this.rng.sample(this.config.dwellSec) * 1000), K_PICKUP);
      return;
    }
    v.curItem = -1;
    if (v.cartUnits === 0 || this.lanes.length === 0 || this.rng.chance(this.config.abandonProb)) {
      this.walkToDoor(v, t);
      return;
    }
    const arrive = this.moveTo(v, this.checkoutPoint, t, 'queueing');
    this.schedule(v, arrive, K_AT_LANES);
  }

  private atShelf(v: Visit): void {
    const rng = this.rng;
    const item = v.curItem;
    if (v.browseOnly || rng.chance(P_NOT_FOUND)) {
      this.nextShelf(v, this.now);
      return;
    }
    let q = 1;
    if (rng.chance(P_QTY2)) { q = 2; if (rng.chance(P_QTY3)) q = 3; }
    this.hold(v, item, q);
    this.shelfEvent(v, 'pickup', item, q);
    if (rng.chance(this.config.putbackProb)) {
      v.curQty = 1 + rng.int(q);
      this.schedule(v, this.now + 2000 + rng.int(13_000), K_PUTBACK);
      return;
    }
    this.nextShelf(v, this.now);
  }

  private hold(v: Visit, item: number, dq: number): void {
    const idx = v.heldItem.indexOf(item);
    if (idx >= 0) v.heldQty[idx]! += dq;
    else { v.heldItem.push(item); v.heldQty.push(dq); }
    v.cartUnits += dq;
    v.cartValue += dq * this.priceCents[item]!;
  }

  private held(v: Visit, item: number): number {
    const idx = v.heldItem.indexOf(item);
    return idx >= 0 ? v.heldQty[idx]! : 0;
  }

  private shelfEvent(v: Visit, type: 'pickup' | 'putback', item: number, q: number): void {
    const now = this.now;
    const id = this.ids.make(now, this.rng);
    const value = '{"event_id":"' + id + '","event_type":"' + type + '",' + v.part + this.iso.format(now) +
      '","schema_version":1,' + this.itemFrag[item]! + q + '}';
    this.normal(TOPICS.shelf, v, value, id);
  }

  private joinQueue(v: Visit): void {
    const now = this.now;
    let li = 0;
    if (this.config.queueDiscipline === 'shortest') {
      let best = Infinity;
      for (let i = 0; i < this.lanes.length; i++) {
        const l = this.lanes[i]!;
        const load = l.fifo.waiting + (l.busy !== null ? 1 : 0);
        if (load < best) { best = load; li = i; }
      }
    }
    const lane = this.lanes[li]!;
    v.laneIdx = li;
    v.lane = lane.lane;
    v.queueState = Q_WAITING;
    v.queueJoinedMs = now;
    v.state = 'queueing';
    const p = lane.queuePts[lane.queuePts.length - 1] ?? lane.at;
    v.x0 = v.x1 = p.x; v.y0 = v.y1 = p.y; v.moveStart = v.moveEnd = now;
    lane.fifo.push(v);
    this.startServices(lane);
    if (v.queueState === Q_WAITING) {
      const pat = this.config.renegePatienceSec;
      const t = pat === null ? v.deadline : Math.min(v.deadline, now + Math.round(this.rng.sample(pat) * 1000));
      if (t < Infinity) this.heap.push(t, K_RENEGE, v, v.token);
    }
  }

  /** Starts service on free lanes: `lane`'s own queue, or (shared) the lowest free lanes. */
  private startServices(lane: Lane): void {
    if (this.config.queueDiscipline === 'shared') {
      for (const l of this.lanes) {
        if (l.busy !== null) continue;
        const v = this.sharedFifo.shift();
        if (v === undefined) return;
        this.startService(l, v);
      }
      return;
    }
    if (lane.busy !== null) return;
    const v = lane.fifo.shift();
    if (v !== undefined) this.startService(lane, v);
  }

  private startService(lane: Lane, v: Visit): void {
    const now = this.now;
    lane.fifo.waiting--;
    lane.busy = v;
    v.queueState = Q_SERVING;
    v.token++;
    v.laneIdx = this.lanes.indexOf(lane);
    v.lane = lane.lane;
    v.serviceStartMs = now;
    v.state = 'paying';
    this.schedule(v, now + Math.round(this.rng.sample(this.config.serviceTimeSec) * 1000), K_SERVICE_END);
  }

  private walkToDoor(v: Visit, t: number): void {
    const [x, y] = this.position(v, t);
    let best = 0, bestD = Infinity;
    for (let i = 0; i < this.doors.length; i++) {
      const dist = this.floor.distance(x, y, this.doors[i]!);
      if (dist < bestD) { bestD = dist; best = i; }
    }
    const arrive = this.moveTo(v, this.doors[best]!, t, 'leaving');
    this.schedule(v, arrive, K_EXIT);
  }

  private exit(v: Visit): void {
    const now = this.now;
    const iso = this.iso;
    const ts = iso.format(now);
    const id = this.ids.make(now, this.rng);
    const queued = v.queueJoinedMs >= 0;
    const paid = v.payment >= 0;
    const pm = paid ? PAYMENT_METHODS[v.payment]! : null;
    const value = '{"event_id":"' + id + '","event_type":"exit",' + v.part + ts + '","schema_version":1,"entry_time":"' +
      v.entryIso + '","exit_time":"' + ts + '","lane":' + (queued ? String(v.lane) : 'null') +
      ',"queue_joined_at":' + (queued ? '"' + iso.format(v.queueJoinedMs) + '"' : 'null') +
      ',"service_started_at":' + (paid ? '"' + iso.format(v.serviceStartMs) + '"' : 'null') +
      ',"payment_method":' + (paid ? '"' + pm! + '"' : 'null') + '}';
    // Close the visit before fault draws: it is no longer in progress.
    const last = this.active.pop()!;
    if (last !== v) { this.active[v.activeIdx] = last; last.activeIdx = v.activeIdx; }
    v.activeIdx = -1;
    this.inside[v.cust]!--;
    this.exits++;
    let status: VisitStatus;
    if (paid) { status = 'purchased'; this.purchased++; this.transactions++; }
    else if (v.cartUnits > 0) { status = 'abandoned'; this.abandoned++; }
    else { status = 'left_empty'; this.leftEmpty++; if (this.config.forceCheckoutIfEmpty) this.transactions++; }
    if (this.record) this.closedVisits.push(this.expectedVisit(v, status, id));
    this.normal(TOPICS.foot, v, value, id);
  }

  private expectedVisit(v: Visit, status: VisitStatus, exitEventId: string | null): ExpectedVisit {
    const lines: ExpectedLine[] = [];
    for (let i = 0; i < v.heldItem.length; i++) {
      const q = v.heldQty[i]!;
      if (q > 0) lines.push({ item_id: this.itemIds[v.heldItem[i]!]!, quantity: q });
    }
    lines.sort((a, b) => (a.item_id < b.item_id ? -1 : a.item_id > b.item_id ? 1 : 0));
    const closed = exitEventId !== null;
    const paid = closed && v.payment >= 0;
    return {
      visit_id: v.visitId,
      customer_id: v.customerId,
      status,
      lines,
      exitEventId,
      lane: closed && v.queueJoinedMs >= 0 ? v.lane : null,
      payment_method: paid ? PAYMENT_METHODS[v.payment]! : null,
      transaction: status === 'purchased' || (status === 'left_empty' && this.config.forceCheckoutIfEmpty),
      entryMs: v.entryMs,
      exitMs: closed ? this.now : null,
    };
  }

  /** Schedules a visit's next step, never past its session cap (DESIGN.md, MAX_SESSION_AGE_SEC). */
  private schedule(v: Visit, t: number, kind: number): void {
    if (t > v.deadline) {
      t = v.deadline;
      // Shopping cut short: straight out (abandoned or left_empty). Service and exits end at the cap.
      if (kind === K_PICKUP || kind === K_PUTBACK || kind === K_AT_LANES) { kind = K_EXIT; v.state = 'leaving'; }
    }
    this.heap.push(t, kind, v, v.token);
  }

  /** Starts a walk to `to` along the floor's shortest path; returns the arrival time. */
  private moveTo(v: Visit, to: GridPoint, t: number, state: CustomerState, field?: Int32Array | null): number {
    let x = v.x1, y = v.y1;
    if (t < v.moveEnd) [x, y] = this.position(v, t);
    v.x0 = x; v.y0 = y; v.x1 = to.x; v.y1 = to.y;
    v.moveStart = t;
    v.moveEnd = t + this.floor.distance(x, y, to, field) * this.config.walkMsPerCell;
    v.state = state;
    return v.moveEnd;
  }

  private position(v: Visit, t: number): [number, number] {
    if (t >= v.moveEnd || v.moveEnd <= v.moveStart) return [v.x1, v.y1];
    if (t <= v.moveStart) return [v.x0, v.y0];
    const total = (v.moveEnd - v.moveStart) / Math.max(1, this.config.walkMsPerCell);
    const d = Math.floor(((t - v.moveStart) / (v.moveEnd - v.moveStart)) * total);
    return this.floor.along(v.x0, v.y0, { x: v.x1, y: v.y1 }, d);
  }

  // -------------------------------------------------------------------------------------------
  // Emission and data faults

  private pushPending(topic: RawTopic, key: string, value: string, eventId: string | null, verdict: Verdict, fault: number): void {
    const i = this.pTail++;
    const ev: EngineEvent = { kind: 'event', seq: 0, topic, key, value, atMs: this.now, verdict, eventId };
    if (i < this.pending.length) { this.pending[i] = ev; this.pendingFault[i] = fault; }
    else { this.pending.push(ev); this.pendingFault.push(fault); }
  }

  /** A normal event, then (per fault kind, with its rate) one extra bad message. */
  private normal(topic: RawTopic, v: Visit, value: string, eventId: string): void {
    this.pushPending(topic, v.customerId, value, eventId, 'accepted', -1);
    if (!this.faultsOn) return;
    const rates = this.config.faults;
    const frng = this.frng;
    for (let k = 0; k < FAULT_KINDS.length; k++) {
      const r = rates[FAULT_KINDS[k]!];
      if (r > 0 && frng.float() < r) this.fault(k, topic, v, value, eventId);
    }
  }

  /** The visit a shelf fault is about: the trigger's own when still in progress, else any in progress. */
  private faultTarget(v: Visit): Visit | null {
    if (v.activeIdx >= 0) return v;
    const n = this.active.length;
    return n === 0 ? null : this.active[this.frng.int(n)]!;
  }

  private fault(k: number, topic: RawTopic, v: Visit, value: string, eventId: string): void {
    const now = this.now;
    const frng = this.frng;
    const kind = FAULT_KINDS[k]!;
    switch (kind) {
      case 'schema': {
        const o = JSON.parse(value) as Record<string, unknown>;
        const id = this.ids.make(now, frng);
        o.event_id = id;
        switch (frng.int(4)) {
          case 0: delete o.visit_id; break;
          case 1: o.timestamp = now; break;
          case 2: o.schema_version = '1'; break;
          default: o.customer_id = 1000 + frng.int(9000); break;
        }
        this.pushPending(topic, v.customerId, JSON.stringify(o), id, 'schema', k);
        return;
      }
      case 'unparseable': {
        const o = JSON.parse(value) as Record<string, unknown>;
        o.event_id = this.ids.make(now, frng);
        const s = JSON.stringify(o);
        // A strict prefix of a flat JSON object never parses: its only closing brace is the last byte.
        const bytes = frng.chance(0.5) ? s.slice(0, 1 + frng.int(s.length - 1)) : 'not json{' + s.slice(1, 1 + frng.int(s.length - 2));
        this.pushPending(topic, v.customerId, bytes, null, 'unparseable', k);
        return;
      }
      case 'unknown_item': {
        const t = this.faultTarget(v);
        if (t === null) return;
        let itemId: string;
        do itemId = 'X' + String(100000 + frng.int(900000)); while (this.itemIndex.has(itemId));
        const shelf = this.shelfIdJson[frng.int(this.shelfIdJson.length)]!;
        const id = this.ids.make(now, frng);
        const s = '{"event_id":"' + id + '","event_type":"pickup",' + t.part + this.iso.format(now) +
          '","schema_version":1,"shelf_id":' + shelf + ',"item_id":' + JSON.stringify(itemId) + ',"quantity":1}';
        this.pushPending(TOPICS.shelf, t.customerId, s, id, 'unknown_item', k);
        return;
      }
      case 'quantity': {
        const t = this.faultTarget(v);
        if (t === null) return;
        let type: string, item: number, q: number;
        if (frng.chance(0.5)) {
          type = 'pickup';
          item = this.stockable[frng.int(this.stockable.length)]!;
          q = -frng.int(3);
        } else {
          type = 'putback';
          const heldIdx: number[] = [];
          for (let i = 0; i < t.heldItem.length; i++) if (t.heldQty[i]! > 0) heldIdx.push(i);
          if (heldIdx.length > 0) {
            const i = heldIdx[frng.int(heldIdx.length)]!;
            item = t.heldItem[i]!;
          } else {
            item = this.stockable[frng.int(this.stockable.length)]!;
          }
          q = this.held(t, item) + 1 + frng.int(2);
        }
        const id = this.ids.make(now, frng);
        const s = '{"event_id":"' + id + '","event_type":"' + type + '",' + t.part + this.iso.format(now) +
          '","schema_version":1,' + this.itemFrag[item]! + q + '}';
        this.pushPending(TOPICS.shelf, t.customerId, s, id, 'quantity', k);
        return;
      }
      case 'unknown_customer': {
        const c = frng.int(this.customerIds.length);
        const visitId = this.ids.make(now, frng);
        const item = this.stockable[frng.int(this.stockable.length)]!;
        const id = this.ids.make(now, frng);
        const s = '{"event_id":"' + id + '","event_type":"pickup","store_id":' + this.storeJson + ',"customer_id":' +
          this.customerJson[c]! + ',"visit_id":"' + visitId + '","timestamp":"' + this.iso.format(now) +
          '","schema_version":1,' + this.itemFrag[item]! + '1}';
        this.pushPending(TOPICS.shelf, this.customerIds[c]!, s, id, 'unknown_customer', k);
        return;
      }
      case 'late': {
        const t = this.faultTarget(v);
        if (t === null) return;
        const item = this.stockable[frng.int(this.stockable.length)]!;
        const id = this.ids.make(now, frng);
        const s = '{"event_id":"' + id + '","event_type":"pickup",' + t.part + this.iso.format(now) +
          '","schema_version":1,' + this.itemFrag[item]! + '1}';
        const c = this.config;
        const at = now + c.graceMs + c.markerIntervalMs + 1000 + 1;
        const p: Publication = { topic: TOPICS.shelf, key: t.customerId, value: s, eventId: id, verdict: 'late', fault: k };
        this.heap.push(at, K_PUBLISH, p);
        return;
      }
      case 'duplicate': {
        const at = now + 1 + frng.int(Math.floor(this.config.dedupWindowMs / 2));
        const p: Publication = { topic, key: v.customerId, value, eventId, verdict: 'duplicate', fault: k };
        this.heap.push(at, K_PUBLISH, p);
        return;
      }
    }
  }
}

export { defaultEngineConfig, DEFAULT_START_MS } from './config.js';
export type { EngineConfigOverrides, ResolvedEngineConfig } from './config.js';
