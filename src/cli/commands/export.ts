/**
 * `storesim export --run ID --format parquet|csv|jsonl --out DIR`: a run's fact and dimension tables
 * as files (one per table) an analyst opens in another tool.
 */
import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import type { Argv } from 'yargs';
import { EXIT, UserError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import { EXPORT_FORMATS, exportRun } from '../../report/export-files.js';
import type { ExportFormat } from '../../report/export-files.js';
import { count } from '../../report/render.js';
import { processIo, requireRun, withDb } from './shared.js';
import type { CommandIo, DbArgs } from './shared.js';

export interface ExportArgs extends DbArgs {
  run?: string;
  format?: string;
  out?: string;
}

export function exportBuilder<T>(y: Argv<T>) {
  return y
    .option('run', { type: 'string', demandOption: true, describe: 'Run id' })
    .option('format', { choices: EXPORT_FORMATS, default: 'parquet' as ExportFormat, describe: 'parquet, csv or jsonl' })
    .option('out', { type: 'string', demandOption: true, describe: 'Directory for the files (created if missing)' });
}

/** Creates `dir` if needed and checks it can take files; a UserError naming the problem otherwise. */
export function prepareOutDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new UserError(`--out ${dir}: cannot create the directory (${code}) (pass a writable directory)`);
  }
  if (!statSync(dir).isDirectory()) throw new UserError(`--out ${dir}: not a directory (pass a directory for the files)`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UserError(`--out ${dir}: not writable (fix its permissions or pass another directory)`);
  }
}

export async function exportHandler(argv: ExportArgs, io: CommandIo = processIo()): Promise<ExitCode> {
  if (argv.run === undefined || argv.run === '') throw new UserError('export needs --run ID (list runs with: storesim runs list)');
  if (argv.out === undefined || argv.out === '') throw new UserError('export needs --out DIR (a directory for the files)');
  const format = (argv.format ?? 'parquet') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new UserError(`--format: "${argv.format}" is not one of ${EXPORT_FORMATS.join(', ')}`);
  const dir = argv.out;
  return withDb(argv, io, async (db) => {
    await requireRun(db, argv.run!);
    prepareOutDir(dir);
    let files;
    try {
      files = await exportRun(db, argv.run!, format, dir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
        throw new UserError(`--out ${dir}: cannot write the files (${code}) (free space or pass another directory)`);
      }
      throw err;
    }
    for (const f of files) io.out(`${f.path}  ${count(f.rows)} rows\n`);
    return EXIT.ok;
  });
}

export const exportCommand = {
  command: 'export',
  describe: "Write a run's fact and dimension tables as Parquet, CSV or JSON lines",
  builder: exportBuilder,
  handler: exportHandler,
};
