/**
 * The report's figures (docs/warehouse.md, Reports): five queries, the same SQL on both dialects,
 * every figure an integer aggregate or a ratio computed here from integers, so SQLite and PostgreSQL
 * give identical numbers for the same run. The fact queries group at the finest grain the report
 * needs (item × payment × hour; status × hour × lane × payment) and roll up in JS: one pass over
 * each fact table's report index instead of one per section.
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
  const [sales, visits, products, rejected, accepted] = await Promise.all([
    db.select(`SELECT item_id, payment_method, sale_hour, sum(quantity) AS units, sum(total_cents) AS revenue
      FROM fact_sales ${where} GROUP BY item_id, payment_method, sale_hour`, params),
    db.select(`SELECT status, entry_hour, lane, payment_method, count(*) AS n, count(transaction_id) AS tx, count(queue_wait_ms) AS served,
      sum(queue_wait_ms) AS wait, sum(cart_value_cents) AS cart FROM fact_visits ${where} GROUP BY status, entry_hour, lane, payment_method`, params),
    db.select('SELECT item_id, name, category FROM dim_product'),
    db.select(`SELECT code, count(*) AS n FROM rejected_events ${where} GROUP BY code`, params),
    db.select(`SELECT count(*) AS n FROM staging_events ${where}`, params),
  ]);

  const product = new Map(products.map((p) => [String(p.item_id), { name: String(p.name), category: String(p.category) }]));
  const items = new Map<string, { units: number; revenue: number }>();
  const categories = new Map<string, { units: number; revenue: number }>();
  const payRevenue = new Map<string, number>();
  const hourly = new Map<number, { visits: number; revenue: number }>();
  const hour = (h: number) => {
    let e = hourly.get(h);
    if (!e) hourly.set(h, (e = { visits: 0, revenue: 0 }));
    return e;
  };
  let revenue = 0;
  let units = 0;
  for (const r of sales) {
    const u = num(r.units);
    const v = num(r.revenue);
    const id = String(r.item_id);
    const item = items.get(id) ?? { units: 0, revenue: 0 };
    item.units += u;
    item.revenue += v;
    items.set(id, item);
    const cat = product.get(id)?.category ?? '(not in catalog)';
    const c = categories.get(cat) ?? { units: 0, revenue: 0 };
    c.units += u;
    c.revenue += v;
    categories.set(cat, c);
    const pm = r.payment_method === null ? 'none' : String(r.payment_method);
    payRevenue.set(pm, (payRevenue.get(pm) ?? 0) + v);
    hour(num(r.sale_hour)).revenue += v;
    revenue += v;
    units += u;
  }

  const status: Record<string, number> = {};
  const payTx = new Map<string, number>();
  const lanes = new Map<number, { served: number; wait: number }>();
  let transactions = 0;
  let visitCount = 0;
  let abandonedValue = 0;
  for (const r of visits) {
    const n = num(r.n);
    const tx = num(r.tx);
    const s = String(r.status);
    status[s] = (status[s] ?? 0) + n;
    visitCount += n;
    transactions += tx;
    if (tx > 0) {
      const pm = r.payment_method === null ? 'none' : String(r.payment_method);
      payTx.set(pm, (payTx.get(pm) ?? 0) + tx);
    }
    if (r.lane !== null && num(r.served) > 0) {
      const l = lanes.get(num(r.lane)) ?? { served: 0, wait: 0 };
      l.served += num(r.served);
      l.wait += num(r.wait);
      lanes.set(num(r.lane), l);
    }
    if (s === 'abandoned') abandonedValue += num(r.cart);
    hour(num(r.entry_hour)).visits += n;
  }

  const rejectedByCode: Record<string, number> = {};
  let rejectedCount = 0;
  for (const r of [...rejected].sort(byText((x) => String(x.code)))) {
    rejectedByCode[String(r.code)] = num(r.n);
    rejectedCount += num(r.n);
  }
  const purchased = status.purchased ?? 0;
  const payments = new Set([...payTx.keys(), ...payRevenue.keys()]);

  return {
    run_id: scope.runId,
    revenue_cents: revenue,
    transactions,
    visits: visitCount,
    abandoned: status.abandoned ?? 0,
    open_at_end: status.open_at_end ?? 0,
    accepted: num(accepted[0]?.n),
    rejected: rejectedCount,
    rejected_by_code: rejectedByCode,
    conversion: visitCount === 0 ? 0 : purchased / visitCount,
    purchased,
    left_empty: status.left_empty ?? 0,
    units,
    average_basket: {
      items: transactions === 0 ? 0 : units / transactions,
      value_cents: transactions === 0 ? 0 : Math.round(revenue / transactions),
    },
    revenue_by_category: [...categories]
      .map(([category, c]) => ({ category, units: c.units, revenue_cents: c.revenue }))
      .sort((a, b) => b.revenue_cents - a.revenue_cents || byText<{ category: string }>((x) => x.category)(a, b)),
    top_products: [...items]
      .map(([item_id, i]) => ({ item_id, name: product.get(item_id)?.name ?? item_id, category: product.get(item_id)?.category ?? '(not in catalog)', units: i.units, revenue_cents: i.revenue }))
      .sort((a, b) => b.revenue_cents - a.revenue_cents || byText<{ item_id: string }>((x) => x.item_id)(a, b))
      .slice(0, 10),
    payment_mix: [...payments].sort()
      .map((pm) => ({ payment_method: pm, transactions: payTx.get(pm) ?? 0, revenue_cents: payRevenue.get(pm) ?? 0 }))
      .sort((a, b) => b.transactions - a.transactions || byText<{ payment_method: string }>((x) => x.payment_method)(a, b)),
    hourly: [...hourly].sort(([a], [b]) => a - b).map(([h, e]) => ({ hour: h, visits: e.visits, revenue_cents: e.revenue })),
    queue_wait_by_lane: [...lanes].sort(([a], [b]) => a - b)
      .map(([lane, l]) => ({ lane, served: l.served, mean_wait_ms: Math.round(l.wait / l.served) })),
    abandoned_carts: { count: status.abandoned ?? 0, value_cents: abandonedValue },
  };
}
