/**
 * A believable dashboard state for any layout, made without an engine: for tests and for a quick
 * look at the dashboard (scripts/ui-demo.tsx). Deterministic apart from `nowMs` (fault durations).
 */
import type { CustomerState, GridPoint, Layout, SnapshotCart, SnapshotCustomer } from '../engine/types.js';
import { DATA_FAULTS, INFRA_FAULTS, type DashboardState, type DeadLetter, type FaultStatus, type TopicStats } from './dashboard-state.js';

/** A small store for tests and demos when no fixture is at hand (the shape of fixtures/layouts/*.json). */
export const SAMPLE_LAYOUT: Layout = {
  name: 'sample-shop',
  store_id: 'store-sample-001',
  title: 'Sample Shop',
  width: 24,
  height: 8,
  plan: [
    '########################',
    '#SSSSSS#SSSSSSS#SSSSSSS#',
    '#......................#',
    '#..SSSSSSSS..SSSSSSS..S#',
    '#.....................S#',
    '#.LQQQQ...LQQQQ.......S#',
    '#......................#',
    '##################D#####',
  ],
  doors: [{ door_id: 'D1', at: { x: 18, y: 7 } }],
  shelves: [
    { shelf_id: 'S1', access: { x: 3, y: 2 }, cells: [1, 2, 3, 4, 5, 6].map((x) => ({ x, y: 1 })), item_ids: ['SKU-0001'] },
    { shelf_id: 'S2', access: { x: 11, y: 2 }, cells: [8, 9, 10, 11, 12, 13, 14].map((x) => ({ x, y: 1 })), item_ids: ['SKU-0002'] },
    { shelf_id: 'S3', access: { x: 6, y: 4 }, cells: [3, 4, 5, 6, 7, 8, 9, 10].map((x) => ({ x, y: 3 })), item_ids: ['SKU-0003'] },
  ],
  lanes: [
    { lane: 1, at: { x: 2, y: 5 }, queue: [3, 4, 5, 6].map((x) => ({ x, y: 5 })) },
    { lane: 2, at: { x: 10, y: 5 }, queue: [11, 12, 13, 14].map((x) => ({ x, y: 5 })) },
  ],
};

export const DEMO_START_MS = Date.UTC(2026, 10, 23, 8, 12, 34);

/** A deterministic generator (mulberry32) so demo states are the same on every call. */
export function demoRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cells a customer can stand on (floor, queue spaces, doors). */
export function walkableCells(layout: Layout): GridPoint[] {
  const cells: GridPoint[] = [];
  layout.plan.forEach((row, y) => {
    [...row].forEach((ch, x) => {
      if (ch === '.' || ch === 'Q') cells.push({ x, y });
    });
  });
  return cells;
}

function customerId(r: () => number): string {
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
  return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`;
}

export function demoCustomers(layout: Layout, r: () => number): SnapshotCustomer[] {
  const out: SnapshotCustomer[] = [];
  const add = (p: GridPoint, state: CustomerState) => out.push({ customer_id: customerId(r), x: p.x, y: p.y, state });
  layout.lanes.forEach((lane, i) => {
    const queued = i === 0 ? Math.min(3, lane.queue.length) : Math.min(1, lane.queue.length);
    lane.queue.slice(0, queued).forEach((p, j) => add(p, j === 0 ? 'paying' : 'queueing'));
  });
  layout.shelves.slice(0, 4).forEach((s) => add(s.access, 'browsing'));
  const first = layout.shelves[0];
  if (first) add(first.access, 'browsing'); // two at one shelf: drawn as a digit
  const door = layout.doors[0];
  if (door) add({ x: door.at.x, y: door.at.y - 1 }, 'entering');
  const floor = walkableCells(layout).filter((p) => layout.plan[p.y]?.[p.x] === '.');
  for (let i = 0; i < 6 && floor.length > 0; i++) {
    const p = floor[Math.floor(r() * floor.length)];
    if (p) add(p, 'walking');
  }
  return out;
}

function demoTopics(r: () => number): TopicStats[] {
  const base: [string, number, number][] = [
    ['foot_traffic', 4.2, 18_240],
    ['shelf_events', 21.7, 96_512],
    ['clean_events', 25.1, 113_904],
    ['pos_transactions', 1.9, 8_233],
    ['visits', 2.1, 9_020],
    ['rejected_events', 0.8, 837],
  ];
  return base.map(([topic, rate, total]) => ({
    topic,
    ratePerSec: rate,
    total,
    lag: [
      { group: 'storesim-processor', lag: topic === 'foot_traffic' || topic === 'shelf_events' ? Math.floor(r() * 40) : 0 },
      { group: 'storesim-sink', lag: topic === 'foot_traffic' || topic === 'shelf_events' ? 0 : Math.floor(r() * 180) },
    ].filter((g) => g.lag > 0 || topic !== 'rejected_events'),
    history: Array.from({ length: 30 }, (_, i) => Math.max(0, rate * (0.6 + 0.5 * Math.sin(i / 3) + 0.3 * r()))),
  }));
}

const REASONS: [string, string, string][] = [
  ['shelf_events', 'quantity', 'putback of 3 × SKU-0007 but the visit holds 1'],
  ['shelf_events', 'unknown_item', 'item_id SKU-9931 is not in the catalog'],
  ['foot_traffic', 'schema', 'door: expected string, received number'],
  ['shelf_events', 'duplicate', 'event_id 0193a1c2-77f0-7c2e-8d4b-21e9a0b3c4d5 seen at offset 1822'],
  ['shelf_events', 'late', 'timestamp 08:09:58 is 42 s behind partition time minus grace'],
  ['foot_traffic', 'unparseable', 'Unexpected token } in JSON at position 57'],
  ['shelf_events', 'unknown_customer', 'visit 0193a1c2-9a01-7f00-b2d3-000000000042 has no entry by the watermark'],
  ['shelf_events', 'schema', 'quantity: expected integer, received "two"'],
];

function demoRejected(nowSimMs: number): { latest: DeadLetter[]; byCode: Record<string, number> } {
  const latest = Array.from({ length: 40 }, (_, i) => {
    const [topic, code, reason] = REASONS[i % REASONS.length] ?? REASONS[0]!;
    return { at: new Date(nowSimMs - (40 - i) * 7_300).toISOString(), topic, code, reason };
  });
  return { latest, byCode: { schema: 412, quantity: 163, unknown_item: 118, duplicate: 77, late: 39, unparseable: 21, unknown_customer: 7 } };
}

function demoCarts(customers: readonly SnapshotCustomer[], r: () => number): SnapshotCart[] {
  return customers
    .filter((c) => c.state !== 'entering')
    .map((c) => {
      const items = 1 + Math.floor(r() * 14);
      return { customer_id: c.customer_id, items, value_cents: items * (150 + Math.floor(r() * 900)), age_ms: Math.floor(60_000 + r() * 900_000) };
    })
    .sort((a, b) => b.value_cents - a.value_cents)
    .slice(0, 10);
}

function demoFaults(nowMs: number): FaultStatus[] {
  return [
    ...DATA_FAULTS.map((name): FaultStatus =>
      name === 'schema' ? { name, kind: 'data', active: true, rate: 0.01, sinceMs: nowMs - 83_000 }
        : name === 'late' ? { name, kind: 'data', active: true, rate: 0.005, sinceMs: nowMs - 12_000 }
          : { name, kind: 'data', active: false }),
    ...INFRA_FAULTS.map((name): FaultStatus =>
      name === 'broker_slow' ? { name, kind: 'infra', active: true, sinceMs: nowMs - 41_000, detail: '+250 ms per request' } : { name, kind: 'infra', active: false }),
  ];
}

export interface DemoOptions {
  /** Wall clock for fault durations (default Date.now()). */
  nowMs?: number;
  seed?: number;
}

export function demoState(layout: Layout, { nowMs = Date.now(), seed = 7 }: DemoOptions = {}): DashboardState {
  const r = demoRandom(seed);
  const customers = demoCustomers(layout, r);
  const lanes = layout.lanes.map((l) => {
    const onLane = customers.filter((c) => l.queue.some((q) => q.x === c.x && q.y === c.y));
    return { lane: l.lane, queue: onLane.filter((c) => c.state === 'queueing').length, serving: onLane.some((c) => c.state === 'paying') };
  });
  return {
    header: {
      mode: { bus: 'memory', db: 'sqlite ./storesim.db' },
      simTimeMs: DEMO_START_MS,
      warp: 10,
      ratePerMin: 12,
      paused: false,
      runId: '0193a1c2-4f00-7a3e-9c1d-5e6f7a8b9c0d',
    },
    floor: { layout, customers, lanes },
    carts: demoCarts(customers, r),
    topics: demoTopics(r),
    topicsStaleS: null,
    rejected: demoRejected(DEMO_START_MS),
    kpis: { revenueCents: 1_284_355, transactions: 412, conversion: 0.734, avgBasketCents: 3_117, avgBasketItems: 4.6, fromDatabase: false, latencyP50Ms: 18, latencyP99Ms: 142, sinkHere: true },
    faults: demoFaults(nowMs),
    status: {},
  };
}
