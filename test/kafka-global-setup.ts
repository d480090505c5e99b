/**
 * vitest globalSetup: makes sure a Kafka broker answers on 127.0.0.1:9092 before the tests run,
 * starting the project's own (scripts/kafka-start.sh, idempotent) when none does, so `npm test`
 * needs no manual step (DESIGN.md, Services). A broker it starts keeps running after the tests
 * (`npm run kafka:stop` stops it). KAFKA_BROKERS pointing elsewhere skips all of this.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const HOST = '127.0.0.1';
const PORT = 9092;

export function brokerAnswers(host = HOST, port = PORT, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Starts the local broker unless one answers already. Resolves with the bootstrap address. */
export async function ensureKafka(): Promise<string> {
  const external = process.env.KAFKA_BROKERS ?? process.env.KAFKA_BOOTSTRAP_SERVERS;
  if (external) return external;
  if (await brokerAnswers()) return `${HOST}:${PORT}`;
  const script = fileURLToPath(new URL('../scripts/kafka-start.sh', import.meta.url));
  try {
    await promisify(execFile)('bash', [script], { timeout: 180_000 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`could not start Kafka with ${script}: ${e.stderr || e.stdout || e.message}`);
  }
  return `${HOST}:${PORT}`;
}

export default async function setup(): Promise<void> {
  await ensureKafka();
}
