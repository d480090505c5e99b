/**
 * verify: compares what the engine meant (its ledger, from a replay of seed + configuration + command
 * log) with what the database holds for the run. Deliberately shares no rule code with the processor:
 * prices and discounts are recomputed here from the fixtures (STYLE.md: shared code would make verify
 * agree with any bug in it).
 */
import type { Fixtures, Ledger } from '../engine/types.js';
import type { RunContents } from '../db/types.js';
import { transactionId } from './ids.js';

export interface VerifyResult {
  ok: boolean;
  lost: number;
  duplicated: number;
  mismatched: number;
  examples: { lost: string[]; duplicated: string[]; mismatched: string[] };
}

const MAX_EXAMPLES = 10;

/** ISO week label (`2026-W48`) of an epoch-ms instant, UTC. */
export function isoWeekOf(ms: number): string {
  const DAY = 86_400_000;
  const d = new Date(ms);
  const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const thursday = midnight + (3 - ((d.getUTCDay() + 6) % 7)) * DAY; // the Thursday of its week
  const year = new Date(thursday).getUTCFullYear();
  const jan4 = Date.UTC(year, 0, 4);
  const firstThursday = jan4 + (3 - ((new Date(jan4).getUTCDay() + 6) % 7)) * DAY;
  const week = 1 + Math.round((thursday - firstThursday) / (7 * DAY));
  return `${year}-W${String(week).padStart(2, '0')}`;
}

export function verifyRun(runId: string, ledger: Ledger, db: RunContents, fixtures: Fixtures): VerifyResult {
  const lost: string[] = [];
  const duplicated: string[] = [];
  const mismatched: string[] = [];
  let nLost = 0, nDup = 0, nMis = 0;
  const note = (list: string[], s: string): void => { if (list.length < MAX_EXAMPLES) list.push(s); };

  const produced = ledger.verdicts.length;
  const staged = new Map<number, string[]>();
  for (const r of db.staging) {
    const l = staged.get(r.seq);
    if (l) l.push(r.event_id); else staged.set(r.seq, [r.event_id]);
  }
  const rejected = new Map<number, string[]>();
  for (const r of db.rejected) {
    const l = rejected.get(r.seq);
    if (l) l.push(r.code); else rejected.set(r.seq, [r.code]);
  }
  for (let seq = 1; seq <= produced; seq++) {
    const want = ledger.verdicts[seq - 1]!;
    const s = staged.get(seq);
    const r = rejected.get(seq);
    const copies = (s?.length ?? 0) + (r?.length ?? 0);
    if (copies === 0) { nLost++; note(lost, `seq ${seq}: expected ${want}, found nowhere`); continue; }
    if (copies > 1) { nDup++; note(duplicated, `seq ${seq}: ${copies} rows (staging ${s?.length ?? 0}, rejected ${r?.length ?? 0})`); continue; }
    if (want === 'accepted') {
      if (!s) { nMis++; note(mismatched, `seq ${seq}: expected accepted, rejected as ${r![0]}`); continue; }
      const id = ledger.eventIds[seq - 1];
      if (id && s[0] !== id) { nMis++; note(mismatched, `seq ${seq}: event_id ${s[0]} differs from ${id}`); }
    } else if (!r) {
      nMis++; note(mismatched, `seq ${seq}: expected rejected ${want}, accepted`);
    } else if (r[0] !== want) {
      nMis++; note(mismatched, `seq ${seq}: expected ${want}, rejected as ${r[0]}`);
    }
  }
  for (const seq of new Set([...staged.keys(), ...rejected.keys()])) {
    if (seq < 1 || seq > produced) { nMis++; note(mismatched, `seq ${seq}: not produced by this run`); }
  }

  // Visits and transactions.
  const prices = new Map(fixtures.catalog.map((p) => [p.item_id, p.price_cents]));
  const rates = new Map(fixtures.discounts.map((d) => [`${d.item_id}|${d.week}`, Math.round(d.rate * 10_000)]));
  const dbVisits = new Map<string, RunContents['visits'][number][]>();
  for (const v of db.visits) {
    const l = dbVisits.get(v.visit_id);
    if (l) l.push(v); else dbVisits.set(v.visit_id, [v]);
  }
  const dbTx = new Map<string, RunContents['transactions'][number]>();
  for (const t of db.transactions) dbTx.set(t.transaction_id, t);
  const expectedTx = new Set<string>();
  for (const v of ledger.visits) {
    const got = dbVisits.get(v.visit_id);
    if (!got) { nLost++; note(lost, `visit ${v.visit_id}: expected ${v.status}, no row`); }
    else {
      dbVisits.delete(v.visit_id);
      const row = got[0]!;
      const lines = JSON.stringify(v.lines);
      const rowLines = JSON.stringify((JSON.parse(row.lines) as { item_id: string; quantity: number }[]).map((l) => ({ item_id: l.item_id, quantity: l.quantity })));
      if (row.status !== v.status) { nMis++; note(mismatched, `visit ${v.visit_id}: status ${row.status}, expected ${v.status}`); }
      else if (rowLines !== lines) { nMis++; note(mismatched, `visit ${v.visit_id}: cart ${rowLines}, expected ${lines}`); }
    }
    if (!v.transaction || !v.exitEventId || v.exitMs === null) continue;
    const id = transactionId(runId, v.exitEventId);
    expectedTx.add(id);
    const t = dbTx.get(id);
    if (!t) { nLost++; note(lost, `transaction ${id} (visit ${v.visit_id}): no row`); continue; }
    const week = isoWeekOf(v.exitMs);
    const items = [...t.items].sort((a, b) => a.line_no - b.line_no);
    const problems: string[] = [];
    if (items.length !== v.lines.length) problems.push(`${items.length} lines, expected ${v.lines.length}`);
    let sum = 0, gross = 0, disc = 0;
    items.forEach((it, i) => {
      const want = v.lines[i];
      sum += it.total_cents; gross += it.unit_price_cents * it.quantity; disc += it.discount_cents;
      if (!want || want.item_id !== it.item_id || want.quantity !== it.quantity) { problems.push(`line ${it.line_no} is ${it.item_id} x${it.quantity}`); return; }
      const price = prices.get(it.item_id);
      const bp = rates.get(`${it.item_id}|${week}`) ?? 0;
      const g = (price ?? NaN) * it.quantity;
      const d = Math.floor((g * bp + 5_000) / 10_000);
      if (it.unit_price_cents !== price) problems.push(`line ${it.line_no} unit price ${it.unit_price_cents}, catalog ${price}`);
      if (it.discount_cents !== d || it.total_cents !== g - d) problems.push(`line ${it.line_no} discount ${it.discount_cents}/total ${it.total_cents}, expected ${d}/${g - d}`);
    });
    if (sum !== t.total_cents) problems.push(`lines add up to ${sum}, total is ${t.total_cents}`);
    if (gross !== t.subtotal_cents || disc !== t.discount_cents) problems.push(`subtotal/discount ${t.subtotal_cents}/${t.discount_cents}, lines give ${gross}/${disc}`);
    if (problems.length > 0) { nMis++; note(mismatched, `transaction ${id}: ${problems.slice(0, 3).join('; ')}`); }
  }
  for (const [visitId] of dbVisits) { nMis++; note(mismatched, `visit ${visitId}: not expected by the ledger`); }
  for (const t of db.transactions) {
    if (!expectedTx.has(t.transaction_id)) { nMis++; note(mismatched, `transaction ${t.transaction_id}: not expected by the ledger`); }
  }
  return { ok: nLost + nDup + nMis === 0, lost: nLost, duplicated: nDup, mismatched: nMis, examples: { lost, duplicated, mismatched } };
}
