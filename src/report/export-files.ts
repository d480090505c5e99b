/**
 * Export of a run's star schema as files an analyst opens elsewhere (docs/warehouse.md, Export):
 * one file per fact and dimension table, as Parquet (hyparquet-writer; integers for cents, timestamps
 * as UTC timestamps, dates as dates), CSV or JSON lines. Rows are read a page at a time (keyset on the
 * primary key) and written as they come, so memory stays flat whatever the run's size.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ParquetWriter, fileWriter } from 'hyparquet-writer';
import { num } from '../db/decode.js';
import { readIso } from '../db/iso.js';
import type { Database } from '../db/types.js';

export type ExportFormat = 'parquet' | 'csv' | 'jsonl';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['parquet', 'csv', 'jsonl'];

type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

type Kind = 'string' | 'int32' | 'int64' | 'double' | 'timestamp' | 'date' | 'bool';
interface Column { name: string; kind: Kind; nullable?: boolean }

export interface ExportTable {
  name: string;
  columns: Column[];
  /** Primary-key columns, for keyset paging. */
  key: string[];
  /** Whether rows are the run's only (facts) or, for dim_date, the days the run's facts touch. */
  scope: 'run' | 'run_days' | 'all';
}

const c = (name: string, kind: Kind, nullable = false): Column => ({ name, kind, nullable });

export const EXPORT_TABLES: readonly ExportTable[] = [
  {
    name: 'fact_sales', scope: 'run', key: ['sold_at', 'transaction_id', 'line_no'], columns: [
      c('run_id', 'string'), c('transaction_id', 'string'), c('line_no', 'int32'), c('date_key', 'int32'), c('sold_at', 'timestamp'),
      c('sale_hour', 'int32'), c('item_id', 'string'), c('customer_id', 'string'), c('store_id', 'string'), c('lane', 'int32', true),
      c('payment_method', 'string', true), c('quantity', 'int32'), c('unit_price_cents', 'int64'), c('discount_rate', 'double'),
      c('discount_cents', 'int64'), c('total_cents', 'int64'),
    ],
  },
  {
    name: 'fact_visits', scope: 'run', key: ['visit_id'], columns: [
      c('run_id', 'string'), c('visit_id', 'string'), c('customer_id', 'string'), c('store_id', 'string'), c('date_key', 'int32'),
      c('entry_at', 'timestamp'), c('entry_hour', 'int32'), c('exit_at', 'timestamp', true), c('dwell_ms', 'int64', true), c('items', 'int32'),
      c('cart_value_cents', 'int64'), c('status', 'string'), c('lane', 'int32', true), c('payment_method', 'string', true),
      c('queue_joined_at', 'timestamp', true), c('service_started_at', 'timestamp', true), c('queue_wait_ms', 'int64', true),
      c('transaction_id', 'string', true),
    ],
  },
  {
    name: 'dim_date', scope: 'run_days', key: ['date_key'], columns: [
      c('date_key', 'int32'), c('date', 'date'), c('iso_week', 'string'), c('iso_weekday', 'int32'), c('weekday_name', 'string'),
      c('day_of_month', 'int32'), c('month', 'int32'), c('quarter', 'int32'), c('year', 'int32'), c('is_weekend', 'bool'),
    ],
  },
  {
    name: 'dim_product', scope: 'all', key: ['item_id'], columns: [
      c('item_id', 'string'), c('name', 'string'), c('category', 'string'), c('list_price_cents', 'int64'),
    ],
  },
  { name: 'dim_customer', scope: 'all', key: ['customer_id'], columns: [c('customer_id', 'string'), c('segment', 'string'), c('loyalty', 'bool')] },
  {
    name: 'dim_store', scope: 'all', key: ['store_id'], columns: [
      c('store_id', 'string'), c('layout', 'string'), c('title', 'string'), c('lanes', 'int32'),
    ],
  },
];

type Value = string | number | bigint | boolean | Date | null;

function decode(kind: Kind, v: unknown): Value {
  if (v === null || v === undefined) return null;
  switch (kind) {
    case 'string': return String(v);
    case 'int32': case 'double': return num(v);
    case 'int64': return typeof v === 'bigint' ? v : BigInt(typeof v === 'number' ? v : String(v));
    case 'timestamp': return new Date(readIso(v));
    case 'date': return new Date(`${String(v).slice(0, 10)}T00:00:00.000Z`);
    case 'bool': return v === true || v === 1 || v === '1' || v === 't';
  }
}

function parquetElement(col: Column): SchemaElement {
  const repetition_type = col.nullable ? 'OPTIONAL' : 'REQUIRED';
  switch (col.kind) {
    case 'string': return { name: col.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type };
    case 'int32': return { name: col.name, type: 'INT32', repetition_type };
    case 'int64': return { name: col.name, type: 'INT64', repetition_type };
    case 'double': return { name: col.name, type: 'DOUBLE', repetition_type };
    case 'bool': return { name: col.name, type: 'BOOLEAN', repetition_type };
    case 'date': return { name: col.name, type: 'INT32', converted_type: 'DATE', logical_type: { type: 'DATE' }, repetition_type };
    case 'timestamp': return {
      name: col.name, type: 'INT64', converted_type: 'TIMESTAMP_MILLIS',
      logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' }, repetition_type,
    };
  }
}

function text(v: Value): string {
  if (v === null) return '';
  if (v instanceof Date) return v.toISOString();
  return String(v);
}

function csvCell(v: Value, kind: Kind): string {
  const s = kind === 'date' && v instanceof Date ? v.toISOString().slice(0, 10) : text(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function jsonValue(v: Value, kind: Kind): unknown {
  if (v instanceof Date) return kind === 'date' ? v.toISOString().slice(0, 10) : v.toISOString();
  if (typeof v === 'bigint') return Number(v);
  return v;
}

interface Sink { rows(batch: Value[][]): void; close(): void }

function openSink(path: string, table: ExportTable, format: ExportFormat): Sink {
  if (format === 'parquet') {
    const schema: SchemaElement[] = [{ name: 'root', num_children: table.columns.length }, ...table.columns.map(parquetElement)];
    const writer = new ParquetWriter({ writer: fileWriter(path), schema, createdBy: 'storesim' });
    let wrote = false;
    return {
      rows(batch) {
        if (batch.length === 0) return;
        wrote = true;
        void writer.write({
          columnData: table.columns.map((col, i) => ({ name: col.name, data: batch.map((r) => r[i]) as never[] })),
          rowGroupSize: batch.length,
        });
      },
      close() {
        if (!wrote) {
          // An empty table still gets a valid file with its schema.
          void writer.write({ columnData: table.columns.map((col) => ({ name: col.name, data: [] as never[] })) });
        }
        writer.finish();
      },
    };
  }
  const fd = openSync(path, 'w');
  if (format === 'csv') writeSync(fd, table.columns.map((col) => col.name).join(',') + '\n');
  return {
    rows(batch) {
      const lines = format === 'csv'
        ? batch.map((r) => r.map((v, i) => csvCell(v, table.columns[i]!.kind)).join(','))
        : batch.map((r) => JSON.stringify(Object.fromEntries(table.columns.map((col, i) => [col.name, jsonValue(r[i]!, col.kind)]))));
      if (lines.length > 0) writeSync(fd, lines.join('\n') + '\n');
    },
    close() {
      closeSync(fd);
    },
  };
}

function selectColumn(col: Column): string {
  // pg turns a `date` into a local-midnight Date; its text form is the day itself on both dialects.
  return col.kind === 'date' ? `CAST(${col.name} AS TEXT) AS ${col.name}` : col.name;
}

export interface ExportedFile { table: string; path: string; rows: number }

/** Writes every fact and dimension table of `runId` into `dir` (which must exist and be writable). */
export async function exportRun(db: Database, runId: string, format: ExportFormat, dir: string, page = 50_000): Promise<ExportedFile[]> {
  const out: ExportedFile[] = [];
  for (const table of EXPORT_TABLES) {
    const path = join(dir, `${table.name}.${format}`);
    const sink = openSink(path, table, format);
    let rows = 0;
    try {
      let after: unknown[] | null = null;
      for (;;) {
        const where: string[] = [];
        const params: unknown[] = [];
        if (table.scope === 'run') {
          where.push('run_id = ?');
          params.push(runId);
        } else if (table.scope === 'run_days') {
          where.push('date_key IN (SELECT date_key FROM fact_sales WHERE run_id = ? UNION SELECT date_key FROM fact_visits WHERE run_id = ?)');
          params.push(runId, runId);
        }
        if (after) {
          where.push(`(${table.key.join(', ')}) > (${table.key.map(() => '?').join(', ')})`);
          params.push(...after);
        }
        const recs = await db.select(`SELECT ${table.columns.map(selectColumn).join(', ')} FROM ${table.name}
          ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${table.key.join(', ')} LIMIT ?`, [...params, page]);
        if (recs.length === 0) break;
        sink.rows(recs.map((r) => table.columns.map((col) => decode(col.kind, r[col.name]))));
        rows += recs.length;
        const last = recs[recs.length - 1]!;
        after = table.key.map((k) => last[k]);
        if (recs.length < page) break;
      }
    } finally {
      sink.close();
    }
    out.push({ table: table.name, path, rows });
  }
  return out;
}
