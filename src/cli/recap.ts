/**
 * The lines a person reads when the dashboard closes: the run's summary in words (what happened in
 * the store, what the pipeline rejected, the faults, whether verify agreed), and the command that
 * shows more. The JSON summary line still follows it on stdout, for scripts. Pure formatting.
 */
import { resolve } from 'node:path';
import { maskUrl } from '../db/errors.js';
import type { FaultRecord } from '../faults.js';
import type { Summary } from '../main.js';
import { compact, latency, money } from '../ui/format.js';
import type { DbTarget } from './config.js';

/** What the recap reads of the run's summary. */
export type RecapInput = Pick<Summary, 'run_id' | 'produced' | 'accepted' | 'rejected' | 'rejected_by_code' | 'redelivered' | 'visits'
  | 'abandoned' | 'open_at_end' | 'transactions' | 'revenue_cents' | 'elapsed_s' | 'latency_ms' | 'verify' | 'faults'>;

const n = (x: number): string => x.toLocaleString('en-US');
const secs = (s: number): string => latency(s * 1000);

function faultText(f: FaultRecord): string {
  const parts = [f.duration_s === null ? 'still on' : secs(f.duration_s)];
  if (f.peak_backlog > 0) parts.push(`peak backlog ${compact(f.peak_backlog)}`);
  if (f.drain_s !== null && f.duration_s !== null) parts.push(`drained ${secs(f.drain_s)} after`);
  else if (f.duration_s !== null) parts.push('not drained');
  return `${f.name} ${parts.join(', ')}`;
}

/** `--sqlite PATH` or `--database-url URL` (password masked) for a command on the same database; '' for the default file. */
export function databaseFlag(db: DbTarget, defaultSqlitePath: string): string {
  if (db.url) return ` --database-url ${maskUrl(db.url)}`;
  const path = db.sqlitePath ?? defaultSqlitePath;
  return resolve(path) === resolve(defaultSqlitePath) ? '' : ` --sqlite ${path}`;
}

export function recapLines(s: RecapInput, dbFlag: string): string[] {
  const byCode = Object.entries(s.rejected_by_code).map(([code, k]) => `${code} ${n(k)}`).join(', ');
  const v = s.verify;
  const lines = [
    `storesim: run ${s.run_id} ended after ${secs(s.elapsed_s)}`,
    `  verify    ${v.ok ? 'ok' : 'FAILED'}: lost ${n(v.lost)}, duplicated ${n(v.duplicated)}, mismatched ${n(v.mismatched)}`,
    `  events    ${n(s.produced)} produced, ${n(s.accepted)} accepted, ${n(s.rejected)} rejected${byCode ? ` (${byCode})` : ''}` +
      (s.redelivered > 0 ? `, ${n(s.redelivered)} redelivered copies dropped` : ''),
    `  visits    ${n(s.visits)} (${n(s.abandoned)} abandoned, ${n(s.open_at_end)} open at the end)`,
    `  sales     ${n(s.transactions)} transactions, ${money(s.revenue_cents)}`,
    `  latency   ${s.latency_ms.p50 === null || s.latency_ms.p99 === null ? 'nothing committed' : `p50 ${latency(s.latency_ms.p50)}, p99 ${latency(s.latency_ms.p99)}`} (publish to commit, over the run)`,
  ];
  if (s.faults.length > 0) lines.push(`  faults    ${s.faults.map(faultText).join('; ')}`);
  lines.push(`  more      storesim report --run ${s.run_id}${dbFlag}`);
  return lines;
}
