import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HEADERS, type ProcessorOutput, type ProducedOutput } from './types.js';
import { transactionId, visitRecordId } from './ids.js';
import { decodePairState, encodePairState } from './snapshot-codec.js';
import { posTransactionSchema, visitClosedSchema } from './schemas.js';
import {
  RUN, RUN2, WALL, eid, feed, makeCore, normalise, pairStream, transactions, verdicts, visitRecords,
  type Delivery,
} from './processor-core.test-kit.js';

const F = 'foot' as const;
const S = 'shelf' as const;

/** Both sides' run_start, then the given deliveries. */
function started(p: ReturnType<typeof pairStream>, rest: Delivery[]): Delivery[] {
  return [[F, p.runStart(F)], [S, p.runStart(S)], ...rest];
}
const markers = (p: ReturnType<typeof pairStream>, tSec: number): Delivery[] => [[F, p.watermark(F, tSec)], [S, p.watermark(S, tSec)]];
const ends = (p: ReturnType<typeof pairStream>): Delivery[] => [[F, p.end(F)], [S, p.end(S)]];

/** Every interleaving of two sequences that keeps each one's order. */
function* interleavings<T>(a: T[], b: T[]): Generator<T[]> {
  if (a.length === 0) { yield b; return; }
  if (b.length === 0) { yield a; return; }
  for (const rest of interleavings(a.slice(1), b)) yield [a[0]!, ...rest];
  for (const rest of interleavings(a, b.slice(1))) yield [b[0]!, ...rest];
}

describe('CONTRACT-CASES.md at the core', () => {
  // Case 1 and 2 share a stream: entry t=90, exit t=130 (paid, lane 2); pickup A×2, putback A×1, pickup B×1.
  function case1() {
    const p = pairStream();
    const foot: Delivery[] = [[F, p.runStart(F)], [F, p.entry(1, 'V', 90)], [F, p.paidExit(5, 'V', 130, 90, 2)], [F, p.watermark(F, 160)], [F, p.watermark(F, 170)]];
    const shelf: Delivery[] = [[S, p.runStart(S)], [S, p.pickup(2, 'V', 'A', 2, 100)], [S, p.putback(3, 'V', 'A', 1, 105)], [S, p.pickup(4, 'V', 'B', 1, 120)], [S, p.watermark(S, 160)], [S, p.watermark(S, 170)]];
    return { p, foot, shelf };
  }

  it('case 1: every interleaving accepts all and yields the same one transaction once the watermark passes 160', () => {
    const { foot, shelf } = case1();
    let reference: unknown[] | null = null;
    let count = 0;
    for (const order of interleavings(foot, shelf)) {
      const core = makeCore();
      const pair = core.newPairState();
      const outputs: ProcessorOutput[] = [];
      for (const [side, m] of order) {
        // Given the markers at 160 on both sides, nothing has closed yet (160 is not > 130 + 30).
        const isLastMarker = m.headers[HEADERS.marker] === 'watermark' && m.value.toString().includes(String(Date.parse('2026-11-23T08:02:50.000Z')));
        if (isLastMarker) expect(transactions(outputs)).toHaveLength(0);
        outputs.push(...core.handle(pair, side, m));
      }
      expect(verdicts(outputs)).toEqual({ 1: 'accepted', 2: 'accepted', 3: 'accepted', 4: 'accepted', 5: 'accepted' });
      const closes = outputs.filter((o) => o.kind === 'pos' || o.kind === 'visit').map(normalise);
      reference ??= closes;
      expect(closes).toEqual(reference);
      count++;
    }
    expect(count).toBe(462); // C(11, 5)
    const [tx] = transactions(feed(makeCore(), makeCore().newPairState(), [...foot, ...shelf]));
    expect(tx).toBeDefined();
    expect(tx!.items.map((l) => [l.item_id, l.quantity])).toEqual([['A', 1], ['B', 1]]);
    expect(tx!.lane).toBe(2);
    // A: 1.99; B: 3.50 − 15 % (52.5 cents, half-up → 53) = 2.97
    expect(tx!.items.map((l) => l.total_price)).toEqual([1.99, 2.97]);
    expect([tx!.subtotal, tx!.discount_total, tx!.total]).toEqual([5.49, 0.53, 4.96]);
    expect(posTransactionSchema.safeParse(tx).success).toBe(true);
  });

  it('case 1: the transaction and visit record carry derived ids, customer key and latency headers', () => {
    const { p, foot, shelf } = case1();
    const core = makeCore();
    const out = feed(core, core.newPairState(), [...foot, ...shelf]);
    const exitEventId = (JSON.parse(foot[2]![1].value.toString()) as { event_id: string }).event_id;
    const pos = out.find((o) => o.kind === 'pos');
    const visit = out.find((o) => o.kind === 'visit');
    expect(pos && pos.kind === 'pos' && pos.key).toBe('cust-V');
    expect(pos && pos.kind === 'pos' && pos.headers).toEqual({ [HEADERS.run]: p.run, [HEADERS.producedAt]: String(WALL + 5) });
    const [tx] = transactions(out);
    const [rec] = visitRecords(out);
    expect(tx!.transaction_id).toBe(transactionId(RUN, exitEventId));
    expect(rec).toMatchObject({ id: visitRecordId(RUN, 'V'), status: 'purchased', transaction_id: tx!.transaction_id, lines: [{ item_id: 'A', quantity: 1 }, { item_id: 'B', quantity: 1 }] });
    expect(visitClosedSchema.safeParse(rec).success).toBe(true);
    expect(visit && visit.kind === 'visit' && visit.key).toBe('cust-V');
    // pos comes before its visit record
    expect(out.indexOf(pos!)).toBeLessThan(out.indexOf(visit!));
  });

  it('case 2: shelf events before the entry are held, then applied in shelf order when it arrives', () => {
    const { foot, shelf } = case1();
    const core = makeCore();
    const pair = core.newPairState();
    const shelfUpToEvents = shelf.slice(0, 4);
    const early = feed(core, pair, shelfUpToEvents);
    expect(early).toEqual([]);
    expect(core.pendingCounts(pair)).toMatchObject({ held: 3, carts: 0 });
    const onEntry = feed(core, pair, foot.slice(0, 2));
    expect(onEntry.map((o) => o.kind === 'clean' && o.headers[HEADERS.seq])).toEqual(['1', '2', '3', '4']);
    const rest = feed(core, pair, [...foot.slice(2), ...shelf.slice(4)]);
    const reference = feed(makeCore(), makeCore().newPairState(), [...foot, ...shelf]);
    expect(transactions(rest)).toEqual(transactions(reference));
    expect(Object.values(verdicts([...onEntry, ...rest]))).not.toContain('quantity');
  });

  it('case 3: a held pickup applied on entry makes a later putback valid', () => {
    const p = pairStream();
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [
      [S, p.pickup(2, 'V', 'A', 1, 100)],
      [F, p.entry(1, 'V', 98)],
      [S, p.putback(3, 'V', 'A', 1, 105)],
    ]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'accepted', 3: 'accepted' });
  });

  it('case 4: a putback of more than the visit holds is `quantity`', () => {
    const p = pairStream();
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [
      [F, p.entry(1, 'V', 90)], [S, p.pickup(2, 'V', 'A', 1, 100)], [S, p.putback(7, 'V', 'A', 2, 140)],
    ]));
    expect(verdicts(out)[7]).toBe('quantity');
    const dl = out.find((o) => o.kind === 'dead_letter');
    expect(dl && dl.kind === 'dead_letter' && dl.headers[HEADERS.errorReason]).toMatch(/holds 1/);
  });

  it('case 5: a pickup of zero passes the schema and is rejected `quantity`', () => {
    const p = pairStream();
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [[F, p.entry(1, 'V', 90)], [S, p.pickup(8, 'V', 'A', 0, 141)], [S, p.pickup(9, 'V', 'A', -2, 142)]]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 8: 'quantity', 9: 'quantity' });
  });

  it('case 6: an event older than its partition time − grace is `late` and leaves the cart unchanged', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    const out = feed(core, pair, started(p, [
      [F, p.entry(1, 'V', 150)], [F, p.watermark(F, 200)], [F, p.watermark(F, 210)],
      [S, p.watermark(S, 200)], [S, p.watermark(S, 210)], [S, p.pickup(9, 'V', 'A', 1, 175)],
      // the same event, not late, 1 ms inside the grace: accepted
      [S, p.pickup(10, 'V', 'A', 1, 180)],
      ...ends(p),
    ]));
    expect(verdicts(out)).toMatchObject({ 9: 'late', 10: 'accepted' });
    expect(visitRecords(out)[0]!.lines).toEqual([{ item_id: 'A', quantity: 1 }]);
  });

  it('case 7: a duplicate of a held event is `duplicate` (ids recorded on arrival, held or not)', () => {
    const p = pairStream();
    const core = makeCore();
    const id = eid(900);
    const out = feed(core, core.newPairState(), started(p, [
      [S, p.pickup(2, 'V', 'A', 1, 100, id)],
      [S, p.pickup(6, 'V', 'A', 1, 100, id)],
      [F, p.entry(1, 'V', 90)],
      ...ends(p),
    ]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'accepted', 6: 'duplicate' });
    expect(visitRecords(out)[0]!.lines).toEqual([{ item_id: 'A', quantity: 1 }]);
  });

  it('case 8: a shelf event of a visit that never entered is held until the pair watermark > t + grace, then `unknown_customer`', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    expect(feed(core, pair, started(p, [[S, p.pickup(11, 'U', 'A', 1, 300)], ...markers(p, 320), ...markers(p, 330)]))).toEqual([]);
    expect(core.pendingCounts(pair).held).toBe(1);
    // only one side past 330: the pair watermark is still 330
    expect(core.handle(pair, S, p.watermark(S, 340))).toEqual([]);
    const out = core.handle(pair, F, p.watermark(F, 340));
    expect(verdicts(out)).toEqual({ 11: 'unknown_customer' });
    expect(core.pendingCounts(pair)).toMatchObject({ held: 0, carts: 0 });
  });

  it('case 9: on both end markers an open visit closes `open_at_end`, with no transaction, and the run leaves the state', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, [[F, p.entry(1, 'V', 90)], [S, p.pickup(2, 'V', 'A', 3, 95)], ...markers(p, 100)]));
    expect(core.handle(pair, F, p.end(F))).toEqual([]);
    const out = core.handle(pair, S, p.end(S));
    expect(transactions(out)).toEqual([]);
    expect(visitRecords(out)).toEqual([expect.objectContaining({
      visit_id: 'V', status: 'open_at_end', exit_time: null, transaction_id: null, lines: [{ item_id: 'A', quantity: 3 }],
    })]);
    const rec = out.find((o) => o.kind === 'visit');
    expect(rec && rec.kind === 'visit' && rec.headers[HEADERS.producedAt]).toBe(String(WALL + 1)); // the entry's
    expect(core.pendingCounts(pair)).toEqual({ runs: 0, carts: 0, held: 0, dedupIds: 0 });
    expect(pair.endedRuns).toEqual([{ runId: RUN, seqHigh: { foot: 1, shelf: 2 } }]);
  });

  it('case 10: a message whose seq is not above the high-water mark is `redelivered`, never a dead letter', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    const m = p.entry(12, 'V', 90);
    feed(core, pair, started(p, []));
    expect(core.handle(pair, F, m)).toHaveLength(1);
    expect(core.handle(pair, F, { ...m, offset: m.offset + 1 })).toEqual([{ kind: 'redelivered', run: RUN, seq: 12 }]);
    // an older seq than the mark, too
    expect(core.handle(pair, F, p.entry(11, 'W', 91))).toEqual([{ kind: 'redelivered', run: RUN, seq: 11 }]);
    // after the run ended and left the state, its redeliveries are still recognised
    feed(core, pair, ends(p));
    expect(core.handle(pair, F, { ...m, offset: 99 })).toEqual([{ kind: 'redelivered', run: RUN, seq: 12 }]);
  });

  it('case 11: a message without storesim headers is `foreign`, keyed by its source position, apart from any run', () => {
    const p = pairStream();
    const core = makeCore();
    const m = p.raw(F, 0, '{"hello":"world"}', { 'x-app': 'mine' });
    const [dl] = core.handle(core.newPairState(), F, m);
    expect(dl).toMatchObject({ kind: 'dead_letter', code: 'foreign', run: null, key: m.key, value: m.value, timestamp: m.timestamp });
    expect(dl && dl.kind === 'dead_letter' && dl.headers).toEqual({
      [HEADERS.errorCode]: 'foreign',
      [HEADERS.errorReason]: expect.stringMatching(/no storesim\.run\/storesim\.seq headers/),
      [HEADERS.sourceTopic]: 'foot_traffic', [HEADERS.sourcePartition]: '0', [HEADERS.sourceOffset]: String(m.offset),
      [HEADERS.rejectedAt]: String(WALL),
    });
  });

  it('case 12: bytes that are not JSON are `unparseable`, value kept byte for byte, with the storesim headers', () => {
    const p = pairStream();
    const core = makeCore(() => 42);
    const pair = core.newPairState();
    feed(core, pair, started(p, []));
    const bytes = Buffer.from([0x6e, 0x6f, 0x74, 0x20, 0x6a, 0x73, 0x6f, 0x6e, 0x7b, 0xff, 0x00]);
    const m = p.raw(S, 13, bytes);
    const [dl] = core.handle(pair, S, m);
    expect(dl?.kind).toBe('dead_letter');
    if (dl?.kind !== 'dead_letter') return;
    expect(dl.code).toBe('unparseable');
    expect(Buffer.isBuffer(dl.value) && dl.value.equals(bytes)).toBe(true);
    expect(dl.headers).toMatchObject({ [HEADERS.run]: RUN, [HEADERS.seq]: '13', [HEADERS.producedAt]: String(WALL + 13), [HEADERS.rejectedAt]: '42', [HEADERS.sourceTopic]: 'shelf_events' });
    expect(verdicts(core.handle(pair, S, p.raw(S, 14, 'not json{')))).toEqual({ 14: 'unparseable' });
    expect(verdicts(core.handle(pair, S, p.raw(S, 15, '[1,2]')))).toEqual({ 15: 'unparseable' });
  });

  it('case 13: an exit that queued and gave up, with items, is `abandoned` with no transaction', () => {
    const p = pairStream();
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [
      [F, p.entry(1, 'V', 10)], [S, p.pickup(2, 'V', 'C', 1, 20)],
      [F, p.exit(3, 'V', 60, 10, { lane: 1, queued: 40 })], ...markers(p, 100),
    ]));
    expect(transactions(out)).toEqual([]);
    expect(visitRecords(out)).toEqual([expect.objectContaining({
      status: 'abandoned', lane: 1, queue_joined_at: '2026-11-23T08:00:40.000Z', service_started_at: null, payment_method: null, transaction_id: null,
    })]);
  });

  it('case 14: an empty visit with FORCE_CHECKOUT_IF_EMPTY is `left_empty` and yields an empty transaction', () => {
    const p = pairStream({ settings: { force_checkout_if_empty: true } });
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [
      [F, p.entry(1, 'V', 10)], [S, p.pickup(2, 'V', 'A', 1, 20)], [S, p.putback(3, 'V', 'A', 1, 25)],
      [F, p.exit(4, 'V', 60, 10)], ...markers(p, 100),
    ]));
    const [tx] = transactions(out);
    expect(tx).toMatchObject({ items: [], subtotal: 0, discount_total: 0, total: 0, lane: null, payment_method: null });
    expect(visitRecords(out)).toEqual([expect.objectContaining({ status: 'left_empty', lines: [], transaction_id: tx!.transaction_id })]);
    // without the setting: left_empty and no transaction
    const q = pairStream();
    const out2 = feed(makeCore(), makeCore().newPairState(), started(q, [[F, q.entry(1, 'V', 10)], [F, q.exit(4, 'V', 60, 10)], ...markers(q, 100)]));
    expect(transactions(out2)).toEqual([]);
    expect(visitRecords(out2)[0]!.status).toBe('left_empty');
  });

  it('case 17: a snapshot between the two end markers restores foot as ended (a flag), and the drain completes', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, [[F, p.entry(1, 'V', 90)], ...markers(p, 100), [F, p.end(F)]]));
    const bytes = encodePairState(pair, { foot: 4, shelf: 2 });
    const wire = JSON.parse(bytes.toString()) as { runs: { foot: { ended: boolean; time: number | null } }[] };
    expect(wire.runs[0]!.foot).toMatchObject({ ended: true, time: Date.parse('2026-11-23T08:01:40.000Z') });
    const { state, offsets } = decodePairState(bytes);
    expect(offsets).toEqual({ foot: 4, shelf: 2 });
    expect(state.runs.get(RUN)!.foot).toMatchObject({ ended: true, time: Date.parse('2026-11-23T08:01:40.000Z') });
    const restored = makeCore();
    const out = restored.handle(state, S, p.end(S));
    expect(visitRecords(out).map((r) => r.status)).toEqual(['open_at_end']);
    expect(restored.pendingCounts(state).runs).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// A longer stream with every kind of verdict, for crash/restore and interleaving checks.

function dayStream() {
  const p = pairStream();
  const dupId = eid(777);
  const foot: Delivery[] = [];
  const shelf: Delivery[] = [];
  const emission: Delivery[] = [];
  const f = (m: Delivery[1]) => { foot.push([F, m]); emission.push([F, m]); };
  const s = (m: Delivery[1]) => { shelf.push([S, m]); emission.push([S, m]); };
  const mk = (t: number) => { f(p.watermark(F, t)); s(p.watermark(S, t)); };
  f(p.runStart(F)); s(p.runStart(S));
  f(p.entry(1, 'V1', 5));
  f(p.entry(2, 'V2', 8));
  mk(10);
  s(p.pickup(3, 'V1', 'A', 2, 12, dupId));
  s(p.pickup(4, 'V2', 'C', 1, 14));
  s(p.putback(5, 'V1', 'A', 1, 15));
  s(p.pickup(6, 'U', 'B', 1, 16)); // unknown_customer
  s(p.pickup(7, 'V1', 'B', 1, 18));
  mk(20);
  s(p.pickup(8, 'V2', 'Z', 1, 21)); // unknown_item
  s(p.raw(S, 9, 'not json{')); // unparseable
  s(p.putback(10, 'V2', 'C', 3, 24)); // quantity
  s(p.pickup(11, 'V1', 'A', 2, 12, dupId)); // duplicate
  const v3 = p.entry(12, 'V3', 26);
  f(v3);
  s(p.pickup(13, 'V3', 'A', 1, 27));
  mk(30);
  f(p.raw(F, 12, v3.value)); // the same message again at a later offset: a producer retry
  f(p.payload(F, 14, { ...p.entryPayload('V4', 33), door: undefined })); // schema: no door
  f(p.exit(15, 'V2', 35, 8, { lane: 1, queued: 30 })); // abandoned
  mk(40);
  f(p.paidExit(16, 'V1', 40, 5, 2)); // purchased
  s(p.pickup(17, 'V3', 'C', 2, 41));
  mk(50); mk(60);
  s(p.pickup(18, 'V3', 'A', 1, 20)); // late
  mk(70); mk(80);
  f(p.end(F)); s(p.end(S));
  return { p, foot, shelf, emission };
}

const EXPECTED_DAY = {
  1: 'accepted', 2: 'accepted', 3: 'accepted', 4: 'accepted', 5: 'accepted', 6: 'unknown_customer', 7: 'accepted',
  8: 'unknown_item', 9: 'unparseable', 10: 'quantity', 11: 'duplicate', 12: 'accepted', 13: 'accepted', 14: 'schema',
  15: 'accepted', 16: 'accepted', 17: 'accepted', 18: 'late',
};

describe('a whole run with every verdict', () => {
  it('judges each message as the ledger would and closes every visit once', () => {
    const { emission } = dayStream();
    const core = makeCore();
    const pair = core.newPairState();
    const out = feed(core, pair, emission);
    expect(verdicts(out)).toEqual(EXPECTED_DAY);
    expect(out.filter((o) => o.kind === 'redelivered')).toEqual([{ kind: 'redelivered', run: RUN, seq: 12 }]);
    expect(visitRecords(out).map((r) => [r.visit_id, r.status])).toEqual([['V2', 'abandoned'], ['V1', 'purchased'], ['V3', 'open_at_end']]);
    expect(transactions(out)).toHaveLength(1);
    const schemaDl = out.find((o) => o.kind === 'dead_letter' && o.code === 'schema');
    expect(schemaDl && schemaDl.kind === 'dead_letter' && schemaDl.headers[HEADERS.errorReason]).toMatch(/^door: /);
    expect(core.pendingCounts(pair)).toEqual({ runs: 0, carts: 0, held: 0, dedupIds: 0 });
  });

  it('gives the same outputs (as a set) in any interleaving of the two partitions', () => {
    const { foot, shelf, emission } = dayStream();
    const reference = feed(makeCore(), makeCore().newPairState(), emission).map((o) => JSON.stringify(normalise(o))).sort();
    fc.assert(fc.property(fc.array(fc.boolean(), { minLength: foot.length + shelf.length, maxLength: foot.length + shelf.length }), (picks) => {
      const order: Delivery[] = [];
      let i = 0, j = 0;
      for (const pickFoot of picks) {
        if ((pickFoot && i < foot.length) || j >= shelf.length) order.push(foot[i++]!);
        else order.push(shelf[j++]!);
      }
      const core = makeCore();
      const got = feed(core, core.newPairState(), order).map((o) => JSON.stringify(normalise(o))).sort();
      expect(got).toEqual(reference);
    }), { numRuns: 200 });
  });

  // Cases 15 and 16: a restart restores a snapshot taken mid-stream and reads on from its offsets.
  function runWithSnapshots(deliveries: Delivery[]) {
    const core = makeCore();
    const pair = core.newPairState();
    const perStep: ProcessorOutput[][] = [];
    const snapshots: Buffer[] = [];
    const next = { foot: 0, shelf: 0 };
    for (const [side, m] of deliveries) {
      snapshots.push(encodePairState(pair, next));
      perStep.push(core.handle(pair, side, m));
      next[side] = m.offset + 1;
    }
    return { perStep, snapshots };
  }

  /** What a restarted member reads: each partition from the snapshot's offsets, same interleaving. */
  function resumeFrom(snapshot: Buffer, deliveries: Delivery[], now: () => number) {
    const { state, offsets } = decodePairState(snapshot);
    const core = makeCore(now);
    const rest = deliveries.filter(([side, m]) => m.offset >= offsets[side]);
    return { outputs: feed(core, state, rest), state, core };
  }

  it('case 15: restoring the last snapshot and replaying the rest gives identical outputs (except rejected_at)', () => {
    const { emission } = dayStream();
    const { perStep, snapshots } = runWithSnapshots(emission);
    for (const at of [3, 10, 17, 25, 33, emission.length - 1]) {
      const uninterrupted = perStep.slice(at).flat();
      const { outputs } = resumeFrom(snapshots[at]!, emission, () => WALL + 5_000);
      expect(outputs.map(normalise)).toEqual(uninterrupted.map(normalise));
      const dl = outputs.find((o) => o.kind === 'dead_letter');
      if (dl && dl.kind === 'dead_letter') expect(dl.headers[HEADERS.rejectedAt]).toBe(String(WALL + 5_000));
    }
  });

  it('case 16: an older snapshot (a zombie wrote it late) gives identical outputs too, whatever the commits said', () => {
    const { emission } = dayStream();
    const { perStep, snapshots } = runWithSnapshots(emission);
    // the new owner had snapshotted after step 30; the zombie's snapshot after step 5 wins
    const newer = resumeFrom(snapshots[30]!, emission, () => WALL).outputs.map(normalise);
    const older = resumeFrom(snapshots[5]!, emission, () => WALL).outputs.map(normalise);
    expect(older.slice(older.length - newer.length)).toEqual(newer);
    expect(older).toEqual(perStep.slice(5).flat().map(normalise));
    expect(verdicts(resumeFrom(snapshots[5]!, emission, () => WALL).outputs)).toMatchObject({ 6: 'unknown_customer', 18: 'late' });
  });
});

describe('runs, settings and control messages', () => {
  it('markers are never forwarded, counted or dead-lettered, even when malformed', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    const weird = (marker: string, value: string): Delivery => [F, { ...p.watermark(F, 1), value: Buffer.from(value), headers: { [HEADERS.run]: RUN, [HEADERS.marker]: marker } }];
    expect(feed(core, pair, [weird('watermark', '{"time":1}'), ...started(p, []), weird('watermark', 'nope'), weird('bogus', '{}'), weird('end', '')])).toEqual([]);
    expect(core.handle(pair, F, { ...p.watermark(F, 5), headers: { [HEADERS.marker]: 'watermark' } })).toEqual([]);
  });

  it('an event before its run_start on that partition is `foreign`', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    expect(verdicts(core.handle(pair, F, p.entry(1, 'V', 10)))).toEqual({ 1: 'foreign' });
    core.handle(pair, F, p.runStart(F));
    expect(verdicts(core.handle(pair, S, p.pickup(2, 'V', 'A', 1, 12)))).toEqual({ 2: 'foreign' });
  });

  it('a run whose fixtures hash differs is refused: its events are `foreign`, its redeliveries still recognised', () => {
    const p = pairStream({ settings: { fixtures_hash: 'other' } });
    const core = makeCore();
    const pair = core.newPairState();
    const m = p.entry(1, 'V', 10);
    const out = feed(core, pair, started(p, [[F, m]]));
    expect(verdicts(out)).toEqual({ 1: 'foreign' });
    expect(out[0]?.kind === 'dead_letter' && out[0].headers[HEADERS.errorReason]).toMatch(/fixtures other/);
    expect(core.handle(pair, F, m)).toEqual([{ kind: 'redelivered', run: RUN, seq: 1 }]);
  });

  it('run settings decide verdicts: a run with a 60 s grace accepts what 30 s would call late', () => {
    const p = pairStream({ settings: { grace_ms: 60_000 } });
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [[F, p.entry(1, 'V', 100)], [F, p.watermark(F, 200)], [F, p.entry(2, 'W', 150)]]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'accepted' });
  });

  it('a later run closes as open_at_end what an earlier run that never ended left open, once on both partitions', () => {
    const p1 = pairStream();
    const p2 = pairStream({ run: RUN2 });
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p1, [[F, p1.entry(1, 'V', 10)], [F, p1.entry(2, 'X', 11)], [S, p1.pickup(3, 'U', 'A', 1, 11)], [F, p1.paidExit(4, 'X', 20, 11)]]));
    expect(core.handle(pair, F, p2.runStart(F))).toEqual([]);
    expect(core.pauseHint(pair)).toBe('foot');
    const out = core.handle(pair, S, p2.runStart(S));
    expect(verdicts(out)).toEqual({ 3: 'unknown_customer' });
    // a visit that had exited closes with its own status; one still inside is open_at_end
    expect(visitRecords(out).map((r) => [r.visit_id, r.status])).toEqual([['V', 'open_at_end'], ['X', 'purchased']]);
    expect([...pair.runs.keys()]).toEqual([RUN2]);
    // the old run's redeliveries are recognised, its new messages are foreign
    expect(core.handle(pair, F, p1.entry(1, 'V', 10))).toEqual([{ kind: 'redelivered', run: RUN, seq: 1 }]);
    expect(verdicts(core.handle(pair, F, p1.entry(9, 'Q', 30)))).toEqual({ 9: 'foreign' });
    expect(verdicts(feed(core, pair, [[F, p2.entry(1, 'V', 10)]]))).toEqual({ 1: 'accepted' });
  });

  it('the stale-session safety net closes a visit with no exit after the session cap, and reports it', () => {
    const p = pairStream({ settings: { max_session_age_sec: 60 } });
    const core = makeCore();
    const pair = core.newPairState();
    const out = feed(core, pair, started(p, [[F, p.entry(1, 'V', 10)], [S, p.pickup(2, 'V', 'B', 1, 20)], [F, p.entry(3, 'W', 15)], ...markers(p, 70), ...markers(p, 80)]));
    expect(out.filter((o) => o.kind === 'stale')).toEqual([{ kind: 'stale', run: RUN, visit_id: 'V' }, { kind: 'stale', run: RUN, visit_id: 'W' }]);
    expect(visitRecords(out).map((r) => [r.visit_id, r.status, r.stale, r.exit_time])).toEqual([['V', 'abandoned', true, null], ['W', 'left_empty', true, null]]);
    expect(transactions(out)).toEqual([]);
    expect(core.pendingCounts(pair).carts).toBe(0);
  });

  it('precedence: a duplicate that is also late is `duplicate`; a late event of an unknown visit is `late`', () => {
    const p = pairStream();
    const core = makeCore();
    const id = eid(500);
    const out = feed(core, core.newPairState(), started(p, [
      [F, p.entry(1, 'V', 100, id)], [F, p.watermark(F, 200)], [F, p.entry(2, 'V', 100, id)],
      [S, p.watermark(S, 200)], [S, p.pickup(3, 'NOBODY', 'Z', 0, 100)],
    ]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'duplicate', 3: 'late' });
  });

  it('precedence: unknown_item before quantity; a putback of an unknown item is `unknown_item`', () => {
    const p = pairStream();
    const core = makeCore();
    const out = feed(core, core.newPairState(), started(p, [[F, p.entry(1, 'V', 100)], [S, p.putback(2, 'V', 'Z', 5, 101)], [S, p.pickup(3, 'V', 'Z', 0, 102)]]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'unknown_item', 3: 'unknown_item' });
  });

  it('an event on the wrong topic is `schema`, naming event_type', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, []));
    const [dl] = core.handle(pair, S, p.payload(S, 1, p.entryPayload('V', 10)));
    expect(dl?.kind === 'dead_letter' && [dl.code, dl.headers[HEADERS.errorReason]]).toEqual(['schema', expect.stringMatching(/^event_type: "entry" does not belong on shelf_events/)]);
  });

  it('clean outputs are the original bytes with the run, seq and produced_at headers', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, []));
    const m = p.entry(1, 'V', 10);
    m.headers['x-extra'] = 'dropped';
    const [c] = core.handle(pair, F, m);
    const { text, json, ...record } = c as ProducedOutput;
    expect(record).toEqual({ kind: 'clean', key: 'cust-V', value: m.value, headers: { [HEADERS.run]: RUN, [HEADERS.seq]: '1', [HEADERS.producedAt]: String(WALL + 1) }, timestamp: m.timestamp, run: RUN });
    // The in-process extras are exact caches of the value.
    expect(text).toBe(m.value.toString('utf8'));
    expect(json).toEqual(JSON.parse(m.value.toString('utf8')));
  });
});

describe('bounded memory and flow control', () => {
  it('dedup ids expire once the partition time passes timestamp + window', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, [[F, p.entry(1, 'V', 10)], [F, p.entry(2, 'W', 20)], [S, p.watermark(S, 10)]]));
    expect(core.pendingCounts(pair).dedupIds).toBe(2);
    feed(core, pair, [[F, p.watermark(F, 131)]]);
    expect(core.pendingCounts(pair).dedupIds).toBe(1);
    feed(core, pair, [[F, p.watermark(F, 141)]]);
    expect(core.pendingCounts(pair).dedupIds).toBe(0);
  });

  it('an id seen again after its window is not a duplicate (it is late instead)', () => {
    const p = pairStream();
    const core = makeCore();
    const id = eid(321);
    const out = feed(core, core.newPairState(), started(p, [[F, p.entry(1, 'V', 10, id)], [F, p.watermark(F, 131)], [F, p.entry(2, 'V', 10, id)]]));
    expect(verdicts(out)).toEqual({ 1: 'accepted', 2: 'late' });
  });

  it('pauseHint names the side more than 3 marker intervals ahead', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    expect(core.pauseHint(pair)).toBeNull();
    feed(core, pair, started(p, [[F, p.watermark(F, 100)], [S, p.watermark(S, 70)]]));
    expect(core.pauseHint(pair)).toBeNull(); // exactly 3 MI
    feed(core, pair, [[F, p.watermark(F, 101)]]);
    expect(core.pauseHint(pair)).toBe('foot');
    feed(core, pair, [[S, p.end(S)]]);
    expect(core.pauseHint(pair)).toBe('shelf');
  });

  it('memory stays flat over many visits: everything closed is evicted', () => {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    feed(core, pair, started(p, []));
    let seq = 1;
    let peak = 0;
    for (let i = 0; i < 2_000; i++) {
      const t = i * 2;
      const v = `V${i}`;
      feed(core, pair, [[F, p.entry(seq++, v, t)], [S, p.pickup(seq++, v, 'A', 1, t + 1)], [F, p.paidExit(seq++, v, t + 1, t)]]);
      if (i % 5 === 0) feed(core, pair, markers(p, t));
      const c = core.pendingCounts(pair);
      peak = Math.max(peak, c.carts + c.dedupIds);
    }
    expect(peak).toBeLessThan(400);
  });
});

describe('determinism', () => {
  it('the same input state and message give identical bytes (except rejected_at)', () => {
    const { emission } = dayStream();
    const a = feed(makeCore(() => 1), makeCore().newPairState(), emission);
    const b = feed(makeCore(() => 2), makeCore().newPairState(), emission);
    expect(a.map(normalise)).toEqual(b.map(normalise));
    const bytes = (o: ProcessorOutput) => (o.kind === 'pos' || o.kind === 'visit' ? o.value.toString() : '');
    expect(a.map(bytes)).toEqual(b.map(bytes));
  });
});
