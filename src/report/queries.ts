/**
 * The report's figures (docs/warehouse.md, Reports), the same SQL on both dialects: per-run sums from
 * `report_totals` (kept with the facts in the sink's transaction, so reading them costs the same for
 * a run of any size), product names from dim_product and dead letters by code from rejected_events.
 * Every figure is an integer sum or a ratio computed here from integers, so SQLite and PostgreSQL
 * give identical numbers for the same run.
 */
import { num } from '../db/decode.js';
import type { Database } from '../db/types.js';

export interface ReportScope {
  /** One run, or null for every run in the database. */
  runId: string | null;
}

export interface Report {
  run_id: string | null;
  /** Figures the headless summary also reports: these agree with it exactly. */
  revenue_cents: number;
  transactions: number;
  visits: number;
  abandoned: number;
  open_at_end: number;
  accepted: number;
  rejected: number;
  rejected_by_code: Record<string, number>;
  /** Visits that paid / visits (0 when there are none). */
  conversion: number;
  purchased: number;
  left_empty: number;
  units: number;
  /** Per transaction: units and value in cents (0 without transactions). */
  average_basket: { items: number; value_cents: number };
  revenue_by_category: { category: string; units: number; revenue_cents: number }[];
  top_products: { item_id: string; name: string; category: string; units: number; revenue_cents: number }[];
  payment_mix: { payment_method: string; transactions: number; revenue_cents: number }[];
  /** Per simulated UTC hour of day with any traffic or sales: visits entering, revenue of sales. */
  hourly: { hour: number; visits: number; revenue_cents: number }[];
  /** Served customers per lane and their mean wait (service start − queue join), ms. */
  queue_wait_by_lane: { lane: number; served: number; mean_wait_ms: number }[];
  abandoned_carts: { count: number; value_cents: number };
}

const byText = <T>(key: (x: T) => string) => (a: T, b: T): number => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);

export async function loadReport(db: Database, scope: ReportScope): Promise<Report> {
  const where = scope.runId === null ? '' : 'WHERE run_id = ?';
  const params = scope.runId === null ? [] : [scope.runId];
  const [totals, products, rejected] = await Promise.all([
    db.select(`SELECT dimension, member, sum(n) AS n, sum(units) AS units, sum(value) AS value FROM report_totals ${where}
      GROUP BY dimension, member`, params),
    db.select('SELECT item_id, name, category FROM dim_product'),
    db.select(`SELECT code, count(*) AS n FROM rejected_events ${where} GROUP BY code`, params),
  ]);

  const product = new Map(products.map((p) => [String(p.item_id), { name: String(p.name), category: String(p.category) }]));
  const dims = new Map<string, { member: string; n: number; units: number; value: number }[]>();
  for (const r of totals) {
    const d = String(r.dimension);
    let list = dims.get(d);
    if (!list) dims.set(d, (list = []));
    list.push({ member: String(r.member), n: num(r.n), units: num(r.units), value: num(r.value) });
  }
  const dim = (d: string) => dims.get(d) ?? [];

  const status: Record<string, { n: number; transactions: number; value: number }> = {};
  for (const s of dim('status')) status[s.member] = { n: s.n, transactions: s.units, value: s.value };
  const visits = dim('status').reduce((a, s) => a + s.n, 0);
  const transactions = dim('status').reduce((a, s) => a + s.units, 0);
  const revenue = dim('item').reduce((a, i) => a + i.value, 0);
  const units = dim('item').reduce((a, i) => a + i.units, 0);
  const purchased = status.purchased?.n ?? 0;

  const categories = new Map<string, { units: number; revenue: number }>();
  for (const i of dim('item')) {
    const cat = product.get(i.member)?.category ?? '(not in catalog)';
    const c = categories.get(cat) ?? { units: 0, revenue: 0 };
    c.units += i.units;
    c.revenue += i.value;
    categories.set(cat, c);
  }

  const rejectedByCode: Record<string, number> = {};
  let rejectedCount = 0;
  for (const r of [...rejected].sort(byText((x) => String(x.code)))) {
    rejectedByCode[String(r.code)] = num(r.n);
    rejectedCount += num(r.n);
  }

  return {
    run_id: scope.runId,
    revenue_cents: revenue,
    transactions,
    visits,
    abandoned: status.abandoned?.n ?? 0,
    open_at_end: status.open_at_end?.n ?? 0,
    accepted: dim('accepted').reduce((a, x) => a + x.n, 0),
    rejected: rejectedCount,
    rejected_by_code: rejectedByCode,
    conversion: visits === 0 ? 0 : purchased / visits,
    purchased,
    left_empty: status.left_empty?.n ?? 0,
    units,
    average_basket: {
      items: transactions === 0 ? 0 : units / transactions,
      value_cents: transactions === 0 ? 0 : Math.round(revenue / transactions),
    },
    revenue_by_category: [...categories]
      .map(([category, c]) => ({ category, units: c.units, revenue_cents: c.revenue }))
      .sort((a, b) => b.revenue_cents - a.revenue_cents || byText<{ category: string }>((x) => x.category)(a, b)),
    top_products: dim('item')
      .map((i) => ({
        item_id: i.member, name: product.get(i.member)?.name ?? i.member, category: product.get(i.member)?.category ?? '(not in catalog)',
        units: i.units, revenue_cents: i.value,
      }))
      .sort((a, b) => b.revenue_cents - a.revenue_cents || byText<{ item_id: string }>((x) => x.item_id)(a, b))
      .slice(0, 10),
    payment_mix: dim('payment')
      .map((p) => ({ payment_method: p.member === '' ? 'none' : p.member, transactions: p.n, revenue_cents: p.value }))
      .sort((a, b) => b.transactions - a.transactions || byText<{ payment_method: string }>((x) => x.payment_method)(a, b)),
    hourly: dim('hour')
      .map((h) => ({ hour: Number(h.member), visits: h.n, revenue_cents: h.value }))
      .sort((a, b) => a.hour - b.hour),
    queue_wait_by_lane: dim('lane')
      .filter((l) => l.n > 0)
      .map((l) => ({ lane: Number(l.member), served: l.n, mean_wait_ms: Math.round(l.value / l.n) }))
      .sort((a, b) => a.lane - b.lane),
    abandoned_carts: { count: status.abandoned?.n ?? 0, value_cents: status.abandoned?.value ?? 0 },
  };
}
