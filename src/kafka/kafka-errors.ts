/**
 * Classifies kafkajs errors into the bus's user-facing kinds (DESIGN.md, exit codes): brokers that
 * do not answer → unreachable (3); authentication, authorization and policy refusals → refused (4).
 * kafkajs wraps its errors (NumberOfRetriesExceeded → cause, AggregateError → errors[]), so the
 * whole chain is searched.
 */

const REFUSED_TYPES = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_CONFIG',
]);

const UNREACHABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSBrokerNotFound',
  'KafkaJSRequestTimeoutError',
]);

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN']);

/** Group coordinator still starting (first join of a new group): kafkajs retries it by itself. */
const COORDINATOR_STARTING = new Set(['GROUP_LOAD_IN_PROGRESS', 'GROUP_COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR_FOR_GROUP']);

interface ErrorLike { name?: string; type?: string; code?: string; message?: string; cause?: unknown; errors?: unknown[] }

/** Every error in the chain: the error, its causes, and the members of aggregate errors. */
export function errorChain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  const stack: unknown[] = [err];
  while (stack.length > 0 && out.length < 50) {
    const e = stack.pop();
    if (typeof e !== 'object' || e === null || out.includes(e as ErrorLike)) continue;
    const el = e as ErrorLike;
    out.push(el);
    if (el.cause !== undefined) stack.push(el.cause);
    if (Array.isArray(el.errors)) stack.push(...el.errors);
  }
  return out;
}

export type KafkaErrorKind = 'refused' | 'unreachable' | 'coordinator-starting' | 'other';

export function classifyKafkaError(err: unknown): KafkaErrorKind {
  const chain = errorChain(err);
  if (chain.some((e) => e.name === 'KafkaJSSASLAuthenticationError' || (e.type !== undefined && REFUSED_TYPES.has(e.type)))) {
    return 'refused';
  }
  if (chain.some((e) => e.type !== undefined && COORDINATOR_STARTING.has(e.type))) return 'coordinator-starting';
  if (chain.some((e) => (e.name !== undefined && UNREACHABLE_NAMES.has(e.name)) || (e.code !== undefined && UNREACHABLE_CODES.has(e.code)))) {
    return 'unreachable';
  }
  return 'other';
}

/** The most specific message in the chain (kafkajs's outer messages are often generic). */
export function rootMessage(err: unknown): string {
  const chain = errorChain(err);
  const typed = chain.find((e) => e.type !== undefined && e.message);
  return (typed ?? chain[chain.length - 1] ?? { message: String(err) }).message ?? String(err);
}
