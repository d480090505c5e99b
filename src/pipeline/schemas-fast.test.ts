/**
 * The hand-written fast paths in schemas.ts must give exactly zod's verdicts: accepted means zod
 * accepts, and what they do not take falls through to zod (so the reason is zod's too).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  entryEventSchema, exitEventSchema, fastWatermarkTime, parseFootEvent, parseShelfEvent, parseWatermark, shelfEventSchema,
} from './schemas.js';

const base = {
  event_id: '01936a5e-1234-7000-8000-000000000001', store_id: 'store-1', customer_id: 'C1', visit_id: 'V1',
  timestamp: '2026-11-23T08:00:00.000Z', schema_version: 1,
};
const entry = { ...base, event_type: 'entry', door: 'D1' };
const exit = {
  ...base, event_type: 'exit', entry_time: '2026-11-23T07:50:00.000Z', exit_time: '2026-11-23T08:00:00.000Z',
  lane: 2, queue_joined_at: '2026-11-23T07:58:00.000Z', service_started_at: '2026-11-23T07:59:00.000Z', payment_method: 'card',
};
const pickup = { ...base, event_type: 'pickup', shelf_id: 'S1', item_id: 'A', quantity: 1 };

/** Values that sit on the edges of the rules the fast path checks. */
const oddValue = fc.oneof(
  fc.constantFrom<unknown>(
    null, undefined, '', 'x', 0, -0, 1, -1, 1.5, 2 ** 53, -(2 ** 53), 2 ** 53 - 1, '1', true, [], {},
    'cash', 'card', 'bitcoin', '2026-02-29T00:00:00Z', '2028-02-29T00:00:00Z', '2026-11-23T08:00:00Z',
    '2026-11-23T08:00:00.123456Z', '2026-11-23T24:00:00Z', '2026-11-23T08:00:00+01:00', '2026-13-01T00:00:00Z',
    '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-7FFF-BFFF-FFFFFFFFFFFF', '01936a5e-1234-9000-8000-000000000001',
    '01936a5e-1234-7000-c000-000000000001', 'entry', 'exit', 'pickup', 'putback',
  ),
  fc.string(),
  fc.integer(),
  fc.double(),
);

function sameVerdict(obj: Record<string, unknown>, side: 'foot' | 'shelf'): void {
  const got = side === 'foot' ? parseFootEvent(obj) : parseShelfEvent(obj);
  const t = obj['event_type'];
  const schema = side === 'shelf' ? shelfEventSchema : t === 'exit' ? exitEventSchema : entryEventSchema;
  const typeOk = side === 'shelf' ? t === 'pickup' || t === 'putback' : t === 'entry' || t === 'exit';
  const want = typeOk && schema.safeParse(obj).success;
  expect(got.ok).toBe(want);
}

describe('schema fast paths', () => {
  it('agree with zod on mutated engine events', () => {
    const keys = [...new Set([...Object.keys(exit), ...Object.keys(pickup), ...Object.keys(entry), 'extra', '__proto__'])];
    fc.assert(fc.property(
      fc.constantFrom<[Record<string, unknown>, 'foot' | 'shelf']>([entry, 'foot'], [exit, 'foot'], [pickup, 'shelf'], [{ ...pickup, event_type: 'putback' }, 'shelf']),
      fc.array(fc.tuple(fc.constantFrom(...keys), oddValue, fc.boolean()), { maxLength: 3 }),
      ([event, side], edits) => {
        const obj: Record<string, unknown> = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
        for (const [k, v, drop] of edits) {
          if (drop) delete obj[k];
          else Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
        }
        sameVerdict(obj, side);
      },
    ), { numRuns: 3_000 });
  });

  it('read watermarks exactly as JSON.parse and zod do', () => {
    const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
    const text = fc.oneof(
      fc.integer({ min: -1e15, max: 1e15 }).map((n) => `{"time":${n}}`),
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map((n) => `{"time":${n}}`),
      fc.constantFrom('{"time":-0}', '{"time":01}', '{"time":}', '{"time":-}', '{"time":1.5}', '{"time":1e3}', '{"time": 1}',
        '{"time":1,"x":2}', '{"time":"1"}', '{}', '{"time":9007199254740993}', '{"time":999999999999999}', '{"time":1000000000000000}'),
      fc.string().map((s) => `{"time":${s}}`),
    );
    fc.assert(fc.property(text, (s) => {
      const fast = fastWatermarkTime(enc(s));
      let slow: number | null = null;
      try {
        const r = parseWatermark(JSON.parse(s));
        slow = r.ok ? r.value.time : null;
      } catch {
        slow = null;
      }
      if (fast !== null) expect(Object.is(fast, slow)).toBe(true);
    }), { numRuns: 5_000 });
    expect(fastWatermarkTime(enc('{"time":1795420800000}'))).toBe(1795420800000);
  });
});
