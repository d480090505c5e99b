/**
 * Property-based tests of the processor's pure core (src/pipeline/processor-core.ts) with arbitrary
 * input: arbitrary bytes, arbitrary JSON, near-valid events with a field broken, with and without
 * storesim headers, garbage control markers, repeats. The core never throws, and once both
 * partitions have ended every input has ended exactly once: clean, a dead letter with a code,
 * redelivered (a seq already read), or a control message (which yields no event output).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../src/kafka/bus.js';
import { eid, makeCore, pairStream, T0 } from '../src/pipeline/processor-core.test-kit.js';
import { HEADERS, type PairSide, type ProcessorOutput } from '../src/pipeline/types.js';

const REJECT_CODES = new Set(['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate', 'foreign']);

/** How an input is labelled. */
type Labels =
  | { kind: 'event' } // proper run + a fresh seq
  | { kind: 'repeat' } // proper run + the side's last seq again
  | { kind: 'none' } // no headers at all
  | { kind: 'run_only' }
  | { kind: 'bad_seq'; seq: string }
  | { kind: 'other_run' }
  | { kind: 'marker'; marker: string }
  | { kind: 'random'; headers: Record<string, string> };

type Body =
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'json'; value: unknown }
  | { kind: 'event'; payload: Record<string, unknown> };

interface Input { side: PairSide; labels: Labels; body: Body }

const visit = fc.constantFrom('v1', 'v2', 'v3', 'v4');
const tSec = fc.integer({ min: -120, max: 900 });
/** Event ids from a small pool (duplicates happen) or fresh. */
const eventId = fc.oneof(fc.integer({ min: 1, max: 6 }).map((n) => eid(n)), fc.uuid());
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

/** Undefined most of the time: a broken field is the exception, not the rule. */
const rarely = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.oneof({ weight: 6, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: a });

const nearValidEvent: fc.Arbitrary<Record<string, unknown>> = fc.record({
  type: fc.constantFrom('entry', 'exit', 'pickup', 'putback', 'teleport'),
  visit, t: tSec, id: eventId,
  item: fc.constantFrom('A', 'B', 'C', 'Z'),
  qty: fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(1.5)),
  paid: fc.boolean(),
  drop: rarely(fc.constantFrom('event_id', 'timestamp', 'visit_id', 'customer_id', 'store_id', 'schema_version', 'item_id', 'quantity', 'entry_time')),
  garble: rarely(fc.tuple(fc.constantFrom('timestamp', 'quantity', 'visit_id', 'event_type', 'lane'), fc.jsonValue())),
}).map((r) => {
  const base: Record<string, unknown> = {
    event_id: r.id, event_type: r.type, store_id: 'store-1', customer_id: `cust-${r.visit}`, visit_id: r.visit,
    timestamp: iso(r.t), schema_version: 1,
  };
  if (r.type === 'entry') base.door = 'D1';
  if (r.type === 'exit') {
    Object.assign(base, {
      entry_time: iso(r.t - 60), exit_time: iso(r.t), lane: r.paid ? 1 : null,
      queue_joined_at: r.paid ? iso(r.t - 20) : null, service_started_at: r.paid ? iso(r.t - 10) : null, payment_method: r.paid ? 'card' : null,
    });
  }
  if (r.type === 'pickup' || r.type === 'putback' || r.type === 'teleport') Object.assign(base, { shelf_id: 'S1', item_id: r.item, quantity: r.qty });
  if (r.drop !== undefined) delete base[r.drop];
  if (r.garble !== undefined) base[r.garble[0]] = r.garble[1];
  return base;
});

const labels: fc.Arbitrary<Labels> = fc.oneof(
  { weight: 24, arbitrary: fc.constant<Labels>({ kind: 'event' }) },
  { weight: 1, arbitrary: fc.constant<Labels>({ kind: 'repeat' }) },
  { weight: 1, arbitrary: fc.constant<Labels>({ kind: 'none' }) },
  { weight: 1, arbitrary: fc.constant<Labels>({ kind: 'run_only' }) },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constantFrom('0', '-1', '1.5', '1e3', ' 7', '9007199254740993')).map((seq): Labels => ({ kind: 'bad_seq', seq })) },
  { weight: 1, arbitrary: fc.constant<Labels>({ kind: 'other_run' }) },
  { weight: 1, arbitrary: fc.oneof(fc.constantFrom('run_start', 'watermark', 'end'), fc.string()).map((marker): Labels => ({ kind: 'marker', marker })) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(HEADERS.run, HEADERS.producedAt, 'error.code')), fc.string(), { maxKeys: 4 })
      .map((headers): Labels => ({ kind: 'random', headers })),
  },
);

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes): Body => ({ kind: 'bytes', bytes })) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value): Body => ({ kind: 'json', value })) },
  { weight: 5, arbitrary: nearValidEvent.map((payload): Body => ({ kind: 'event', payload })) },
);

/** Events go to their own side (foot: entry, exit; shelf: pickup, putback), now and then to the other. */
const input: fc.Arbitrary<Input> = fc.record({ side: fc.constantFrom<PairSide>('foot', 'shelf'), labels, body, wrongSide: rarely(fc.constant(true)) })
  .map(({ side, labels: l, body: b, wrongSide }): Input => {
    if (b.kind !== 'event') return { side, labels: l, body: b };
    const own: PairSide = b.payload.event_type === 'entry' || b.payload.event_type === 'exit' ? 'foot' : 'shelf';
    return { side: wrongSide ? (own === 'foot' ? 'shelf' : 'foot') : own, labels: l, body: b };
  });

interface Fed { msg: IncomingMessage; control: boolean; seq: number | null }

/** Builds the messages and feeds them, checking the per-call outputs; returns every output with its input. */
function play(inputs: Input[]): { fed: Fed[]; outputs: ProcessorOutput[]; redeliveredBy: Map<Fed, number> } {
  const core = makeCore();
  const pair = core.newPairState();
  const s = pairStream();
  const outputs: ProcessorOutput[] = [];
  const fed: Fed[] = [];
  const redeliveredBy = new Map<Fed, number>();
  let seq = 0;
  const lastSeq: Record<PairSide, number> = { foot: 0, shelf: 0 };
  const feedOne = (side: PairSide, msg: IncomingMessage, f: Fed): void => {
    fed.push(f);
    const out = core.handle(pair, side, msg);
    for (const o of out) if (o.kind === 'redelivered') redeliveredBy.set(f, (redeliveredBy.get(f) ?? 0) + 1);
    outputs.push(...out);
  };
  for (const side of ['foot', 'shelf'] as const) feedOne(side, s.runStart(side), { msg: s.runStart(side), control: true, seq: null });
  for (const inp of inputs) {
    const value = inp.body.kind === 'bytes' ? Buffer.from(inp.body.bytes)
      : Buffer.from(JSON.stringify(inp.body.kind === 'json' ? inp.body.value : inp.body.payload) ?? 'null');
    let headers: Record<string, string>;
    let mySeq: number | null = null;
    const l = inp.labels;
    switch (l.kind) {
      case 'event': mySeq = ++seq; lastSeq[inp.side] = mySeq; headers = { [HEADERS.run]: s.run, [HEADERS.seq]: String(mySeq) }; break;
      case 'repeat': mySeq = lastSeq[inp.side] > 0 ? lastSeq[inp.side] : null; headers = mySeq === null ? {} : { [HEADERS.run]: s.run, [HEADERS.seq]: String(mySeq) }; break;
      case 'none': headers = {}; break;
      case 'run_only': headers = { [HEADERS.run]: s.run }; break;
      case 'bad_seq': headers = { [HEADERS.run]: s.run, [HEADERS.seq]: l.seq }; break;
      case 'other_run': headers = { [HEADERS.run]: '01936a5f-0000-7000-8000-00000000ffff', [HEADERS.seq]: String(++seq) }; break;
      case 'marker': headers = { [HEADERS.run]: s.run, [HEADERS.marker]: l.marker }; break;
      case 'random': headers = { ...l.headers }; delete headers[HEADERS.seq]; delete headers[HEADERS.marker]; break;
    }
    const msg = s.raw(inp.side, mySeq ?? 0, value, headers);
    feedOne(inp.side, msg, { msg, control: headers[HEADERS.marker] !== undefined, seq: l.kind === 'event' ? mySeq : null });
  }
  for (const side of ['foot', 'shelf'] as const) {
    const end = s.end(side);
    feedOne(side, end, { msg: end, control: true, seq: null });
  }
  return { fed, outputs, redeliveredBy };
}

describe('processor core on arbitrary input', () => {
  it('never throws, and every input ends once: clean, a dead letter with a code, redelivered, or control', () => {
    const seen = new Map<string, number>();
    fc.assert(fc.property(fc.array(input, { minLength: 1, maxLength: 60 }), (inputs) => {
      const { fed, outputs, redeliveredBy } = play(inputs);
      for (const o of outputs) seen.set(o.kind === 'dead_letter' ? o.code ?? '?' : o.kind, (seen.get(o.kind === 'dead_letter' ? o.code ?? '?' : o.kind) ?? 0) + 1);
      // Clean outputs and dead letters, traced back to their input by source offset (dead letters) or seq (clean).
      const ended = new Map<Fed, number>();
      const byOffset = new Map(fed.map((f) => [`${f.msg.topic}/${f.msg.offset}`, f]));
      const bySeq = new Map(fed.filter((f) => f.seq !== null && !f.control).map((f) => [f.seq!, f]));
      for (const o of outputs) {
        if (o.kind === 'dead_letter') {
          expect(REJECT_CODES.has(o.code ?? '')).toBe(true);
          expect(o.headers[HEADERS.errorCode]).toBe(o.code);
          expect(o.headers[HEADERS.errorReason]?.length ?? 0).toBeGreaterThan(0);
          const f = byOffset.get(`${o.headers[HEADERS.sourceTopic]}/${o.headers[HEADERS.sourceOffset]}`);
          expect(f, 'a dead letter traces back to an input').toBeDefined();
          ended.set(f!, (ended.get(f!) ?? 0) + 1);
        } else if (o.kind === 'clean') {
          const f = bySeq.get(Number(o.headers[HEADERS.seq]));
          expect(f, 'a clean event traces back to an input').toBeDefined();
          expect(f!.msg.value.equals(Buffer.from(o.value))).toBe(true);
          ended.set(f!, (ended.get(f!) ?? 0) + 1);
        }
      }
      for (const f of fed) {
        const n = (ended.get(f) ?? 0) + (redeliveredBy.get(f) ?? 0);
        if (f.control) expect(n).toBe(0);
        else expect(n, `input at ${f.msg.topic}/${f.msg.offset} (${f.msg.value.toString('utf8').slice(0, 60)})`).toBe(1);
      }
    }), { numRuns: 300 });
    // The inputs reached deep into the rules, not only the parser.
    for (const k of ['clean', 'visit', 'redelivered', 'schema', 'unparseable', 'foreign', 'unknown_customer', 'late']) expect(seen.get(k) ?? 0, k).toBeGreaterThan(0);
  });

  it('never throws on any message at all, whatever its topic side, headers and bytes', () => {
    const core = makeCore();
    fc.assert(fc.property(
      fc.array(fc.record({
        side: fc.constantFrom<PairSide>('foot', 'shelf'),
        headers: fc.dictionary(fc.oneof(fc.string(), fc.constantFrom(HEADERS.run, HEADERS.seq, HEADERS.marker, HEADERS.producedAt)), fc.string(), { maxKeys: 5 }),
        value: fc.oneof(fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)), fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? ''))),
      }), { maxLength: 40 }),
      (msgs) => {
        const pair = core.newPairState();
        msgs.forEach((m, i) => {
          const outs = core.handle(pair, m.side, { topic: m.side, partition: 0, offset: i, key: null, value: m.value, headers: m.headers, timestamp: 0 });
          for (const o of outs) if (o.kind === 'dead_letter') expect(REJECT_CODES.has(o.code ?? '')).toBe(true);
        });
      },
    ), { numRuns: 300 });
  });
});
