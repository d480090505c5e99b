/**
 * Money (DESIGN.md, Money): integer cents inside, decimals with at most two places in JSON.
 * Discount rates are held as integer basis points so every rounding is integer arithmetic.
 */
import type { Discount, Product } from '../engine/types.js';
import type { PosLine } from './types.js';

/** ISO-8601 week of a UTC instant, as the discount fixtures name it: `2026-W48`. */
export function isoWeek(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDay() === 0 ? 7 : d.getUTCDay(); // Monday = 1 … Sunday = 7
  // The ISO week-year is the year of this week's Thursday.
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 4 - day);
  const year = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / 86_400_000 / 7) + 1;
  return `${year}-W${String(week).padStart(2, '0')}`;
}

/** A rate (0.10 = 10 %) as integer basis points (1000). Throws outside [0, 1]. */
export function rateToBasisPoints(rate: number): number {
  if (!Number.isFinite(rate) || rate < 0 || rate > 1) throw new Error(`discount rate out of [0, 1]: ${rate}`);
  return Math.round(rate * 10_000);
}

/** gross × rate, rounded half-up to a cent, in integer arithmetic (gross ≥ 0). */
export function lineDiscountCents(grossCents: number, basisPoints: number): number {
  const v = (BigInt(grossCents) * BigInt(basisPoints) + 5_000n) / 10_000n;
  return Number(v);
}

/** Integer cents as a JSON decimal with at most two places (c / 100 is the nearest double). */
export function centsToDecimal(cents: number): number {
  if (!Number.isSafeInteger(cents)) throw new Error(`cents must be a safe integer: ${cents}`);
  return cents / 100;
}

export interface PriceBook {
  /** List price in cents, undefined for an item not in the catalog. */
  priceCents(itemId: string): number | undefined;
  /** Discount in basis points for the item in that ISO week (0 when none). */
  discountBp(itemId: string, week: string): number;
}

/** Indexes the catalog and discounts; throws on a malformed fixture (a configuration error). */
export function createPriceBook(catalog: readonly Product[], discounts: readonly Discount[]): PriceBook {
  const prices = new Map<string, number>();
  for (const p of catalog) {
    if (!Number.isSafeInteger(p.price_cents) || p.price_cents < 0) {
      throw new Error(`catalog: price_cents of ${p.item_id} must be a non-negative integer`);
    }
    if (prices.has(p.item_id)) throw new Error(`catalog: item_id ${p.item_id} listed twice`);
    prices.set(p.item_id, p.price_cents);
  }
  const rates = new Map<string, number>();
  for (const d of discounts) {
    const k = `${d.item_id}\u0000${d.week}`;
    if (rates.has(k)) throw new Error(`discounts: ${d.item_id} has two rates in ${d.week}`);
    rates.set(k, rateToBasisPoints(d.rate));
  }
  return {
    priceCents: (itemId) => prices.get(itemId),
    discountBp: (itemId, week) => rates.get(`${itemId}\u0000${week}`) ?? 0,
  };
}

export interface PricedTransaction {
  items: PosLine[];
  subtotalCents: number;
  discountCents: number;
  totalCents: number;
}

/**
 * Prices cart lines (already sorted, quantity > 0, all in the catalog) at the exit instant.
 * subtotal = Σ gross, discount_total = Σ line discounts, total = Σ total_price, all exact in cents.
 */
export function priceLines(
  lines: readonly { item_id: string; quantity: number }[],
  exitMs: number,
  book: PriceBook,
): PricedTransaction {
  const week = isoWeek(exitMs);
  const items: PosLine[] = [];
  let subtotalCents = 0;
  let discountCents = 0;
  for (const l of lines) {
    const unit = book.priceCents(l.item_id);
    if (unit === undefined) throw new Error(`priceLines: ${l.item_id} is not in the catalog`);
    const bp = book.discountBp(l.item_id, week);
    const gross = unit * l.quantity;
    const discount = lineDiscountCents(gross, bp);
    subtotalCents += gross;
    discountCents += discount;
    items.push({
      item_id: l.item_id,
      quantity: l.quantity,
      unit_price: centsToDecimal(unit),
      discount: bp / 10_000,
      total_price: centsToDecimal(gross - discount),
    });
  }
  return { items, subtotalCents, discountCents, totalCents: subtotalCents - discountCents };
}
