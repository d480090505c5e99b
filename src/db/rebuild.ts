/**
 * The warehouse's batch path, shared by both dialects: read a run's operational rows back page by
 * page (keyset on the primary key, so memory stays flat on a run of any size), map them with the same
 * functions the streaming path uses (warehouse.ts), write the facts' derived columns back onto them
 * and sum the report's totals again. Runs inside one transaction per run, which the dialect opens.
 *
 * Since migration 4 a fact is not a second copy: a sale line is stored once, in fact_sales, and a
 * visit fact is the visit's row with its derived columns (fact_visits is a view of the visits whose
 * columns are loaded). So the rebuild recomputes, from `transactions`, each line's transaction
 * columns (date, hour, customer, store, lane, payment) and, from `visits` and dim_product, each
 * visit's (date, hour, dwell, cart value, queue wait); and report_totals from all of them.
 */
import { itemFromRecord, num, transactionFromRecord, visitFromRecord } from './decode.js';
import { factSalesRows, factsOf, totalsOf } from './warehouse.js';
import type { Facts, ReportTotalRow } from './warehouse.js';

type Rec = Record<string, unknown>;

/** What the rebuild needs from a dialect, on the connection that holds the run's transaction. */
export interface RebuildStore {
  /** Reads, with `?` placeholders. */
  all(sql: string, params: unknown[]): Promise<Rec[]>;
  /** Writes, with `?` placeholders. */
  run(sql: string, params: unknown[]): Promise<void>;
  /**
   * Writes these facts' derived columns onto their rows (fact_sales lines and visits, which exist)
   * and upserts the dim_date days they touch.
   */
  updateFacts(facts: Facts): Promise<void>;
  /** Adds these sums to report_totals (an upsert that adds, as the sink's). */
  addTotals(rows: ReportTotalRow[]): Promise<void>;
  /** An item's list price in cents, from dim_product. */
  listPrice(itemId: string): number | undefined;
  /** Rows per page read back. */
  readonly page: number;
}

/** Runs that have operational or fact rows: the scope of `rebuildWarehouse()` without a run id. */
export const RUNS_WITH_ROWS_SQL = `SELECT run_id FROM transactions UNION SELECT run_id FROM visits UNION SELECT run_id FROM staging_events
  UNION SELECT run_id FROM fact_sales UNION SELECT run_id FROM report_totals`;

// A run's sale lines with their transaction's columns, in fact_sales key order (time, transaction,
// line): a keyset page after the last line read.
const LINES = `SELECT f.run_id, f.transaction_id, f.line_no, f.sold_at, f.item_id, f.quantity, f.unit_price_cents, f.discount_rate,
  f.discount_cents, f.total_cents, t.visit_id, t.customer_id, t.store_id, t.lane, t.payment_method, t.transaction_time
  FROM fact_sales f JOIN transactions t ON t.run_id = f.run_id AND t.transaction_id = f.transaction_id WHERE f.run_id = ?`;
const LINES_ORDER = 'ORDER BY f.sold_at, f.transaction_id, f.line_no LIMIT ?';

export async function rebuildRun(s: RebuildStore, runId: string): Promise<{ sales: number; visits: number }> {
  await s.run('DELETE FROM report_totals WHERE run_id = ?', [runId]);
  const accepted = num((await s.all('SELECT count(*) AS n FROM staging_events WHERE run_id = ?', [runId]))[0]?.n);
  await s.addTotals(totalsOf([], [], new Map([[runId, accepted]])));
  let sales = 0;
  let visits = 0;

  let last: Rec | null = null;
  for (;;) {
    const recs: Rec[] = last === null
      ? await s.all(`${LINES} ${LINES_ORDER}`, [runId, s.page])
      : await s.all(`${LINES} AND (f.sold_at, f.transaction_id, f.line_no) > (?, ?, ?) ${LINES_ORDER}`,
        [runId, last.sold_at, last.transaction_id, last.line_no, s.page]);
    if (recs.length === 0) break;
    // Each line is mapped with its own transaction's columns; a transaction's totals do not enter a fact.
    const lines = recs.flatMap((r) => factSalesRows(transactionFromRecord(r, [itemFromRecord(r)])));
    const facts: Facts = { sales: lines, visits: [], dateKeys: new Set(lines.map((f) => f.date_key)) };
    await s.updateFacts(facts);
    await s.addTotals(totalsOf(lines, []));
    sales += lines.length;
    last = recs[recs.length - 1]!;
  }

  let after = '';
  for (;;) {
    const recs = await s.all(`SELECT run_id, visit_id, record_id, customer_id, store_id, status, entry_time, exit_time, lane, queue_joined_at,
      service_started_at, payment_method, transaction_id, lines, items, stale FROM visits WHERE run_id = ? AND visit_id > ?
      ORDER BY visit_id LIMIT ?`, [runId, after, s.page]);
    if (recs.length === 0) break;
    const facts = factsOf([], recs.map(visitFromRecord), (id) => s.listPrice(id));
    await s.updateFacts(facts);
    await s.addTotals(totalsOf([], facts.visits));
    visits += facts.visits.length;
    after = String(recs[recs.length - 1]!.visit_id);
  }
  return { sales, visits };
}
