/**
 * `storesim kafka topics | reset` against the real broker (docs/kafka.md, Topics and consumer
 * groups). Each test makes its own topic prefix, its topics, messages and group offsets with plain
 * kafkajs, runs the CLI as a user would, and checks the broker with plain kafkajs again.
 */
import type { Admin, Consumer } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines, waitFor, type CliResult } from './cli-helpers.js';
import { KAFKA_BROKERS, kafkaClient, uniquePrefix, waitForGroup } from './kafka-helpers.js';

const kafka = kafkaClient('storesim-it-kafka-admin');
const made: string[] = [];

/**
 * A new admin client per step: kafkajs keeps every topic a client ever asked about in its metadata
 * refreshes, and fails them all once one of those topics is deleted (as these tests do).
 */
async function onAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.disconnect();
  }
}

afterAll(async () => {
  // Whatever a failed test left behind on the shared broker.
  await onAdmin(async (admin) => {
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => made.some((p) => g.startsWith(p)));
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
    const left = (await admin.listTopics()).filter((t) => made.some((p) => t.startsWith(p)));
    if (left.length > 0) await admin.deleteTopics({ topics: left }).catch(() => undefined);
  });
});

function prefixFor(tag: string): string {
  const p = uniquePrefix(tag);
  made.push(p);
  return p;
}

/** Creates `<prefix><name>` topics with the given partition counts. */
async function createTopics(prefix: string, topics: Record<string, number>): Promise<void> {
  await onAdmin((admin) => admin.createTopics({
    waitForLeaders: true,
    topics: Object.entries(topics).map(([name, numPartitions]) => ({ topic: prefix + name, numPartitions, replicationFactor: 1 })),
  }));
}

/** Sends `n` messages to each partition given ({partition: n}). */
async function produce(topic: string, perPartition: Record<number, number>): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: Object.entries(perPartition).flatMap(([p, n]) => Array.from({ length: n }, (_, i) => ({ partition: Number(p), key: `k${i}`, value: `m${i}` }))),
    });
  } finally {
    await producer.disconnect();
  }
}

async function prefixTopics(prefix: string): Promise<string[]> {
  return (await onAdmin((admin) => admin.listTopics())).filter((t) => t.startsWith(prefix)).sort();
}

async function prefixGroups(prefix: string): Promise<string[]> {
  return (await onAdmin((admin) => admin.listGroups())).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix)).sort();
}

/** Exactly one line on stderr, `storesim: …`, matching `pattern`, and the exit code. */
function expectOneLine(r: CliResult, code: number, pattern: RegExp): string {
  const lines = stderrLines(r);
  expect({ code: r.code, lines }).toMatchObject({ code, lines: [expect.stringMatching(pattern)] });
  expect(lines[0]).toMatch(/^storesim: /);
  return lines[0]!;
}

interface TopicsJson {
  brokers: string;
  prefix: string | null;
  topics: Array<{
    topic: string; partitions: number; end_offset: number; messages: number;
    offsets: Array<{ partition: number; low: number; high: number }>;
    groups: Array<{ group: string; state: string; members: number; lag: number | null; partitions: Array<{ partition: number; committed: number | null; lag: number | null }> }>;
  }>;
  groups: Array<{ group: string; state: string; members: number }>;
}

describe('storesim kafka topics', () => {
  it('lists the prefix\'s topics with partitions, end offsets and the lag of the group that committed on them', async () => {
    // Given two topics of a prefix with messages, and a group that committed on some partitions
    const prefix = prefixFor('ktopics');
    const other = prefixFor('kother');
    await createTopics(prefix, { foot_traffic: 3, shelf_events: 2 });
    await createTopics(other, { foot_traffic: 1 });
    await produce(`${prefix}foot_traffic`, { 0: 5, 1: 3, 2: 4 });
    await produce(`${prefix}shelf_events`, { 1: 7 });
    const group = `${prefix}storesim-processor`;
    await onAdmin((admin) => admin.setOffsets({ groupId: group, topic: `${prefix}foot_traffic`, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '3' }] }));

    // When listing as JSON, the brokers given by KAFKA_BROKERS
    const r = await runCli(['kafka', 'topics', '--prefix', prefix, '--format', 'json'], { env: { KAFKA_BROKERS } });

    // Then: the prefix's topics only, their partitions' offsets, and the group's lag where it committed
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as TopicsJson;
    expect(out.prefix).toBe(prefix);
    expect(out.topics.map((t) => t.topic)).toEqual([`${prefix}foot_traffic`, `${prefix}shelf_events`]);
    const [foot, shelf] = out.topics;
    expect(foot).toMatchObject({ partitions: 3, end_offset: 12, messages: 12 });
    expect(foot!.offsets).toEqual([{ partition: 0, low: 0, high: 5 }, { partition: 1, low: 0, high: 3 }, { partition: 2, low: 0, high: 4 }]);
    expect(foot!.groups).toEqual([{
      group, state: 'Empty', members: 0, lag: 3,
      partitions: [{ partition: 0, committed: 2, lag: 3 }, { partition: 1, committed: 3, lag: 0 }, { partition: 2, committed: null, lag: null }],
    }]);
    expect(shelf).toMatchObject({ partitions: 2, end_offset: 7, groups: [] });
    expect(out.groups).toEqual([{ group, state: 'Empty', members: 0 }]);

    // And the table: aligned, within 80 columns, names without the prefix, the group under its topic
    const t = await runCli(['kafka', 'topics', '--prefix', prefix, '--kafka', KAFKA_BROKERS]);
    expect(t.code, t.stderr).toBe(0);
    const lines = t.stdout.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(lines[0]).toBe(`2 topics with prefix ${prefix} on kafka ${KAFKA_BROKERS}`);
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^topic \/ consumer group\s+partitions\s+end offset\s+lag$/),
      expect.stringMatching(/^foot_traffic\s+3\s+12$/),
      expect.stringMatching(/^ {2}storesim-processor\s+3$/),
      expect.stringMatching(/^shelf_events\s+2\s+7$/),
    ]);
    const col = (l: string) => l.length; // right-aligned numbers end in the same column
    expect(col(lines[2]!)).toBe(col(lines[4]!));
    expect(t.stdout).not.toContain(other);
  });

  it('shows a group that is reading a topic (assigned, nothing committed yet) with its members', async () => {
    const prefix = prefixFor('kactive');
    await createTopics(prefix, { visits: 2 });
    await produce(`${prefix}visits`, { 0: 2 });
    const group = `${prefix}storesim-sink`;
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 10_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [`${prefix}visits`], fromBeginning: true });
      await consumer.run({ autoCommit: false, eachMessage: async () => undefined });
      await onAdmin((admin) => waitForGroup(admin, group, 1, 30_000));

      const r = await runCli(['kafka', 'topics', '--prefix', prefix, '--format', 'json', '--kafka', KAFKA_BROKERS]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as TopicsJson;
      expect(out.topics[0]!.groups).toEqual([expect.objectContaining({ group, state: 'Stable', members: 1, lag: null })]);
    } finally {
      await consumer.disconnect();
    }
  });

  it('a prefix that matches nothing: one line saying so and how to list every topic, exit 0', async () => {
    const prefix = prefixFor('knothing');
    const r = await runCli(['kafka', 'topics', '--prefix', prefix, '--kafka', KAFKA_BROKERS]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`no topics with prefix ${prefix} on kafka ${KAFKA_BROKERS} (list every topic with: storesim kafka topics --kafka ${KAFKA_BROKERS})\n`);
    const j = await runCli(['kafka', 'topics', '--prefix', prefix, '--kafka', KAFKA_BROKERS, '--format', 'json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ prefix, topics: [], groups: [] });
  });
});

describe('storesim kafka reset', () => {
  it('deletes the prefix\'s topics and consumer groups and leaves another prefix\'s alone', async () => {
    // Given two prefixes, each with topics and a committed group
    const prefix = prefixFor('kreset');
    const other = prefixFor('kkeep');
    for (const p of [prefix, other]) {
      await createTopics(p, { foot_traffic: 2, 'storesim-processor-state': 2 });
      await produce(`${p}foot_traffic`, { 0: 3 });
      await onAdmin((admin) => admin.setOffsets({ groupId: `${p}storesim-processor`, topic: `${p}foot_traffic`, partitions: [{ partition: 0, offset: '1' }] }));
    }

    // When reset without --yes and without a terminal: refused, nothing deleted
    const refused = await runCli(['kafka', 'reset', '--prefix', prefix, '--kafka', KAFKA_BROKERS]);
    expectOneLine(refused, 2, /no terminal to confirm on \(pass --yes/);
    expect(await prefixTopics(prefix)).toHaveLength(2);

    // When reset with --yes
    const r = await runCli(['kafka', 'reset', '--prefix', prefix, '--yes', '--kafka', KAFKA_BROKERS]);

    // Then its topics and group are gone, the other prefix's are still there
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(`deleted 2 topics and 1 consumer group with prefix ${prefix} on kafka ${KAFKA_BROKERS}\n`);
    await waitFor(async () => (await prefixTopics(prefix)).length === 0, `topics of ${prefix} deleted`, 20_000, 200);
    expect(await prefixGroups(prefix)).toEqual([]);
    expect(await prefixTopics(other)).toEqual([`${other}foot_traffic`, `${other}storesim-processor-state`]);
    expect(await prefixGroups(other)).toEqual([`${other}storesim-processor`]);
    const kept = await onAdmin((admin) => admin.fetchOffsets({ groupId: `${other}storesim-processor`, topics: [`${other}foot_traffic`] }));
    expect(kept[0]!.partitions.find((p) => p.partition === 0)!.offset).toBe('1');

    // And a second reset of the same prefix finds nothing: exit 2, with how to list topics
    const again = await runCli(['kafka', 'reset', '--prefix', prefix, '--yes', '--kafka', KAFKA_BROKERS]);
    expectOneLine(again, 2, new RegExp(`no topics or consumer groups with prefix ${prefix} on kafka .*storesim kafka topics`));
  });

  it('refuses while a consumer group of the prefix has members (a run still uses it): exit 2, nothing deleted', async () => {
    const prefix = prefixFor('kbusy');
    await createTopics(prefix, { clean_events: 1 });
    const group = `${prefix}storesim-sink`;
    let consumer: Consumer | null = kafka.consumer({ groupId: group, sessionTimeout: 10_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [`${prefix}clean_events`], fromBeginning: true });
      await consumer.run({ eachMessage: async () => undefined });
      await onAdmin((admin) => waitForGroup(admin, group, 1, 30_000));

      const r = await runCli(['kafka', 'reset', '--prefix', prefix, '--yes', '--kafka', KAFKA_BROKERS]);
      expectOneLine(r, 2, new RegExp(`consumer group ${group} \\(1 member\\) still has members: a run is still using prefix ${prefix} .*nothing deleted`));
      expect(r.stdout).toBe('');
      expect(await prefixTopics(prefix)).toEqual([`${prefix}clean_events`]);
      expect(await prefixGroups(prefix)).toEqual([group]);

      // Once the member left, the same reset goes through
      await consumer.disconnect();
      consumer = null;
      await waitFor(async () => (await onAdmin((admin) => admin.describeGroups([group]))).groups[0]?.members.length === 0, `${group} without members`, 30_000, 200);
      const ok = await runCli(['kafka', 'reset', '--prefix', prefix, '--yes', '--kafka', KAFKA_BROKERS, '--format', 'json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toEqual({ brokers: KAFKA_BROKERS, prefix, deleted: { topics: [`${prefix}clean_events`], groups: [group] } });
      expect(await prefixGroups(prefix)).toEqual([]);
    } finally {
      await consumer?.disconnect();
    }
  });

  it('refuses an empty prefix unless --all --yes, before connecting to anything', async () => {
    // Given a broker address where nothing listens: a command that tried to connect would exit 3
    const nowhere = '127.0.0.1:1';
    const cases: Array<{ args: string[]; env?: Record<string, string>; line: RegExp }> = [
      { args: [], line: /kafka reset needs --prefix P.*pass --all --yes/ },
      { args: ['--prefix', ''], line: /kafka reset needs --prefix P/ },
      { args: ['--yes'], line: /kafka reset needs --prefix P/ },
      { args: ['--yes'], env: { STORESIM_TOPIC_PREFIX: '' }, line: /kafka reset needs --prefix P/ },
      { args: ['--all'], line: /kafka reset --all deletes every topic and consumer group on the broker: pass --all --yes/ },
      { args: ['--all', '--yes', '--prefix', 'x-'], line: /--all and --prefix x- contradict each other/ },
    ];
    const t0 = Date.now();
    const results = await Promise.all(cases.map((c) => runCli(['kafka', 'reset', '--kafka', nowhere, ...c.args], { env: c.env })));
    results.forEach((r, i) => {
      expectOneLine(r, 2, cases[i]!.line);
      expect(r.stdout).toBe('');
    });
    expect(Date.now() - t0).toBeLessThan(20_000);
  });
});

describe('storesim kafka: bad input', () => {
  it('an unreachable broker: one line within 10 s, exit 3, for topics and reset', async () => {
    const t0 = Date.now();
    const [topics, reset] = await Promise.all([
      runCli(['kafka', 'topics', '--kafka', '127.0.0.1:1']),
      runCli(['kafka', 'reset', '--prefix', 'x-', '--yes', '--kafka', '127.0.0.1:1']),
    ]);
    const elapsed = Date.now() - t0;
    for (const r of [topics, reset]) {
      expectOneLine(r, 3, /Kafka at 127\.0\.0\.1:1 .*(unreachable|did not answer).*npm run kafka:start.*KAFKA_BROKERS/);
      expect(r.stdout).toBe('');
    }
    expect(elapsed).toBeLessThan(10_000);
  });

  it('no broker named: one line saying how to name one, exit 2', async () => {
    expectOneLine(await runCli(['kafka', 'topics']), 2, /kafka topics needs a broker: pass --kafka HOST:PORT .* or set KAFKA_BROKERS/);
    expectOneLine(await runCli(['kafka', 'topics', '--kafka', 'nonsense']), 2, /--kafka: "nonsense" is not HOST:PORT/);
    expectOneLine(await runCli(['kafka', 'list', '--kafka', KAFKA_BROKERS]), 2, /kafka: unknown action "list" \(known: topics, reset\)/);
  });
});
