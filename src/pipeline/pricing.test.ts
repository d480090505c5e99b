import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { centsToDecimal, createPriceBook, isoWeek, lineDiscountCents, priceLines, rateToBasisPoints } from './pricing.js';

describe('money', () => {
  it('rounds a line discount half-up to the cent, in integer arithmetic', () => {
    expect(lineDiscountCents(350, 1500)).toBe(53); // 52.5 → 53
    expect(lineDiscountCents(10, 500)).toBe(1); // 0.5 → 1
    expect(lineDiscountCents(10, 499)).toBe(0); // 0.499 → 0
    expect(lineDiscountCents(1005, 5000)).toBe(503); // 502.5 → 503
    expect(lineDiscountCents(999, 3333)).toBe(333); // 332.9667 → 333
    expect(lineDiscountCents(0, 2500)).toBe(0);
    expect(lineDiscountCents(1_000_000_000_000, 1)).toBe(100_000_000);
  });

  it('reads rates as basis points without float drift', () => {
    expect(rateToBasisPoints(0.1)).toBe(1000);
    expect(rateToBasisPoints(0.07)).toBe(700); // 0.07 * 10000 = 700.0000000000001
    expect(rateToBasisPoints(0.29)).toBe(2900);
    expect(() => rateToBasisPoints(1.5)).toThrow(/out of/);
  });

  it('half-up equals exact rational rounding for any gross and rate', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000 }), (gross, bp) => {
      const exact = (BigInt(gross) * BigInt(bp)) % 10_000n;
      const floor = Math.floor((gross * bp) / 10_000);
      expect(lineDiscountCents(gross, bp)).toBe(exact >= 5_000n ? floor + 1 : floor);
    }));
  });

  it('writes cents as decimals with at most two places that read back exactly', () => {
    fc.assert(fc.property(fc.integer({ min: -1e12, max: 1e12 }), (cents) => {
      const d = centsToDecimal(cents);
      expect(JSON.stringify(d)).toMatch(/^-?\d+(\.\d{1,2})?$/);
      expect(Math.round(Number(JSON.stringify(d)) * 100)).toBe(cents);
    }));
    expect(centsToDecimal(1999)).toBe(19.99);
    expect(JSON.stringify(centsToDecimal(10))).toBe('0.1');
  });

  it('names ISO weeks as the discount fixtures do, across year boundaries', () => {
    expect(isoWeek(Date.parse('2026-11-23T08:00:00Z'))).toBe('2026-W48');
    expect(isoWeek(Date.parse('2026-11-29T23:59:59.999Z'))).toBe('2026-W48'); // Sunday
    expect(isoWeek(Date.parse('2026-11-30T00:00:00Z'))).toBe('2026-W49');
    expect(isoWeek(Date.parse('2026-01-01T00:00:00Z'))).toBe('2026-W01'); // a Thursday
    expect(isoWeek(Date.parse('2027-01-01T12:00:00Z'))).toBe('2026-W53'); // 2026 has 53 weeks
    expect(isoWeek(Date.parse('2024-12-30T00:00:00Z'))).toBe('2025-W01');
    expect(isoWeek(Date.parse('2021-01-03T00:00:00Z'))).toBe('2020-W53');
  });

  it('prices a transaction: per-line discount by item and ISO week of the exit, total = exact sum of lines', () => {
    const book = createPriceBook(
      [{ item_id: 'A', name: 'a', category: 'c', price_cents: 199 }, { item_id: 'B', name: 'b', category: 'c', price_cents: 350 }],
      [{ item_id: 'B', week: '2026-W48', rate: 0.15 }, { item_id: 'A', week: '2026-W49', rate: 0.5 }],
    );
    const p = priceLines([{ item_id: 'A', quantity: 3 }, { item_id: 'B', quantity: 1 }], Date.parse('2026-11-23T10:00:00Z'), book);
    expect(p.items).toEqual([
      { item_id: 'A', quantity: 3, unit_price: 1.99, discount: 0, total_price: 5.97 },
      { item_id: 'B', quantity: 1, unit_price: 3.5, discount: 0.15, total_price: 2.97 },
    ]);
    expect([p.subtotalCents, p.discountCents, p.totalCents]).toEqual([947, 53, 894]);
    const nextWeek = priceLines([{ item_id: 'A', quantity: 3 }], Date.parse('2026-11-30T10:00:00Z'), book);
    expect(nextWeek.items[0]).toMatchObject({ discount: 0.5, total_price: 2.98 }); // 597 − 298.5→299
  });

  it('keeps totals exact for any cart', () => {
    const catalog = Array.from({ length: 20 }, (_, i) => ({ item_id: `I${i}`, name: '', category: '', price_cents: 1 + i * 137 }));
    const discounts = catalog.map((p, i) => ({ item_id: p.item_id, week: '2026-W48', rate: (i * 3) / 100 + 0.005 }));
    const book = createPriceBook(catalog, discounts);
    fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 19 }), { minLength: 0, maxLength: 20 }), fc.integer({ min: 1, max: 50 }), (ids, qty) => {
      const lines = ids.sort((a, b) => a - b).map((i) => ({ item_id: `I${i}`, quantity: qty }));
      const p = priceLines(lines, Date.parse('2026-11-24T00:00:00Z'), book);
      const sumLines = p.items.reduce((s, l) => s + Math.round(l.total_price * 100), 0);
      expect(sumLines).toBe(p.totalCents);
      expect(p.totalCents).toBe(p.subtotalCents - p.discountCents);
    }));
  });

  it('refuses malformed fixtures', () => {
    expect(() => createPriceBook([{ item_id: 'A', name: '', category: '', price_cents: 1.5 }], [])).toThrow(/price_cents/);
    expect(() => createPriceBook([], [{ item_id: 'A', week: 'W', rate: 0.1 }, { item_id: 'A', week: 'W', rate: 0.2 }])).toThrow(/two rates/);
  });
});
