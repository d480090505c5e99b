/**
 * `storesim report [--run ID | --all] [--format table|json|csv]`: the store's figures from the star
 * schema (docs/warehouse.md). Without --run or --all, the latest run.
 */
import type { Argv } from 'yargs';
import { loadFixtures } from '../load-fixtures.js';
import { EXIT, UserError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import { loadReport } from '../../report/queries.js';
import { REPORT_FORMATS, renderReport, useColor } from '../../report/render.js';
import type { ReportFormat } from '../../report/render.js';
import { noRuns, processIo, requireRun, withDb } from './shared.js';
import type { CommandIo, DbArgs } from './shared.js';

export interface ReportArgs extends DbArgs {
  run?: string;
  all?: boolean;
  format?: string;
}

export function reportBuilder<T>(y: Argv<T>) {
  return y
    .option('run', { type: 'string', describe: 'Run id (default: the latest run)' })
    .option('all', { type: 'boolean', describe: 'Every run in the database together' })
    .option('format', { choices: REPORT_FORMATS, default: 'table' as ReportFormat, describe: 'table (aligned, with bar charts), json or csv' })
    .conflicts('run', 'all');
}

export async function reportHandler(argv: ReportArgs, io: CommandIo = processIo()): Promise<ExitCode> {
  const format = (argv.format ?? 'table') as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw new UserError(`--format: "${argv.format}" is not one of ${REPORT_FORMATS.join(', ')}`);
  if (argv.run !== undefined && argv.all) throw new UserError('--run and --all cannot be used together (pick one run, or every run)');
  // The dimensions the report joins come from the same fixtures the engine uses.
  const fixtures = loadFixtures();
  return withDb(argv, io, async (db) => {
    let runId: string | null;
    let title: string;
    if (argv.run !== undefined) {
      await requireRun(db, argv.run);
      runId = argv.run;
      const run = await db.getRun(runId);
      title = `storesim report: run ${runId}${run ? `\nseed ${run.seed}, started ${run.started_at}, ${run.status}` : ''}`;
    } else if (argv.all) {
      const runs = await db.listRuns();
      const anyFacts = (await db.select('SELECT 1 AS x FROM fact_visits LIMIT 1')).length > 0;
      if (runs.length === 0 && !anyFacts) throw noRuns(db);
      runId = null;
      title = `storesim report: all ${runs.length} runs\n${db.description}`;
    } else {
      const latest = (await db.listRuns())[0];
      if (!latest) throw noRuns(db);
      runId = latest.run_id;
      title = `storesim report: run ${runId} (latest)\nseed ${latest.seed}, started ${latest.started_at}, ${latest.status}`;
    }
    const report = await loadReport(db, { runId });
    io.out(renderReport(report, format, { color: useColor(io.isTTY, io.env), title }));
    return EXIT.ok;
  }, { fixtures });
}

export const reportCommand = {
  command: 'report',
  describe: 'Revenue, conversion, baskets, categories, top products, payments, hours, queues, rejects of a run',
  builder: reportBuilder,
  handler: reportHandler,
};
