/**
 * Database faults (DESIGN.md, Infrastructure faults). PostgreSQL: every pool connection goes through
 * a fault socket (src/kafka/fault-socket.ts) given to pg as its `stream`, so down resets every
 * connection and refuses new ones, and slow delays every answer. SQLite has no connection to cut:
 * down is a second connection holding `BEGIN IMMEDIATE` (the write lock) for the outage, so the
 * run's writes fail after the short busy timeout it opens with and the sink retries them
 * asynchronously (better-sqlite3 waits synchronously, so a long busy timeout would freeze the
 * process); slow delays every call of the Database by the latency.
 */
import BetterSqlite3 from 'better-sqlite3';
import type { Duplex } from 'node:stream';
import { FaultSocket, type LinkController } from '../kafka/fault-socket.js';
import { DatabaseError } from './errors.js';
import type { Database } from './types.js';

/** pg's `stream` option (OpenOptions.pgStream): every connection of the pool through `ctl`. */
export function createPgFaultStream(ctl: LinkController): () => Duplex {
  return () => new FaultSocket(ctl);
}

/** The switch a fault controller flips: the same two calls for both dialects. */
export interface DbFaultSwitch {
  setDown(down: boolean): void;
  /** Latency added to every database call, or null. */
  setSlow(latencyMs: number | null): void;
}

/** PostgreSQL: the pool's link controller. */
export function pgFaultSwitch(ctl: LinkController): DbFaultSwitch {
  let down = false;
  let slow: number | null = null;
  const apply = (): void => ctl.set(down ? { kind: 'down' } : slow !== null ? { kind: 'slow', latencyMs: slow } : { kind: 'normal' });
  return {
    setDown(d) { down = d; apply(); },
    setSlow(ms) { slow = ms; apply(); },
  };
}

/** What a SQLite database with faults needs: the Database to wrap (for latency) and its file. */
export interface SqliteFaults {
  /** The run's Database, wrapped: every call waits the latency first; writes fail while down without a file to lock. */
  readonly db: Database;
  readonly faults: DbFaultSwitch;
  /** Releases a held lock (also when the run ends with the fault on). */
  close(): void;
}

const WRITES = new Set(['writeBatch', 'updateRun', 'appendCommand', 'createRun', 'claimRun', 'migrate', 'seedDimensions', 'deleteRun', 'rebuildWarehouse']);

export function sqliteFaults(db: Database, path: string): SqliteFaults {
  let latencyMs = 0;
  let lock: BetterSqlite3.Database | null = null;
  /** `:memory:` has no file another connection could lock: writes fail instead. */
  let failWrites = false;
  const inMemory = path === ':memory:' || path === '';

  const wrapped = new Proxy(db, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      const fn = v as (...args: unknown[]) => Promise<unknown>;
      const name = String(prop);
      return async (...args: unknown[]) => {
        if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
        if (failWrites && WRITES.has(name)) {
          throw new DatabaseError('unreachable', `SQLite ${path} is locked (injected fault): retrying`, { retriable: true });
        }
        return fn.apply(target, args);
      };
    },
  });

  const release = (): void => {
    const l = lock;
    lock = null;
    if (!l) return;
    try {
      l.exec('ROLLBACK');
    } catch {
      // nothing was held
    }
    l.close();
  };

  return {
    db: wrapped,
    faults: {
      setDown(down) {
        if (inMemory) {
          failWrites = down;
          return;
        }
        if (down && !lock) {
          const l = new BetterSqlite3(path, { timeout: 5_000 });
          l.exec('BEGIN IMMEDIATE');
          lock = l;
        } else if (!down) {
          release();
        }
      },
      setSlow(ms) { latencyMs = ms ?? 0; },
    },
    close: release,
  };
}
