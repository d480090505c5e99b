/**
 * Database errors as the user sees them: one line naming the problem and the fix, classified for the
 * exit code (DESIGN.md, Headless, clocks and exit codes), and marked retriable for the sink
 * (STYLE.md, Errors). Passwords never appear in a message.
 */

/** `unreachable` → exit 3, `refused` → exit 4, `usage` → exit 2. */
export type DatabaseErrorCode = 'unreachable' | 'refused' | 'usage';

export const EXIT_CODES: Readonly<Record<DatabaseErrorCode, number>> = { usage: 2, unreachable: 3, refused: 4 };

export class DatabaseError extends Error {
  override readonly name = 'DatabaseError';
  readonly code: DatabaseErrorCode;
  /** True when waiting and trying again may succeed (connection lost, lock held, server restarting). */
  readonly retriable: boolean;
  /** The process exit code for this error when it ends the program. */
  readonly exitCode: number;

  constructor(code: DatabaseErrorCode, message: string, opts: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.retriable = opts.retriable ?? code === 'unreachable';
    this.exitCode = EXIT_CODES[code];
  }
}

/** Whether a failed database call is worth retrying after a back-off (the sink pauses, then resumes). */
export function isRetriable(err: unknown): boolean {
  return err instanceof DatabaseError && err.retriable;
}

/** `postgres://user:secret@host/db` → `postgres://user:***@host/db`; works on unparseable text too. */
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

interface ErrnoLike { code?: unknown; errno?: unknown; message?: unknown; severity?: unknown }

function errCode(err: unknown): string {
  const c = (err as ErrnoLike | null)?.code;
  return typeof c === 'string' ? c : '';
}

function errMessage(err: unknown): string {
  const m = (err as ErrnoLike | null)?.message;
  return typeof m === 'string' ? m.split('\n')[0] ?? '' : String(err);
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED',
]);

/** SQLSTATEs after which the same statement may succeed later. */
const RETRIABLE_SQLSTATES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '53300', // too_many_connections
  '55P03', // lock_not_available
  '57P01', '57P02', '57P03', // admin/crash shutdown, cannot connect now
]);

function isConnectionFailure(err: unknown): boolean {
  const code = errCode(err);
  if (NETWORK_CODES.has(code) || code.startsWith('08')) return true;
  if (code !== '') return false;
  return /timeout|terminated|connection|socket|ECONN/i.test(errMessage(err));
}

/**
 * Classifies an error from opening a PostgreSQL connection. `where` is the masked URL.
 * Never returns a message that contains the password (pg's messages do not carry it).
 */
export function classifyPgOpenError(err: unknown, where: string): DatabaseError {
  const code = errCode(err);
  const msg = errMessage(err);
  const at = `PostgreSQL at ${where}`;
  if (code === 'ECONNREFUSED') {
    return new DatabaseError('unreachable', `cannot reach ${at}: connection refused (start PostgreSQL or fix DATABASE_URL / --database-url)`, { cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new DatabaseError('unreachable', `cannot reach ${at}: host not found (fix the host in DATABASE_URL / --database-url)`, { cause: err });
  }
  if (code === '3D000') {
    return new DatabaseError('usage', `cannot open ${at}: ${msg} (create it with createdb, or fix the database name in DATABASE_URL / --database-url)`, { cause: err });
  }
  if (code === '28P01' || code === '28000') {
    return new DatabaseError('refused', `${at} refused the connection: ${msg} (fix the user or password in DATABASE_URL / --database-url, or pg_hba.conf)`, { cause: err });
  }
  if (code === '42501') {
    return new DatabaseError('refused', `${at} refused: ${msg} (grant the user rights to create tables, or use another schema or user)`, { cause: err });
  }
  if (code === '53300' || code === '57P03') {
    return new DatabaseError('unreachable', `${at} is not accepting connections now: ${msg} (try again later)`, { cause: err });
  }
  if (/SSL/i.test(msg)) {
    return new DatabaseError('usage', `cannot connect to ${at}: ${msg} (set sslmode in DATABASE_URL to match the server)`, { cause: err });
  }
  if (isConnectionFailure(err)) {
    return new DatabaseError('unreachable', `cannot reach ${at}: ${msg} (check that PostgreSQL is running and reachable, or fix DATABASE_URL / --database-url)`, { cause: err });
  }
  return new DatabaseError('usage', `cannot use ${at}: ${msg}`, { retriable: false, cause: err });
}

/**
 * Classifies an error from a statement on an open PostgreSQL pool: connection loss and transient
 * conflicts become retriable DatabaseErrors; anything else (a bug, a constraint the code should
 * never violate) is returned unchanged.
 */
export function classifyPgRuntimeError(err: unknown, where: string): unknown {
  if (err instanceof DatabaseError) return err;
  const code = errCode(err);
  if (isConnectionFailure(err) || RETRIABLE_SQLSTATES.has(code)) {
    return new DatabaseError('unreachable', `lost PostgreSQL at ${where}: ${errMessage(err)} (retrying)`, { retriable: true, cause: err });
  }
  if (code.startsWith('28') || code === '42501') {
    return new DatabaseError('refused', `PostgreSQL at ${where} refused: ${errMessage(err)} (check the user's rights)`, { cause: err });
  }
  return err;
}

/** Classifies an error from opening or first using a SQLite file. */
export function classifySqliteOpenError(err: unknown, path: string): DatabaseError {
  const code = errCode(err);
  const msg = errMessage(err);
  const head = `cannot open SQLite database ${path}`;
  const fix = '(pass --sqlite PATH for another file)';
  if (code === 'SQLITE_NOTADB' || /not a database/i.test(msg)) {
    return new DatabaseError('usage', `${head}: file is not a database (it is corrupt or not SQLite: move it away or pass --sqlite PATH)`, { cause: err });
  }
  if (code === 'SQLITE_CORRUPT' || /malformed/i.test(msg)) {
    return new DatabaseError('usage', `${head}: the database is corrupt (move it away or pass --sqlite PATH)`, { cause: err });
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY') || code === 'EACCES' || code === 'EROFS') {
    return new DatabaseError('usage', `${head}: not writable (fix its permissions or pass --sqlite PATH)`, { cause: err });
  }
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY') || code === 'SQLITE_LOCKED') {
    return new DatabaseError('unreachable', `${head}: it is locked by another process (stop it or try again)`, { retriable: true, cause: err });
  }
  if (code === 'SQLITE_CANTOPEN' || /unable to open|cannot open|directory does not exist/i.test(msg)) {
    return new DatabaseError('usage', `${head}: cannot open the file (check that its directory exists and is writable, or pass --sqlite PATH)`, { cause: err });
  }
  return new DatabaseError('usage', `${head}: ${msg} ${fix}`, { cause: err });
}

/** Classifies an error from a statement on an open SQLite database (a held lock is retriable). */
export function classifySqliteRuntimeError(err: unknown, path: string): unknown {
  if (err instanceof DatabaseError) return err;
  const code = errCode(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new DatabaseError('unreachable', `SQLite database ${path} is locked by another writer (retrying)`, { retriable: true, cause: err });
  }
  if (code === 'SQLITE_FULL' || code.startsWith('SQLITE_IOERR')) {
    return new DatabaseError('unreachable', `SQLite database ${path}: ${errMessage(err)} (free disk space; retrying)`, { retriable: true, cause: err });
  }
  if (code.startsWith('SQLITE_READONLY')) {
    return new DatabaseError('usage', `SQLite database ${path} is not writable (fix its permissions or pass --sqlite PATH)`, { cause: err });
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return classifySqliteOpenError(err, path);
  }
  return err;
}
