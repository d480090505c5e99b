/**
 * The warehouse's batch path, shared by both dialects: read a run's operational rows back page by
 * page (keyset on the primary key, so memory stays flat on a run of any size), map them with the same
 * functions the streaming path uses (warehouse.ts), and write the facts. Runs inside one transaction
 * per run, which the dialect opens.
 */
import { itemFromRecord, num, transactionFromRecord, visitFromRecord } from './decode.js';
import { factsOf } from './warehouse.js';
import type { Facts } from './warehouse.js';
import type { TransactionItemRow, TransactionRow } from './types.js';

type Rec = Record<string, unknown>;

/** What the rebuild needs from a dialect, on the connection that holds the run's transaction. */
export interface RebuildStore {
  /** Reads, with `?` placeholders. */
  all(sql: string, params: unknown[]): Promise<Rec[]>;
  /** Writes, with `?` placeholders. */
  run(sql: string, params: unknown[]): Promise<void>;
  /**
   * Inserts facts and their dim_date days, ON CONFLICT DO NOTHING, and adds the new ones (and
   * `accepted` staging rows per run) to report_totals: the streaming path's own insert.
   */
  insertFacts(facts: Facts, accepted?: Map<string, number>): Promise<void>;
  /** An item's list price in cents, from dim_product. */
  listPrice(itemId: string): number | undefined;
  /** Rows per page read back. */
  readonly page: number;
}

/** Runs that have operational or fact rows: the scope of `rebuildWarehouse()` without a run id. */
export const RUNS_WITH_ROWS_SQL = `SELECT run_id FROM transactions UNION SELECT run_id FROM visits UNION SELECT run_id FROM staging_events
  UNION SELECT run_id FROM fact_sales UNION SELECT run_id FROM fact_visits UNION SELECT run_id FROM report_totals`;

export async function rebuildRun(s: RebuildStore, runId: string): Promise<{ sales: number; visits: number }> {
  await s.run('DELETE FROM fact_sales WHERE run_id = ?', [runId]);
  await s.run('DELETE FROM fact_visits WHERE run_id = ?', [runId]);
  await s.run('DELETE FROM report_totals WHERE run_id = ?', [runId]);
  const accepted = num((await s.all('SELECT count(*) AS n FROM staging_events WHERE run_id = ?', [runId]))[0]?.n);
  await s.insertFacts({ sales: [], visits: [], dateKeys: new Set() }, new Map([[runId, accepted]]));
  let sales = 0;
  let visits = 0;

  let after = '';
  for (;;) {
    const txRecs = await s.all(`SELECT run_id, transaction_id, visit_id, customer_id, store_id, lane, payment_method, transaction_time,
      subtotal_cents, discount_cents, total_cents FROM transactions WHERE run_id = ? AND transaction_id > ? ORDER BY transaction_id LIMIT ?`,
    [runId, after, s.page]);
    if (txRecs.length === 0) break;
    const first = String(txRecs[0]!.transaction_id);
    const last = String(txRecs[txRecs.length - 1]!.transaction_id);
    const itemRecs = await s.all(`SELECT transaction_id, line_no, item_id, quantity, unit_price_cents, discount_rate, discount_cents, total_cents
      FROM transaction_items WHERE run_id = ? AND transaction_id >= ? AND transaction_id <= ?`, [runId, first, last]);
    const items = new Map<string, TransactionItemRow[]>();
    for (const r of itemRecs) {
      const id = String(r.transaction_id);
      let list = items.get(id);
      if (!list) items.set(id, (list = []));
      list.push(itemFromRecord(r));
    }
    const txs: TransactionRow[] = txRecs.map((r) =>
      transactionFromRecord(r, (items.get(String(r.transaction_id)) ?? []).sort((a, b) => a.line_no - b.line_no)));
    const facts = factsOf(txs, [], (id) => s.listPrice(id));
    await s.insertFacts(facts);
    sales += facts.sales.length;
    after = last;
  }

  after = '';
  for (;;) {
    const recs = await s.all(`SELECT run_id, visit_id, record_id, customer_id, store_id, status, entry_time, exit_time, lane, queue_joined_at,
      service_started_at, payment_method, transaction_id, lines, items, stale FROM visits WHERE run_id = ? AND visit_id > ?
      ORDER BY visit_id LIMIT ?`, [runId, after, s.page]);
    if (recs.length === 0) break;
    const facts = factsOf([], recs.map(visitFromRecord), (id) => s.listPrice(id));
    await s.insertFacts(facts);
    visits += facts.visits.length;
    after = String(recs[recs.length - 1]!.visit_id);
  }
  return { sales, visits };
}
