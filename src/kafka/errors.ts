/**
 * Errors of the bus. Every one says whether it is retriable (STYLE.md, Errors): retriable → back
 * off and try again; not retriable → stop with a clear message. The CLI maps names to exit codes:
 * KafkaUnreachableError → 3, KafkaRefusedError → 4, KafkaConfigError → 2 (DESIGN.md, exit codes).
 */

export class BusError extends Error {
  readonly retriable: boolean;
  constructor(message: string, opts: { retriable: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'BusError';
    this.retriable = opts.retriable;
  }
}

/** No broker answered within the connection timeout on the first connection. Exit 3. */
export class KafkaUnreachableError extends BusError {
  readonly code = 'unreachable';
  readonly exitCode = 3;
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'KafkaUnreachableError';
  }
}

/** The cluster said no: authentication, authorization, a topic policy. Exit 4. */
export class KafkaRefusedError extends BusError {
  readonly code = 'refused';
  readonly exitCode = 4;
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'KafkaRefusedError';
  }
}

/** The cluster is not as the configuration needs it (e.g. a topic's partition count). Exit 2. */
export class KafkaConfigError extends BusError {
  readonly code = 'config';
  readonly exitCode = 2;
  constructor(message: string, cause?: unknown) {
    super(message, { retriable: false, cause });
    this.name = 'KafkaConfigError';
  }
}

/** Whether an error (ours, kafkajs's, or anything else) is worth retrying. Unknown errors are not. */
export function isRetriable(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { retriable?: unknown }).retriable === true;
}
