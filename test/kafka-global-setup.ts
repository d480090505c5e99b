/**
 * vitest globalSetup: makes sure a Kafka broker answers on 127.0.0.1:9092 before the tests run,
 * starting the project's own (scripts/kafka-start.sh, idempotent) when none does, so `npm test`
 * needs no manual step (DESIGN.md, Services). A broker it starts keeps running after the tests
 * (`npm run kafka:stop` stops it). KAFKA_BROKERS pointing elsewhere skips the start.
 *
 * When the tests end it deletes the topics and consumer groups they created (names with the tests'
 * prefixes that were not on the broker before): a suite leaves over a hundred topics otherwise, and a broker
 * that keeps every earlier run's partitions makes later runs and benchmarks slower.
 */
import { Kafka, logLevel } from 'kafkajs';
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

/** The prefixes test topics and groups are named with (`it-`: uniquePrefix, kafka-bus.test.ts, joined-kafka; `fk-`: faults-kafka). */
const TEST_NAME = /^(it|fk)-/;

/** What the tests created: names with a test prefix that were not there before them. */
export function createdByTests(before: ReadonlySet<string>, now: readonly string[]): string[] {
  return now.filter((name) => TEST_NAME.test(name) && !before.has(name));
}

interface BrokerNames { topics: Set<string>; groups: Set<string> }

async function brokerNames(admin: ReturnType<Kafka['admin']>): Promise<BrokerNames> {
  const [topics, { groups }] = await Promise.all([admin.listTopics(), admin.listGroups()]);
  return { topics: new Set(topics), groups: new Set(groups.map((g) => g.groupId)) };
}

export default async function setup(): Promise<() => Promise<void>> {
  const brokers = await ensureKafka();
  const kafka = new Kafka({ clientId: 'storesim-test-setup', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  let before: BrokerNames | null = null;
  try {
    await admin.connect();
    before = await brokerNames(admin);
  } catch {
    // no cleanup then: the tests report the broker's problem themselves
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
  return async () => {
    if (!before) return;
    try {
      await admin.connect();
      const now = await brokerNames(admin);
      const groups = createdByTests(before.groups, [...now.groups]);
      // A group with members left (a test that failed mid-run) is refused; its topics still go.
      if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
      const topics = createdByTests(before.topics, [...now.topics]);
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 60_000 });
    } catch (err) {
      process.stderr.write(`kafka-global-setup: could not delete the tests' topics: ${(err as Error).message}\n`);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
}
