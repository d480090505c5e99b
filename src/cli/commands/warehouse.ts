/**
 * `storesim warehouse rebuild [--run ID]`: the batch path. Rebuilds the star schema's facts from the
 * operational tables alone (after seeding the dimensions from the fixtures), for one run or all.
 */
import type { Argv } from 'yargs';
import { loadFixtures } from '../load-fixtures.js';
import { EXIT, UserError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import { count } from '../../report/render.js';
import { processIo, requireRun, withDb } from './shared.js';
import type { CommandIo, DbArgs } from './shared.js';

export interface WarehouseArgs extends DbArgs {
  action?: string;
  run?: string;
}

export function warehouseBuilder<T>(y: Argv<T>) {
  return y
    .positional('action', { choices: ['rebuild'] as const, describe: 'rebuild: the facts from the operational tables' })
    .option('run', { type: 'string', describe: 'Only this run (default: every run)' });
}

export async function warehouseHandler(argv: WarehouseArgs, io: CommandIo = processIo()): Promise<ExitCode> {
  if (argv.action !== undefined && argv.action !== 'rebuild') {
    throw new UserError(`warehouse: unknown action "${argv.action}" (known: rebuild)`);
  }
  const fixtures = loadFixtures();
  return withDb(argv, io, async (db) => {
    if (argv.run !== undefined) await requireRun(db, argv.run);
    const started = Date.now();
    const n = await db.rebuildWarehouse(argv.run);
    io.out(`rebuilt ${count(n.sales)} sales lines and ${count(n.visits)} visits for ${count(n.runs)} run${n.runs === 1 ? '' : 's'} `
      + `in ${db.description} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);
    return EXIT.ok;
  }, { fixtures });
}

export const warehouseCommand = {
  command: 'warehouse <action>',
  describe: 'Star schema maintenance: rebuild the facts from the operational tables',
  builder: warehouseBuilder,
  handler: warehouseHandler,
};
