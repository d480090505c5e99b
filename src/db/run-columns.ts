/**
 * The columns `updateRun` may set, encoded per dialect. A whitelist: the patch comes from code, but
 * its keys become SQL, so only known columns pass.
 */
import type { RunRow } from './types.js';

type RunPatch = Partial<Omit<RunRow, 'run_id'>>;

export interface ColumnEncoders {
  time(iso: string): unknown;
  json(value: unknown): unknown;
  bool(value: boolean | null): unknown;
}

const PLAIN = ['seed', 'bus', 'db', 'topic_prefix', 'config', 'stopped_at_seq', 'stopped_at_ms', 'status', 'produced', 'summary'] as const;
const TIMES = ['started_at', 'heartbeat_at'] as const;

/** [column, encoded value] for every key present in `patch` (undefined values are skipped). */
export function runPatchColumns(patch: RunPatch, enc: ColumnEncoders): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const c of PLAIN) if (patch[c] !== undefined) out.push([c, patch[c]]);
  for (const c of TIMES) {
    const v = patch[c];
    if (v !== undefined) out.push([c, enc.time(v)]);
  }
  if (patch.command_log !== undefined) out.push(['command_log', enc.json(patch.command_log)]);
  if (patch.verify_ok !== undefined) out.push(['verify_ok', enc.bool(patch.verify_ok)]);
  return out;
}
