/**
 * Pure mappings into the star schema (docs/warehouse.md): operational rows → fact rows, fixtures →
 * dimension rows, a day → its dim_date row. No I/O. The streaming path (the sink's writeBatch) and
 * the batch path (`storesim warehouse rebuild`) both go through these functions, so the two paths
 * cannot disagree on what a fact is.
 */
import { isoWeek } from '../pipeline/pricing.js';
import type { Fixtures } from '../engine/types.js';
import { isoUtc } from './iso.js';
import type { TransactionRow, VisitRow } from './types.js';
import type { VisitStatus } from '../engine/types.js';

export interface FactSalesRow {
  run_id: string;
  transaction_id: string;
  line_no: number;
  /** YYYYMMDD of the sale's simulated UTC day (dim_date). */
  date_key: number;
  sold_at: string;
  /** Simulated UTC hour of day, 0–23. */
  sale_hour: number;
  item_id: string;
  customer_id: string;
  store_id: string;
  lane: number | null;
  payment_method: string | null;
  quantity: number;
  unit_price_cents: number;
  discount_rate: number;
  discount_cents: number;
  total_cents: number;
}

export interface FactVisitRow {
  run_id: string;
  visit_id: string;
  customer_id: string;
  store_id: string;
  date_key: number;
  entry_at: string;
  entry_hour: number;
  exit_at: string | null;
  /** exit − entry, ms; null while the visit was open at the end of the run. */
  dwell_ms: number | null;
  /** Units in the cart when the visit closed. */
  items: number;
  /** The cart at list price (dim_product), cents: what an abandoned cart would have been worth. */
  cart_value_cents: number;
  status: VisitStatus;
  lane: number | null;
  payment_method: string | null;
  queue_joined_at: string | null;
  service_started_at: string | null;
  /** service_started_at − queue_joined_at, ms; null unless the customer was served. */
  queue_wait_ms: number | null;
  transaction_id: string | null;
}

export interface DimDateRow {
  date_key: number;
  /** YYYY-MM-DD. */
  date: string;
  iso_week: string;
  /** Monday = 1 … Sunday = 7. */
  iso_weekday: number;
  weekday_name: string;
  day_of_month: number;
  month: number;
  quarter: number;
  year: number;
  is_weekend: boolean;
}

export interface DimProductRow { item_id: string; name: string; category: string; list_price_cents: number }
export interface DimCustomerRow { customer_id: string; segment: string; loyalty: boolean }
export interface DimStoreRow { store_id: string; layout: string; title: string; lanes: number }

export interface Dimensions {
  products: DimProductRow[];
  customers: DimCustomerRow[];
  stores: DimStoreRow[];
}

/** Facts derived from one batch (or one run's operational rows), with the days they touch. */
export interface Facts {
  sales: FactSalesRow[];
  visits: FactVisitRow[];
  dateKeys: Set<number>;
}

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** YYYYMMDD of a canonical ISO-8601 UTC time (`2026-11-23T08:00:00.000Z` → 20261123). */
export function dateKeyOf(iso: string): number {
  return Number(iso.slice(0, 4)) * 10_000 + Number(iso.slice(5, 7)) * 100 + Number(iso.slice(8, 10));
}

function hourOf(iso: string): number {
  return Number(iso.slice(11, 13));
}

export function dimDateRow(dateKey: number): DimDateRow {
  const year = Math.floor(dateKey / 10_000);
  const month = Math.floor(dateKey / 100) % 100;
  const day = dateKey % 100;
  const ms = Date.UTC(year, month - 1, day);
  const js = new Date(ms).getUTCDay();
  const isoWeekday = js === 0 ? 7 : js;
  return {
    date_key: dateKey,
    date: new Date(ms).toISOString().slice(0, 10),
    iso_week: isoWeek(ms),
    iso_weekday: isoWeekday,
    weekday_name: WEEKDAYS[isoWeekday - 1]!,
    day_of_month: day,
    month,
    quarter: Math.floor((month - 1) / 3) + 1,
    year,
    is_weekend: isoWeekday >= 6,
  };
}

export function dimensionRows(fixtures: Fixtures): Dimensions {
  return {
    products: fixtures.catalog.map((p) => ({ item_id: p.item_id, name: p.name, category: p.category, list_price_cents: p.price_cents })),
    customers: fixtures.customers.map((c) => ({ customer_id: c.customer_id, segment: c.segment, loyalty: c.loyalty })),
    stores: Object.values(fixtures.layouts)
      .map((l) => ({ store_id: l.store_id, layout: l.name, title: l.title, lanes: l.lanes.length }))
      .sort((a, b) => (a.store_id < b.store_id ? -1 : a.store_id > b.store_id ? 1 : 0)),
  };
}

/** One fact line per transaction item. A transaction without lines (forced empty checkout) has none. */
export function factSalesRows(t: TransactionRow): FactSalesRow[] {
  const soldAt = isoUtc(t.transaction_time);
  const dateKey = dateKeyOf(soldAt);
  const hour = hourOf(soldAt);
  return t.items.map((i) => ({
    run_id: t.run_id,
    transaction_id: t.transaction_id,
    line_no: i.line_no,
    date_key: dateKey,
    sold_at: soldAt,
    sale_hour: hour,
    item_id: i.item_id,
    customer_id: t.customer_id,
    store_id: t.store_id,
    lane: t.lane,
    payment_method: t.payment_method,
    quantity: i.quantity,
    unit_price_cents: i.unit_price_cents,
    discount_rate: i.discount_rate,
    discount_cents: i.discount_cents,
    total_cents: i.total_cents,
  }));
}

const msBetween = (from: string | null, to: string | null): number | null =>
  from === null || to === null ? null : Date.parse(to) - Date.parse(from);

/** One fact per visit. `listPrice` gives an item's list price in cents (0 for an unknown item). */
export function factVisitRow(v: VisitRow, listPrice: (itemId: string) => number | undefined): FactVisitRow {
  const entry = isoUtc(v.entry_time);
  const exit = v.exit_time === null ? null : isoUtc(v.exit_time);
  const joined = v.queue_joined_at === null ? null : isoUtc(v.queue_joined_at);
  const served = v.service_started_at === null ? null : isoUtc(v.service_started_at);
  let value = 0;
  for (const line of JSON.parse(v.lines) as { item_id: string; quantity: number }[]) {
    value += (listPrice(line.item_id) ?? 0) * line.quantity;
  }
  return {
    run_id: v.run_id,
    visit_id: v.visit_id,
    customer_id: v.customer_id,
    store_id: v.store_id,
    date_key: dateKeyOf(entry),
    entry_at: entry,
    entry_hour: hourOf(entry),
    exit_at: exit,
    dwell_ms: msBetween(entry, exit),
    items: v.items,
    cart_value_cents: value,
    status: v.status,
    lane: v.lane,
    payment_method: v.payment_method,
    queue_joined_at: joined,
    service_started_at: served,
    queue_wait_ms: msBetween(joined, served),
    transaction_id: v.transaction_id,
  };
}

/** The facts of a batch's transactions and visits, and the days (dim_date keys) they touch. */
export function factsOf(
  transactions: readonly TransactionRow[],
  visits: readonly VisitRow[],
  listPrice: (itemId: string) => number | undefined,
): Facts {
  const sales: FactSalesRow[] = [];
  const dateKeys = new Set<number>();
  for (const t of transactions) {
    for (const f of factSalesRows(t)) sales.push(f);
  }
  const factVisits = visits.map((v) => factVisitRow(v, listPrice));
  for (const f of sales) dateKeys.add(f.date_key);
  for (const f of factVisits) dateKeys.add(f.date_key);
  return { sales, visits: factVisits, dateKeys };
}

/**
 * One row of `report_totals`: per run, the sums the report reads, by dimension. Kept with the facts
 * (same transaction, from the facts actually inserted), so a redelivered batch adds nothing.
 *
 * | dimension | member | n | units | value |
 * |---|---|---|---|---|
 * | `accepted` | '' | staging rows | 0 | 0 |
 * | `status` | visit status | visits | transactions | cart value at list price, cents |
 * | `item` | item_id | sales lines | units | revenue, cents |
 * | `payment` | payment method ('' for none) | transactions | 0 | revenue, cents |
 * | `hour` | simulated UTC hour, 00–23 | visits entering | 0 | revenue, cents |
 * | `lane` | lane number | served customers | 0 | summed queue wait, ms |
 */
export interface ReportTotalRow {
  run_id: string;
  dimension: 'accepted' | 'status' | 'item' | 'payment' | 'hour' | 'lane';
  member: string;
  n: number;
  units: number;
  value: number;
}

/**
 * Sums of these facts (and `accepted` new staging rows), per run, dimension and member, sorted by
 * key: upserts in one order everywhere, so two sinks updating the same rows cannot deadlock.
 */
export function totalsOf(sales: readonly FactSalesRow[], visits: readonly FactVisitRow[], accepted: Map<string, number> = new Map()): ReportTotalRow[] {
  // Run → dimension → member → row: no key string built per fact (a batch is nearly always one run).
  const runs = new Map<string, Map<ReportTotalRow['dimension'], Map<string, ReportTotalRow>>>();
  let run_id = '';
  let dims: Map<ReportTotalRow['dimension'], Map<string, ReportTotalRow>> | undefined;
  const add = (run: string, dimension: ReportTotalRow['dimension'], member: string, n: number, units: number, value: number): void => {
    if (dims === undefined || run !== run_id) {
      run_id = run;
      dims = runs.get(run);
      if (!dims) runs.set(run, (dims = new Map()));
    }
    let members = dims.get(dimension);
    if (!members) dims.set(dimension, (members = new Map()));
    let r = members.get(member);
    if (!r) members.set(member, (r = { run_id: run, dimension, member, n: 0, units: 0, value: 0 }));
    r.n += n;
    r.units += units;
    r.value += value;
  };
  for (const [run, n] of accepted) if (n > 0) add(run, 'accepted', '', n, 0, 0);
  for (const f of sales) {
    add(f.run_id, 'item', f.item_id, 1, f.quantity, f.total_cents);
    add(f.run_id, 'payment', f.payment_method ?? '', 0, 0, f.total_cents);
    add(f.run_id, 'hour', hourMember(f.sale_hour), 0, 0, f.total_cents);
  }
  for (const v of visits) {
    const paid = v.transaction_id === null ? 0 : 1;
    add(v.run_id, 'status', v.status, 1, paid, v.cart_value_cents);
    if (paid) add(v.run_id, 'payment', v.payment_method ?? '', 1, 0, 0);
    add(v.run_id, 'hour', hourMember(v.entry_hour), 1, 0, 0);
    if (v.lane !== null && v.queue_wait_ms !== null) add(v.run_id, 'lane', String(v.lane), 1, 0, v.queue_wait_ms);
  }
  // Sorted by (run_id, dimension, member), as the key strings `run\0dimension\0member` would sort.
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const out: ReportTotalRow[] = [];
  for (const run of [...runs.keys()].sort(cmp)) {
    const byDim = runs.get(run)!;
    for (const dim of [...byDim.keys()].sort(cmp)) {
      const members = byDim.get(dim)!;
      for (const m of [...members.keys()].sort(cmp)) out.push(members.get(m)!);
    }
  }
  return out;
}

const HOUR_MEMBERS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, '0'));
const hourMember = (h: number): string => HOUR_MEMBERS[h] ?? String(h).padStart(2, '0');
