import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from './engine.js';
import type { EngineConfigOverrides } from './config.js';
import { judge } from './reference-judge.test-helper.js';
import { testFixtures } from './test-fixtures.js';
import { FAULT_KINDS, NO_FAULTS } from './types.js';
import type { Engine, EngineEvent, EngineMessage, FaultKind, Fixtures } from './types.js';

const fixtures = testFixtures();

function collect(engine: Engine, maxEvents: number, chunk = maxEvents): EngineMessage[] {
  const out: EngineMessage[] = [];
  let n = 0;
  while (n < maxEvents) {
    const got = engine.run(Infinity, Math.min(chunk, maxEvents - n), (m) => out.push(m));
    if (got === 0) break;
    n += got;
  }
  return out;
}

function make(overrides: EngineConfigOverrides = {}, f: Omit<Fixtures, 'hash'> = fixtures, recordLedger = true): Engine {
  return createEngine({ fixtures: f, config: defaultEngineConfig(overrides), recordLedger });
}

/** The bytes `simulate` would print (one line per raw message) plus markers and verdicts. */
function streamHash(ms: readonly EngineMessage[]): string {
  const h = createHash('sha256');
  for (const m of ms) {
    if (m.kind === 'watermark') h.update(`M ${m.atMs}\n`);
    else h.update(`${m.seq} ${m.topic} ${m.key} ${m.atMs} ${m.verdict} ${m.value}\n`);
  }
  return h.digest('hex');
}

const events = (ms: readonly EngineMessage[]): EngineEvent[] => ms.filter((m): m is EngineEvent => m.kind === 'event');

const ALL_FAULTS: Record<FaultKind, number> = {
  schema: 0.02, unparseable: 0.02, unknown_item: 0.02, quantity: 0.02, unknown_customer: 0.02, late: 0.02, duplicate: 0.02,
};

describe('determinism', () => {
  it('replays a seed byte for byte, whatever the chunking of run()', () => {
    const a = collect(make({ seed: 11, faults: ALL_FAULTS }), 20_000);
    const b = collect(make({ seed: 11, faults: ALL_FAULTS }), 20_000, 777);
    expect(events(a)).toHaveLength(20_000);
    expect(streamHash(b)).toBe(streamHash(a));
  });

  it('different seeds give different streams', () => {
    expect(streamHash(collect(make({ seed: 1 }), 2_000))).not.toBe(streamHash(collect(make({ seed: 2 }), 2_000)));
  });

  it('fault rates change only the extra messages: the normal-event subsequence is identical', () => {
    const clean = events(collect(make({ seed: 5 }), 30_000));
    const faulty = events(collect(make({ seed: 5, faults: ALL_FAULTS }), 37_000));
    const normal = faulty.filter((e) => e.verdict === 'accepted').map((e) => e.value);
    expect(normal.length).toBeGreaterThan(30_000);
    expect(normal.slice(0, 30_000)).toEqual(clean.map((e) => e.value));
  });

  it('seq runs 1..N over raw events; markers carry none, sit on marker boundaries, and one stands for every boundary crossed at once', () => {
    const e = make({ seed: 3 });
    const ms = collect(e, 5_000);
    const evs = events(ms);
    evs.forEach((ev, i) => expect(ev.seq).toBe(i + 1));
    const marks = ms.filter((m) => m.kind === 'watermark').map((m) => m.atMs);
    expect(ms[0]!.kind).toBe('watermark');
    for (let i = 0; i < marks.length; i++) {
      expect((marks[i]! - e.config.startMs) % 10_000).toBe(0);
      if (i > 0) expect(marks[i]!).toBeGreaterThan(marks[i - 1]!);
    }
    // Between two consecutive markers more than one interval apart, no event was emitted at a
    // boundary in between: the clock jumped over them, and the later marker covers them all.
    let prevMarker = -Infinity;
    for (const m of ms) {
      if (m.kind === 'watermark') { prevMarker = m.atMs; continue; }
      expect(m.atMs - prevMarker).toBeLessThan(10_000);
    }
    expect(e.produced).toBe(5_000);
  });
});

describe('the stream', () => {
  const eng = make({ seed: 21, trafficCurve: 'flat', ratePerMin: 4 });
  const ms = collect(eng, 40_000);
  const evs = events(ms);
  const parsed = evs.map((e) => JSON.parse(e.value) as Record<string, unknown>);

  it('is in simulated-time order, with each marker before any event of its instant', () => {
    let last = -Infinity;
    let lastMarker = -Infinity;
    for (const m of ms) {
      expect(m.atMs).toBeGreaterThanOrEqual(last);
      if (m.kind === 'watermark') { lastMarker = m.atMs; } else {
        expect(Date.parse((JSON.parse(m.value) as { timestamp: string }).timestamp)).toBe(m.atMs);
        // the marker for this instant (if any) is already out
        expect(lastMarker).toBeGreaterThan(m.atMs - 10_000);
      }
      last = m.atMs;
    }
  });

  it('uses the DESIGN.md field names in a fixed order, UUIDv7 ids and ISO times', () => {
    const uuid7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    const common = ['event_id', 'event_type', 'store_id', 'customer_id', 'visit_id', 'timestamp', 'schema_version'];
    const own: Record<string, string[]> = {
      entry: ['door'],
      exit: ['entry_time', 'exit_time', 'lane', 'queue_joined_at', 'service_started_at', 'payment_method'],
      pickup: ['shelf_id', 'item_id', 'quantity'],
      putback: ['shelf_id', 'item_id', 'quantity'],
    };
    const ids = new Set<string>();
    parsed.forEach((o, i) => {
      expect(Object.keys(o)).toEqual([...common, ...own[o.event_type as string]!]);
      expect(o.event_id).toMatch(uuid7);
      expect(o.visit_id).toMatch(uuid7);
      expect(o.store_id).toBe('store-corner-shop');
      expect(evs[i]!.key).toBe(o.customer_id);
      expect(evs[i]!.eventId).toBe(o.event_id);
      expect(evs[i]!.topic).toBe(o.event_type === 'entry' || o.event_type === 'exit' ? 'foot_traffic' : 'shelf_events');
      // the id's 48-bit time is the event time
      expect(parseInt((o.event_id as string).replace('-', '').slice(0, 12), 16)).toBe(evs[i]!.atMs);
      expect(ids.has(o.event_id as string)).toBe(false);
      ids.add(o.event_id as string);
    });
  });

  it('keeps visits coherent: entry first, shelf events inside, putbacks within holdings, exit as a whole session', () => {
    const open = new Map<string, { entry: number; cart: Map<string, number>; customer: string }>();
    const closed = new Set<string>();
    const statuses = { purchased: 0, abandoned: 0, left_empty: 0, gaveUp: 0, multi: 0 };
    for (const o of parsed) {
      const vid = o.visit_id as string;
      const ts = Date.parse(o.timestamp as string);
      if (o.event_type === 'entry') {
        expect(open.has(vid) || closed.has(vid)).toBe(false);
        open.set(vid, { entry: ts, cart: new Map(), customer: o.customer_id as string });
        continue;
      }
      const v = open.get(vid);
      expect(v, `event for a visit not in progress: ${JSON.stringify(o)}`).toBeDefined();
      expect(v!.customer).toBe(o.customer_id);
      if (o.event_type === 'pickup' || o.event_type === 'putback') {
        const q = o.quantity as number;
        expect(q).toBeGreaterThan(0);
        if (q > 1) statuses.multi++;
        const held = v!.cart.get(o.item_id as string) ?? 0;
        if (o.event_type === 'putback') expect(q).toBeLessThanOrEqual(held);
        v!.cart.set(o.item_id as string, held + (o.event_type === 'pickup' ? q : -q));
        continue;
      }
      // exit
      expect(Date.parse(o.entry_time as string)).toBe(v!.entry);
      expect(o.exit_time).toBe(o.timestamp);
      expect(ts - v!.entry).toBeLessThanOrEqual(10_800_000);
      const units = [...v!.cart.values()].reduce((a, b) => a + b, 0);
      if (o.lane === null) {
        expect([o.queue_joined_at, o.service_started_at, o.payment_method]).toEqual([null, null, null]);
        if (units > 0) statuses.abandoned++; else statuses.left_empty++;
      } else {
        expect(units).toBeGreaterThan(0); // never an empty cart at a lane
        const joined = Date.parse(o.queue_joined_at as string);
        expect(joined).toBeGreaterThanOrEqual(v!.entry);
        if (o.service_started_at === null) {
          expect(o.payment_method).toBeNull();
          statuses.gaveUp++;
        } else {
          expect(Date.parse(o.service_started_at as string)).toBeGreaterThanOrEqual(joined);
          expect(Date.parse(o.service_started_at as string)).toBeLessThanOrEqual(ts);
          expect(['card', 'cash', 'mobile', 'gift_card']).toContain(o.payment_method);
          statuses.purchased++;
        }
      }
      open.delete(vid);
      closed.add(vid);
    }
    // every kind of ending happens in a long run
    expect(statuses.purchased).toBeGreaterThan(100);
    expect(statuses.abandoned).toBeGreaterThan(5);
    expect(statuses.left_empty).toBeGreaterThan(5);
    expect(statuses.multi).toBeGreaterThan(100);
    expect(parsed.some((o) => o.event_type === 'putback')).toBe(true);
  });

  it('customers come back: a customer has several visits', () => {
    const perCustomer = new Map<string, Set<string>>();
    for (const o of parsed) {
      const s = perCustomer.get(o.customer_id as string) ?? new Set();
      s.add(o.visit_id as string);
      perCustomer.set(o.customer_id as string, s);
    }
    expect(Math.max(...[...perCustomer.values()].map((s) => s.size))).toBeGreaterThan(1);
  });

  it('the ledger agrees with the stream and with expected()', () => {
    const led = eng.ledger();
    const exp = eng.expected();
    expect(led.verdicts).toHaveLength(40_000);
    expect(exp.produced).toBe(40_000);
    expect(exp.accepted).toBe(40_000);
    expect(led.eventIds).toEqual(evs.map((e) => e.eventId));
    const j = judge(ms, { partitions: 3, graceMs: 30_000, dedupWindowMs: 120_000, catalog: new Set(fixtures.catalog.map((p) => p.item_id)), interleaveSeed: 9 });
    expect(led.visits.length).toBe(j.visits.size);
    expect(exp.visits).toBe(led.visits.length);
    for (const v of led.visits) {
      const jv = j.visits.get(v.visit_id)!;
      expect({ status: v.status, lines: v.lines }).toEqual(jv);
      expect(v.transaction).toBe(v.status === 'purchased');
    }
    const byStatus = { purchased: 0, abandoned: 0, left_empty: 0, open_at_end: 0 };
    for (const v of led.visits) byStatus[v.status]++;
    expect(exp.visitsByStatus).toEqual(byStatus);
    expect(exp.transactions).toBe(byStatus.purchased);
  });
});

describe('data faults', () => {
  const N = 60_000;
  const rate = 0.01;
  const eng = make({ seed: 8, trafficCurve: 'flat', ratePerMin: 5, faults: { ...NO_FAULTS, ...Object.fromEntries(FAULT_KINDS.map((k) => [k, rate])) } });
  const ms = collect(eng, N);
  const evs = events(ms);
  const normalCount = evs.filter((e) => e.verdict === 'accepted').length;

  it('each kind appears at its configured rate (binomial, 4 sigma)', () => {
    // Scheduled ones (late, duplicate) still in the heap at the end were not sent: allow for a few.
    const sigma = Math.sqrt(normalCount * rate * (1 - rate));
    for (const k of FAULT_KINDS) {
      const got = evs.filter((e) => e.verdict === k).length;
      expect(Math.abs(got - normalCount * rate), `${k}: ${got} vs ${normalCount * rate}`).toBeLessThan(4 * sigma + 5);
    }
    expect(eng.snapshot().counters.faults).toEqual(Object.fromEntries(FAULT_KINDS.map((k) => [k, evs.filter((e) => e.verdict === k).length])));
  });

  it('every verdict is what a processor following DESIGN.md decides, at any partition count and interleaving', () => {
    const catalog = new Set(fixtures.catalog.map((p) => p.item_id));
    const led = eng.ledger();
    for (const [partitions, seed] of [[1, null], [1, 3], [4, 5], [16, 7]] as const) {
      const j = judge(ms, { partitions, graceMs: 30_000, dedupWindowMs: 120_000, catalog, interleaveSeed: seed });
      const wrong: string[] = [];
      for (const e of evs) {
        const v = j.verdicts.get(e.seq);
        if (v !== e.verdict) wrong.push(`#${e.seq} engine ${e.verdict} judge ${String(v)}: ${e.value}`);
      }
      expect(wrong.slice(0, 5), `partitions ${partitions}`).toEqual([]);
      // carts and statuses too: faults never change them
      for (const v of led.visits) expect({ status: v.status, lines: v.lines }).toEqual(j.visits.get(v.visit_id));
    }
  });

  it('corrupted messages have fresh ids; duplicates repeat a normal event within half the dedup window', () => {
    const byId = new Map<string, EngineEvent>();
    for (const e of evs) {
      if (e.verdict === 'duplicate') {
        const orig = byId.get(e.eventId!)!;
        expect(orig.verdict).toBe('accepted');
        expect(e.value).toBe(orig.value);
        expect(e.key).toBe(orig.key);
        expect(e.topic).toBe(orig.topic);
        expect(e.atMs - orig.atMs).toBeGreaterThan(0);
        expect(e.atMs - orig.atMs).toBeLessThanOrEqual(60_000);
        continue;
      }
      if (e.eventId !== null) {
        expect(byId.has(e.eventId)).toBe(false);
        byId.set(e.eventId, e);
      }
      if (e.verdict === 'unparseable') {
        expect(() => JSON.parse(e.value) as unknown).toThrow();
        expect(e.value).not.toContain('\n');
        expect(e.eventId).toBeNull();
      }
      if (e.verdict === 'late') {
        const ts = Date.parse((JSON.parse(e.value) as { timestamp: string }).timestamp);
        expect(e.atMs).toBeGreaterThan(ts + 30_000 + 10_000 + 1000);
      }
    }
  });

  it('the ledger counts match the stream', () => {
    const exp = eng.expected();
    expect(exp.produced).toBe(N);
    expect(exp.accepted).toBe(normalCount);
    expect(exp.rejected).toBe(N - normalCount);
    for (const k of FAULT_KINDS) expect(exp.rejectedByCode[k] ?? 0).toBe(evs.filter((e) => e.verdict === k).length);
    expect(eng.ledger().verdicts).toEqual(evs.map((e) => e.verdict));
  });

  it('a rate of 0 makes none of that kind', () => {
    for (const only of FAULT_KINDS) {
      const e = make({ seed: 4, trafficCurve: 'flat', faults: { ...NO_FAULTS, [only]: 0.05 } });
      const got = events(collect(e, 5_000));
      const kinds = new Set(got.map((x) => x.verdict));
      expect([...kinds].sort()).toEqual(['accepted', only].sort());
    }
  });
});

describe('ledger edge cases', () => {
  it('a left_empty visit with forced checkout yields a transaction; open visits are open_at_end', () => {
    const e = make({ seed: 2, forceCheckoutIfEmpty: true, trafficCurve: 'flat' });
    collect(e, 20_000);
    const led = e.ledger();
    const empty = led.visits.filter((v) => v.status === 'left_empty');
    expect(empty.length).toBeGreaterThan(0);
    for (const v of empty) { expect(v.transaction).toBe(true); expect(v.lines).toEqual([]); }
    const open = led.visits.filter((v) => v.status === 'open_at_end');
    expect(open.length).toBeGreaterThan(0);
    for (const v of open) { expect(v.exitEventId).toBeNull(); expect(v.exitMs).toBeNull(); expect(v.transaction).toBe(false); }
    const exp = e.expected();
    expect(exp.transactions).toBe(led.visits.filter((v) => v.transaction).length);
  });

  it('caps a visit at maxSessionAgeSec', () => {
    const e = make({ seed: 6, trafficCurve: 'flat', ratePerMin: 12, maxSessionAgeSec: 120 });
    const evs = events(collect(e, 20_000)).map((x) => JSON.parse(x.value) as Record<string, string>);
    const exits = evs.filter((o) => o.event_type === 'exit');
    expect(exits.length).toBeGreaterThan(100);
    for (const o of exits) expect(Date.parse(o.exit_time!) - Date.parse(o.entry_time!)).toBeLessThanOrEqual(120_000);
    expect(exits.some((o) => Date.parse(o.exit_time!) - Date.parse(o.entry_time!) === 120_000)).toBe(true);
  });

  it('expected() is kept without the full ledger, which then refuses', () => {
    const e = make({ seed: 1 }, fixtures, false);
    collect(e, 1_000);
    expect(e.expected().produced).toBe(1_000);
    expect(() => e.ledger()).toThrow(/recordLedger/);
  });

  it('rejects an unknown layout with a clear message', () => {
    expect(() => make({ layout: 'nope' })).toThrow(/unknown layout nope/);
  });
});
