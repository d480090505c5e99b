/**
 * What the dashboard renders, and the store it reads it from (STYLE.md, State into the terminal).
 * The composition root builds a `DashboardState` from the engine snapshot, the bus and the database
 * a few times a second and hands it to `publish`; components read narrow slices of the store.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Layout, SnapshotCart, SnapshotCustomer, SnapshotLane } from '../engine/types.js';

export interface HeaderState {
  /** Where events go and land, already masked (no passwords): e.g. `{ bus: 'memory', db: 'sqlite ./storesim.db' }`. */
  mode: { bus: string; db: string };
  /** Simulated clock, epoch ms (shown in UTC). */
  simTimeMs: number;
  warp: number | 'max';
  /** Arrivals per simulated minute. */
  ratePerMin: number;
  paused: boolean;
  runId: string;
}

export interface FloorState {
  layout: Layout;
  customers: SnapshotCustomer[];
  lanes: SnapshotLane[];
}

export interface TopicLag { group: string; lag: number }

export interface TopicStats {
  topic: string;
  /** Messages per wall second over the last interval. */
  ratePerSec: number;
  total: number;
  lag: TopicLag[];
  /** The last rates, oldest first, at most `HISTORY_LENGTH` (see `pushHistory`). */
  history: number[];
}

export interface DeadLetter {
  /** When it was rejected: an ISO-8601 time (the `rejected_at` header). */
  at: string;
  topic: string;
  code: string;
  reason: string;
}

export interface RejectedState {
  /** Newest last, at most `REJECTED_RING` (see `appendRejected`). */
  latest: DeadLetter[];
  byCode: Record<string, number>;
}

export interface Kpis {
  revenueCents: number;
  transactions: number;
  /** Visits that bought something / visits, 0..1. */
  conversion: number;
  avgBasketCents: number;
  avgBasketItems: number;
  /** True when this process's processor is not the whole run's (none, or one owning only some pairs): the figures are the run's rows in the database. */
  fromDatabase: boolean;
  /**
   * Publish → commit over the last ~10 s; null when nothing was committed in it (an outage, before
   * the first commit) or when this process runs no sink (`sinkHere` false: `--role`).
   */
  latencyP50Ms: number | null;
  latencyP99Ms: number | null;
  sinkHere: boolean;
}

export type FaultClass = 'data' | 'infra';

export interface FaultStatus {
  /** A data fault's kind (`schema`, …) or an infrastructure slot (`broker_down`, …). */
  name: string;
  kind: FaultClass;
  active: boolean;
  /** Data faults: extra bad messages per normal event (0.01 = 1 %). */
  rate?: number;
  /** Wall-clock epoch ms at which it became active. */
  sinceMs?: number;
  detail?: string;
}

export interface StatusLine {
  message?: string;
  /** True while a graceful stop drains the pipeline. */
  draining?: boolean;
}

export interface DashboardState {
  header: HeaderState;
  floor: FloorState;
  /** Largest carts first. */
  carts: SnapshotCart[];
  topics: TopicStats[];
  /** Seconds since the topics' offsets last answered, once that is more than a few (a broker away): their figures are that old. Null while they answer. */
  topicsStaleS: number | null;
  rejected: RejectedState;
  kpis: Kpis;
  faults: FaultStatus[];
  status: StatusLine;
}

export type DashboardStore = StoreApi<DashboardState>;

/** Bound on `rejected.latest`. */
export const REJECTED_RING = 50;
/** Bound on a topic's rate `history` (one sparkline). */
export const HISTORY_LENGTH = 30;

export const DATA_FAULTS = ['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate'] as const;
export const INFRA_FAULTS = ['broker_down', 'broker_slow', 'db_down', 'db_slow', 'processor_crash', 'sink_crash'] as const;

/** A fresh store per dashboard (a factory, never a module singleton). */
export function createDashboardStore(initial: DashboardState): DashboardStore {
  return createStore<DashboardState>()(() => initial);
}

/**
 * Replaces the state with `next`, keeping the previous object for every slice that did not change
 * (deep-equal), so components whose slice is unchanged do not re-render.
 */
export function publish(store: DashboardStore, next: DashboardState): void {
  const prev = store.getState();
  const merged: DashboardState = {
    header: keep(prev.header, next.header),
    floor: {
      layout: keep(prev.floor.layout, next.floor.layout),
      customers: keep(prev.floor.customers, next.floor.customers),
      lanes: keep(prev.floor.lanes, next.floor.lanes),
    },
    carts: keep(prev.carts, next.carts),
    topics: keep(prev.topics, next.topics),
    topicsStaleS: next.topicsStaleS,
    rejected: keep(prev.rejected, next.rejected),
    kpis: keep(prev.kpis, next.kpis),
    faults: keep(prev.faults, next.faults),
    status: keep(prev.status, next.status),
  };
  if (merged.floor.layout === prev.floor.layout && merged.floor.customers === prev.floor.customers && merged.floor.lanes === prev.floor.lanes) {
    merged.floor = prev.floor;
  }
  const changed = (Object.keys(merged) as (keyof DashboardState)[]).some((k) => merged[k] !== prev[k]);
  if (changed) store.setState(merged, true);
}

export interface ThrottledPublisher {
  /** Offers a state; only the latest offered one is published, at most once per interval. */
  offer(next: DashboardState): void;
  /** Publishes the pending state now, if any. */
  flush(): void;
  /** Cancels the timer; a pending state is dropped. */
  stop(): void;
}

/**
 * Coalesces states offered as often as the caller likes (per engine chunk, say) into at most one
 * `publish` per `intervalMs` (default 250 ms): the first offer goes out at once, later ones at the
 * end of the interval, the newest winning.
 */
export function createThrottledPublisher(store: DashboardStore, intervalMs = 250): ThrottledPublisher {
  let pending: DashboardState | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = (): void => {
    if (pending === undefined) {
      timer = undefined;
      return;
    }
    const next = pending;
    pending = undefined;
    publish(store, next);
    timer = setTimeout(tick, intervalMs);
  };
  return {
    offer(next) {
      pending = next;
      if (timer === undefined) tick();
    },
    flush() {
      if (pending !== undefined) {
        publish(store, pending);
        pending = undefined;
      }
    },
    stop() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      pending = undefined;
    },
  };
}

/** `latest` with `items` appended (newest last), keeping at most `max`. */
export function appendRejected(latest: readonly DeadLetter[], items: readonly DeadLetter[], max = REJECTED_RING): DeadLetter[] {
  if (items.length === 0) return latest.slice(-max);
  return [...latest, ...items].slice(-max);
}

/** `history` with `rate` appended, keeping at most `max` values. */
export function pushHistory(history: readonly number[], rate: number, max = HISTORY_LENGTH): number[] {
  return [...history, rate].slice(-max);
}

/** A state with nothing happening yet, for the first frame. */
export function emptyDashboardState(layout: Layout, header: Partial<HeaderState> = {}): DashboardState {
  return {
    header: {
      mode: { bus: 'memory', db: 'sqlite' },
      simTimeMs: Date.UTC(2026, 10, 23, 8, 0, 0),
      warp: 1,
      ratePerMin: 0,
      paused: false,
      runId: '',
      ...header,
    },
    floor: { layout, customers: [], lanes: layout.lanes.map((l) => ({ lane: l.lane, queue: 0, serving: false })) },
    carts: [],
    topics: [],
    topicsStaleS: null,
    rejected: { latest: [], byCode: {} },
    kpis: { revenueCents: 0, transactions: 0, conversion: 0, avgBasketCents: 0, avgBasketItems: 0, fromDatabase: false, latencyP50Ms: null, latencyP99Ms: null, sinkHere: true },
    faults: [
      ...DATA_FAULTS.map((name) => ({ name, kind: 'data' as const, active: false })),
      ...INFRA_FAULTS.map((name) => ({ name, kind: 'infra' as const, active: false })),
    ],
    status: {},
  };
}

function keep<T>(prev: T, next: T): T {
  return deepEqual(prev, next) ? prev : next;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
