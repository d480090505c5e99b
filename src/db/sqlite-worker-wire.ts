/**
 * What crosses the thread boundary between sqlite-worker-client.ts and sqlite-worker.ts: method calls,
 * replies, and errors rebuilt on the caller's side with their class, code, exit code and retriable
 * flag (the CLI's exit codes and the sink's retry depend on them). Structured clone turns a Buffer
 * into a plain Uint8Array: fromWire turns them back.
 */
import { DatabaseError, type DatabaseErrorCode } from './errors.js';

export interface SqliteWorkerData {
  path: string;
  busyTimeoutMs: number;
  warehouse: boolean | undefined;
}

export interface WorkerRequest { id: number; method: string; args: unknown[] }

export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export interface WireError {
  name: string;
  message: string;
  stack: string | undefined;
  /** Own enumerable properties worth keeping (code, errno, …), cloneable ones only. */
  props: Record<string, unknown>;
  database: { code: DatabaseErrorCode; retriable: boolean } | null;
  cause: WireError | null;
}

const CLONEABLE = new Set(['string', 'number', 'boolean']);

export function serializeError(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error)) {
    return { name: 'Error', message: String(err), stack: undefined, props: {}, database: null, cause: null };
  }
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    if (k === 'name' || k === 'message' || k === 'stack' || k === 'cause') continue;
    if (v === null || CLONEABLE.has(typeof v)) props[k] = v;
  }
  const cause = (err as { cause?: unknown }).cause;
  return {
    name: err.name,
    message: err.message,
    stack: err.stack,
    props,
    database: err instanceof DatabaseError ? { code: err.code, retriable: err.retriable } : null,
    cause: cause !== undefined && depth < 3 ? serializeError(cause, depth + 1) : null,
  };
}

export function deserializeError(w: WireError): Error {
  const cause = w.cause ? deserializeError(w.cause) : undefined;
  let err: Error;
  if (w.database) {
    err = new DatabaseError(w.database.code, w.message, { retriable: w.database.retriable, cause });
  } else {
    err = new Error(w.message, cause === undefined ? undefined : { cause });
    if (w.name !== 'Error') Object.defineProperty(err, 'name', { value: w.name, configurable: true, writable: true });
    for (const [k, v] of Object.entries(w.props)) (err as unknown as Record<string, unknown>)[k] = v;
  }
  if (w.stack !== undefined) err.stack = w.stack;
  return err;
}

/** Uint8Arrays (Buffers after structured clone) back into Buffers, in place, through arrays and plain objects. */
export function fromWire(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (x !== null && typeof x === 'object') v[i] = fromWire(x);
    }
    return v;
  }
  if (v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o = v as Record<string, unknown>;
    for (const k in o) {
      const x = o[k];
      if (x !== null && typeof x === 'object') o[k] = fromWire(x);
    }
  }
  return v;
}
