/**
 * Two kinds of failure (STYLE.md, Errors): a user-facing error prints one clear line with the fix and
 * a documented exit code; anything else is a bug, printed with its stack and a request to report it.
 */

/** Documented exit codes (README "Exit codes"). */
export const EXIT = {
  ok: 0,
  verifyFailed: 1,
  usage: 2,
  unreachable: 3,
  refused: 4,
  internal: 70,
  forced: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class UserError extends Error {
  constructor(message: string, readonly exitCode: ExitCode = EXIT.usage) {
    super(message);
    this.name = 'UserError';
  }
}

export const REPORT_URL = 'https://github.com/storesim/storesim/issues';

/** Maps errors from the adapters (database, Kafka, fixtures) to user errors; returns null for bugs. */
export function asUserError(err: unknown): UserError | null {
  if (err instanceof UserError) return err;
  if (err instanceof Error) {
    const code = (err as { exitCode?: unknown }).exitCode;
    if (typeof code === 'number' && (code === 2 || code === 3 || code === 4)) return new UserError(err.message, code);
    const kind = (err as { code?: unknown }).code;
    if (err.name === 'DatabaseError' || err.name === 'KafkaConfigError' || err.name === 'KafkaUnreachableError' || err.name === 'KafkaRefusedError' || err.name === 'FixtureError') {
      const exit = kind === 'unreachable' || err.name === 'KafkaUnreachableError' ? EXIT.unreachable
        : kind === 'refused' || err.name === 'KafkaRefusedError' ? EXIT.refused : EXIT.usage;
      return new UserError(err.message, exit);
    }
  }
  return null;
}

/** The one top-level handler: prints and returns the exit code. */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): ExitCode {
  const user = asUserError(err);
  if (user) {
    write(`storesim: ${user.message.split('\n')[0]}\n`);
    return user.exitCode;
  }
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  write(`storesim: internal error (a bug)\n${stack}\nPlease report it at ${REPORT_URL} with the command you ran.\n`);
  return EXIT.internal;
}
