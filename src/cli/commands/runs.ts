/**
 * `storesim runs list | show ID | delete ID [--yes]`: the runs a database holds. `delete` removes
 * every row of the run from every table in one transaction, after a confirmation unless --yes.
 */
import type { Argv } from 'yargs';
import { EXIT, UserError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import { RUN_TABLES } from '../../db/types.js';
import type { RunRow } from '../../db/types.js';
import { count, table } from '../../report/render.js';
import { processIo, requireRun, withDb } from './shared.js';
import type { CommandIo, DbArgs } from './shared.js';

export interface RunsArgs extends DbArgs {
  action?: string;
  id?: string;
  yes?: boolean;
  format?: string;
}

const ACTIONS = ['list', 'show', 'delete'] as const;

export function runsBuilder<T>(y: Argv<T>) {
  return y
    .positional('action', { choices: ACTIONS, describe: 'list | show ID | delete ID' })
    .positional('id', { type: 'string', describe: 'Run id (show, delete)' })
    .option('yes', { type: 'boolean', describe: 'delete without asking' })
    .option('format', { choices: ['table', 'json'] as const, default: 'table', describe: 'Output of list and show' });
}

const plain = { bold: (s: string) => s, dim: (s: string) => s, bar: (s: string) => s };

function verifyText(v: boolean | null): string {
  return v === null ? '-' : v ? 'ok' : 'FAILED';
}

/** Keys that could hold a secret: the recorded configuration has none, but a hand-made row might. */
const SECRET_KEY = /pass(word)?|secret|token|credential/i;

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) ? '***' : redact(v)]));
  }
  if (typeof value === 'string') return value.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
  return value;
}

function listLines(runs: RunRow[]): string {
  const rows = runs.map((r) => [
    r.run_id, r.started_at.slice(0, 19).replace('T', ' '), String(r.seed), `${r.bus}/${r.db}`, r.status,
    r.produced === null ? '-' : count(r.produced), verifyText(r.verify_ok),
  ]);
  return table(['run', 'started (UTC)', 'seed', 'mode', 'status', 'produced', 'verify'], rows, [false, false, true, false, false, true, false], plain)
    .join('\n') + '\n';
}

export async function runsHandler(argv: RunsArgs, io: CommandIo = processIo()): Promise<ExitCode> {
  const action = argv.action ?? 'list';
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UserError(`runs: unknown action "${action}" (known: ${ACTIONS.join(', ')})`);
  if (action !== 'list' && (argv.id === undefined || argv.id === '')) throw new UserError(`runs ${action} needs a run id (list them with: storesim runs list)`);
  const json = argv.format === 'json';
  return withDb(argv, io, async (db) => {
    if (action === 'list') {
      const runs = await db.listRuns();
      if (json) io.out(JSON.stringify(runs.map((r) => ({ ...r, config: undefined, command_log: undefined, summary: undefined }))) + '\n');
      else if (runs.length === 0) io.out(`no runs in ${db.description}\n`);
      else io.out(listLines(runs));
      return EXIT.ok;
    }
    const id = argv.id!;
    if (action === 'show') {
      const run = await db.getRun(id);
      if (!run) throw new UserError(`no run ${id} in ${db.description} (list runs with: storesim runs list)`);
      const counts = await db.counts(id);
      const config = redact(JSON.parse(run.config) as unknown);
      if (json) {
        io.out(JSON.stringify({ ...run, config, summary: run.summary === null ? null : JSON.parse(run.summary) as unknown, counts }) + '\n');
        return EXIT.ok;
      }
      const kv: [string, string][] = [
        ['run', run.run_id], ['started', run.started_at], ['seed', String(run.seed)], ['mode', `${run.bus} bus, ${run.db} database`],
        ['topic prefix', run.topic_prefix === '' ? '(none)' : run.topic_prefix], ['status', run.status], ['heartbeat', run.heartbeat_at],
        ['produced', run.produced === null ? '-' : count(run.produced)],
        ['stopped at', run.stopped_at_seq === null ? '-' : `seq ${run.stopped_at_seq}, simulated ${run.stopped_at_ms === null ? '?' : new Date(run.stopped_at_ms).toISOString()}`],
        ['verify', verifyText(run.verify_ok)],
      ];
      const w = Math.max(...kv.map(([k]) => k.length));
      const lines = kv.map(([k, v]) => `${k.padEnd(w)}  ${v}`);
      lines.push('', 'counts:',
        `  accepted ${count(counts.staging)}, rejected ${count(counts.rejected)}${Object.keys(counts.rejectedByCode).length ? ` (${Object.entries(counts.rejectedByCode).sort().map(([c, n]) => `${c} ${n}`).join(', ')})` : ''}`,
        `  visits ${count(counts.visits)} (${Object.entries(counts.visitsByStatus).sort().map(([s, n]) => `${s} ${n}`).join(', ') || 'none'})`,
        `  transactions ${count(counts.transactions)}, revenue ${(counts.revenueCents / 100).toFixed(2)}`);
      lines.push('', `command log (${run.command_log.length}):`);
      for (const c of run.command_log) lines.push(`  step ${c.step} at ${new Date(c.sim_ms).toISOString()}: ${JSON.stringify(c.command)}`);
      lines.push('', 'configuration (no secrets):', ...JSON.stringify(config, null, 2).split('\n').map((l) => `  ${l}`));
      io.out(lines.join('\n') + '\n');
      return EXIT.ok;
    }
    // delete
    await requireRun(db, id);
    if (!argv.yes) {
      if (!io.confirm) throw new UserError(`runs delete ${id}: no terminal to confirm on (pass --yes to delete without asking)`);
      if (!(await io.confirm(`Delete run ${id} and every row it wrote in ${db.description}?`))) {
        io.out('nothing deleted\n');
        return EXIT.ok;
      }
    }
    const deleted = await db.deleteRun(id);
    const total = RUN_TABLES.reduce((s, t) => s + deleted[t], 0);
    io.out(`deleted run ${id}: ${count(total)} rows (${RUN_TABLES.filter((t) => deleted[t] > 0).map((t) => `${t} ${count(deleted[t])}`).join(', ')})\n`);
    return EXIT.ok;
  });
}

export const runsCommand = {
  command: 'runs <action> [id]',
  describe: 'The runs in the database: list, show ID, delete ID',
  builder: runsBuilder,
  handler: runsHandler,
};
