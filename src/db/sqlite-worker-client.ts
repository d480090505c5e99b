/**
 * A Database whose SQLite connection lives in a worker thread (sqlite-worker.ts): every method posts
 * its call and resolves with the worker's answer, errors rebuilt with their class and flags
 * (sqlite-worker-wire.ts). The main thread serialises rows for the worker instead of writing them,
 * so the engine and processor run on while a batch commits, and a held write lock stalls only the
 * worker. Calls are answered in the order they are made.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DatabaseError } from './errors.js';
import { deserializeError, fromWire, type SqliteWorkerData, type WorkerReply } from './sqlite-worker-wire.js';
import type { Database } from './types.js';

/**
 * The worker next to this file: sqlite-worker.js when built; under tsx or vitest (a .ts file), Node 20
 * does not apply the parent's loader hooks to a worker's entry, so a small bootstrap registers tsx in
 * the worker first and then imports sqlite-worker.ts.
 */
function startWorker(data: SqliteWorkerData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./sqlite-worker.js', here), { workerData: data });
  const req = createRequire(here);
  const tsx = pathToFileURL(join(dirname(req.resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href;
  const entry = new URL('./sqlite-worker.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

const METHODS = [
  'migrate', 'writeBatch', 'createRun', 'updateRun', 'appendCommand', 'getRun', 'listRuns', 'liveRun', 'claimRun', 'counts', 'contents',
  'seedDimensions', 'rebuildWarehouse', 'deleteRun', 'select', 'reset',
] as const satisfies readonly (keyof Database)[];

interface Pending { resolve(v: unknown): void; reject(e: unknown): void }

/** Starts the worker and opens `path` there; rejects with the open error (a DatabaseError) as openDatabase would. */
export async function openSqliteInWorker(data: SqliteWorkerData): Promise<Database> {
  const worker = startWorker(data);
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let dead: Error | null = null;
  let closed = false;

  // The worker keeps the process alive only while a call waits for it (a forgotten close() must not
  // hang the CLI at exit).
  const settle = (id: number): Pending | undefined => {
    const p = pending.get(id);
    pending.delete(id);
    if (pending.size === 0) worker.unref();
    return p;
  };
  const failAll = (err: Error): void => {
    dead = err;
    for (const id of [...pending.keys()]) settle(id)?.reject(err);
  };

  const ready = new Promise<void>((resolve, reject) => pending.set(0, { resolve: () => resolve(), reject }));
  worker.on('message', (reply: WorkerReply) => {
    const p = settle(reply.id);
    if (!p) return;
    if (reply.ok) p.resolve(fromWire(reply.value));
    else p.reject(deserializeError(reply.error));
  });
  worker.on('error', (err) => failAll(new DatabaseError('usage', `SQLite worker for ${data.path} failed: ${err.message}`, { cause: err })));
  worker.on('exit', (code) => {
    if (!closed) failAll(new DatabaseError('usage', `SQLite worker for ${data.path} exited (code ${code})`));
  });

  try {
    await ready;
  } catch (err) {
    closed = true;
    await worker.terminate();
    throw err;
  }

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    if (closed) return Promise.reject(new DatabaseError('usage', `SQLite database ${data.path} is closed`));
    const id = nextId++;
    return new Promise((resolve, reject) => {
      if (pending.size === 0) worker.ref();
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args });
    });
  };

  const db = {
    dialect: 'sqlite',
    description: `sqlite ${data.path}`,
    warehouse: data.warehouse ?? true,
    async close(): Promise<void> {
      if (closed) return;
      await call('close', []).catch(() => undefined);
      closed = true;
      await worker.terminate();
    },
  } as Record<string, unknown>;
  for (const m of METHODS) db[m] = (...args: unknown[]) => call(m, args);
  return db as unknown as Database;
}
