/**
 * The offline pipeline's reference ceiling (bench:offline): how fast this machine's SQLite takes the
 * rows a run wrote when nothing else runs. Every row of a finished run is read back, then written
 * again into a fresh database with storesim's schema and write settings, table by table, in key
 * order, 5,000 rows a transaction, one prepared statement a table: the most favourable order there
 * is (the sink writes the randomly keyed tables in random order, and beside the engine and the
 * processor). SQLite has one writer, so these seconds bound the run's raw events/s from above.
 */
import { rmSync } from 'node:fs';
import { openSqliteConnection, createSqliteDatabase } from '../src/db/sqlite.js';
import { RUN_TABLES } from '../src/db/types.js';

export interface SqliteCeiling {
  rows: number;
  /**
   * Seconds to write every row of the run; every row but the warehouse's own table (report_totals;
   * since migration 4 the sale lines in fact_sales and the visits are the run's operational rows,
   * the visits with their fact columns); its staging_events rows alone (one per accepted event).
   */
  allS: number;
  operationalS: number;
  stagingRows: number;
  stagingS: number;
}

const ROWS_PER_TRANSACTION = 5_000;
const WAREHOUSE_TABLES = new Set<string>(['report_totals']);

export async function sqliteWriteCeiling(sourcePath: string, scratchPath: string): Promise<SqliteCeiling> {
  const source = openSqliteConnection(sourcePath, 5_000);
  // In the reverse of delete order (RUN_TABLES): the runs row first, as a parent would be.
  const tables = [...RUN_TABLES].reverse().map((t) => ({ t, rows: source.prepare(`SELECT * FROM ${t}`).raw().all() as unknown[][] }));
  source.close();

  for (const s of ['', '-wal', '-shm']) rmSync(scratchPath + s, { force: true });
  const conn = openSqliteConnection(scratchPath, 5_000);
  const db = createSqliteDatabase(conn, scratchPath); // its write pragmas, on this connection
  await db.migrate();
  try {
    let allS = 0;
    let operationalS = 0;
    let stagingS = 0;
    let rows = 0;
    let stagingRows = 0;
    for (const { t, rows: data } of tables) {
      if (data.length === 0) continue;
      const insert = conn.prepare(`INSERT INTO ${t} VALUES (${data[0]!.map(() => '?').join(', ')})`);
      const write = conn.transaction((chunk: unknown[][]) => { for (const r of chunk) insert.run(r); });
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < data.length; i += ROWS_PER_TRANSACTION) write.immediate(data.slice(i, i + ROWS_PER_TRANSACTION));
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      allS += s;
      if (!WAREHOUSE_TABLES.has(t)) operationalS += s;
      rows += data.length;
      if (t === 'staging_events') {
        stagingS = s;
        stagingRows = data.length;
      }
    }
    return { rows, allS, operationalS, stagingRows, stagingS };
  } finally {
    await db.close();
    for (const s of ['', '-wal', '-shm']) rmSync(scratchPath + s, { force: true });
  }
}
