/**
 * The SQLite connection's own thread (worker_threads): opens the file, wraps it with
 * createSqliteDatabase, and answers method calls posted by sqlite-worker-client.ts. better-sqlite3
 * is synchronous, so here its writes (and a wait on a held lock) never stop the main thread: the
 * engine, processor and dashboard keep running while a batch is written (DESIGN.md, Infrastructure
 * faults).
 */
import { parentPort, workerData } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import { classifySqliteOpenError } from './errors.js';
import { createSqliteDatabase, openSqliteConnection } from './sqlite.js';
import { fromWire, serializeError, type SqliteWorkerData, type WorkerReply, type WorkerRequest } from './sqlite-worker-wire.js';
import type { Database } from './types.js';

const port = parentPort;
if (!port) throw new Error('sqlite-worker.ts runs only as a worker thread');
const data = workerData as SqliteWorkerData;

let raw: BetterSqlite3.Database | undefined;
let db: Database | null = null;
try {
  raw = openSqliteConnection(data.path, data.busyTimeoutMs);
  db = createSqliteDatabase(raw, data.path, { warehouse: data.warehouse });
  port.postMessage({ id: 0, ok: true, value: null } satisfies WorkerReply);
} catch (err) {
  raw?.close();
  port.postMessage({ id: 0, ok: false, error: serializeError(classifySqliteOpenError(err, data.path)) } satisfies WorkerReply);
}

// One call at a time, in arrival order: rebuildWarehouse holds a transaction across awaits, and a
// caller that saw a write resolve must see it in the next read.
let chain: Promise<void> = Promise.resolve();
port.on('message', (req: WorkerRequest) => {
  chain = chain.then(() => answer(req));
});

async function answer(req: WorkerRequest): Promise<void> {
  let reply: WorkerReply;
  try {
    if (!db) throw new Error('SQLite worker: the database is not open');
    const fn = (db as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[req.method];
    if (typeof fn !== 'function') throw new Error(`SQLite worker: no method ${req.method}`);
    const value = await fn.apply(db, fromWire(req.args) as unknown[]);
    reply = { id: req.id, ok: true, value };
  } catch (err) {
    reply = { id: req.id, ok: false, error: serializeError(err) };
  }
  port!.postMessage(reply);
}
