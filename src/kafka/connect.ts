/**
 * How storesim opens a first Kafka connection, shared by the bus and the admin commands: bounded in
 * time, its kafkajs retries bounded to about as long, failures mapped to KafkaUnreachableError
 * (exit 3) or KafkaRefusedError (exit 4) with one line that names the brokers and the fix.
 */
import './kafkajs-preload.js'; // before kafkajs: see there
import type tls from 'node:tls';
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig, type RetryOptions, type SASLOptions } from 'kafkajs';
import { KafkaRefusedError, KafkaUnreachableError } from './errors.js';
import { classifyKafkaError, rootMessage } from './kafka-errors.js';
import { within } from '../within.js';

/** Brokers for people: credentials in a broker string masked. */
export function describeBrokers(brokers: string[]): string {
  return brokers.map((b) => b.replace(/^[^@/]*@/, '***@')).join(',');
}

/**
 * kafkajs retries for a client whose connection must fail within `deadlineMs`: 250, 500, then
 * 1 000 ms apart, so a refused connection gives up after about deadline − 1 s. kafkajs keeps
 * retrying after disconnect() (its retrier has no abort): unbounded retries would hold the process
 * for a minute after the one-line error.
 */
export function boundedRetry(deadlineMs: number): RetryOptions {
  return { initialRetryTime: 250, factor: 0, multiplier: 2, maxRetryTime: 1_000, retries: Math.max(1, Math.floor((deadlineMs - 1_750) / 1_000) + 2) };
}

/** Per connection attempt: the whole first connection is bounded by the deadline. */
export const attemptTimeout = (deadlineMs: number): number => Math.min(3_000, deadlineMs);

/** Where and how to reach the brokers: what every storesim Kafka client shares. */
export interface KafkaTarget {
  brokers: string[];
  clientId: string;
  ssl?: boolean | tls.ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  socketFactory?: ISocketFactory;
}

/** The kafkajs settings of a target, each connection attempt bounded by the first connection's deadline. */
export function kafkaSettings(target: KafkaTarget, deadlineMs: number): KafkaConfig {
  return {
    clientId: target.clientId,
    brokers: target.brokers,
    ssl: target.ssl,
    sasl: target.sasl as SASLOptions | undefined,
    connectionTimeout: attemptTimeout(deadlineMs),
    ...(target.socketFactory ? { socketFactory: target.socketFactory } : {}),
  };
}

/** A client that logs nothing and gives up within about `deadlineMs` (admin commands, the first-connection probe). */
export function quietBoundedKafka(target: KafkaTarget, deadlineMs: number): Kafka {
  return new Kafka({ ...kafkaSettings(target, deadlineMs), logLevel: logLevel.NOTHING, retry: boundedRetry(deadlineMs) });
}

/** A kafkajs failure of `what` as unreachable / refused, or the error itself when it is neither. */
export function mapKafkaError(err: unknown, what: string, brokersText: string): unknown {
  switch (classifyKafkaError(err)) {
    case 'unreachable':
      return new KafkaUnreachableError(`Kafka at ${brokersText} is unreachable (${what}: ${rootMessage(err)}): start a broker (npm run kafka:start) or set KAFKA_BROKERS`, err);
    case 'refused':
      return new KafkaRefusedError(`Kafka at ${brokersText} refused ${what}: ${rootMessage(err)}`, err);
    default:
      return err;
  }
}

/**
 * Runs a first `connect` within `deadlineMs`: on timeout or failure, `abort` and throw the mapped
 * error (`mapError`, default mapKafkaError). kafkajs goes on retrying a connect that `abort` cut
 * short: when it connects after all, `abort` runs again (seen: a connection that a broker's return
 * opened after the deadline, which kept a finished run's process alive).
 */
export async function connectWithin(
  what: string, brokersText: string, deadlineMs: number,
  connect: () => Promise<void>, abort: () => Promise<void>,
  mapError: (err: unknown, what: string) => unknown = (err, w) => mapKafkaError(err, w, brokersText),
): Promise<void> {
  const attempt = connect();
  try {
    const r = await within(attempt.then(() => 'ok' as const), deadlineMs);
    if (r === undefined) {
      attempt.then(() => abort()).catch(() => undefined);
      await abort().catch(() => undefined);
      throw new KafkaUnreachableError(
        `Kafka at ${brokersText} did not answer within ${Math.round(deadlineMs / 1000)} s (${what}): start a broker (npm run kafka:start) or set KAFKA_BROKERS`,
      );
    }
  } catch (err) {
    if (err instanceof KafkaUnreachableError) throw err;
    await abort().catch(() => undefined);
    throw mapError(err, what);
  }
}
