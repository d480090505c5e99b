/**
 * `joined()` of the processor and the sink on the real broker: the run starts its engine only once
 * they resolve (src/main.ts), so that no event waits for a consumer group to form. They must
 * resolve only after the group has assigned the member its partitions and the processor has
 * restored its pairs, and not before start().
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase } from '../src/db/testing.js';
import { createKafkaBus, type KafkaBus } from '../src/kafka/kafka-bus.js';
import { createProcessor } from '../src/pipeline/processor.js';
import { createSink } from '../src/pipeline/sink.js';
import { groupIds, topicNames } from '../src/main.js';
import { ensureKafka } from './kafka-global-setup.js';
import { fixtures } from './pipeline-harness.js';

const PARTITIONS = 3;
let bus: KafkaBus;
let db: TestDatabase;

beforeAll(async () => {
  bus = createKafkaBus({ brokers: (await ensureKafka()).split(','), clientId: 'storesim-test' });
  db = await openTestDatabase('sqlite');
  await db.db.migrate();
});

afterAll(async () => {
  await bus?.close();
  await db?.cleanup();
});

describe('processor and sink joined() on Kafka', () => {
  it('resolve once the groups have assigned every partition, the processor with its pairs restored', async () => {
    const prefix = `it-joined-${Date.now()}-${randomBytes(3).toString('hex')}-`;
    const names = topicNames(prefix);
    const groups = groupIds(prefix);
    await bus.ensureTopics(Object.values(names).map((topic) => ({ topic, partitions: PARTITIONS })));
    const processor = createProcessor({ bus, groupId: groups.processor, topics: names, fixtures: fixtures(), sessionTimeoutMs: 6_000 });
    const sink = createSink({ bus, db: db.db, groupId: groups.sink, topics: names });
    try {
      await processor.start();
      await sink.start();
      // Given the consumers are running but (on Kafka) the join takes a round of group protocol,
      // when the members are assigned
      await Promise.all([processor.joined(), sink.joined()]);
      // then the processor owns every pair, each restored (no snapshot yet: each starts empty)
      expect(processor.stats().pairs).toBe(PARTITIONS);
    } finally {
      await processor.stop();
      await sink.stop();
    }
  }, 60_000);

  it('do not resolve before start()', async () => {
    const prefix = `it-joined-idle-${Date.now()}-${randomBytes(3).toString('hex')}-`;
    const names = topicNames(prefix);
    const groups = groupIds(prefix);
    const processor = createProcessor({ bus, groupId: groups.processor, topics: names, fixtures: fixtures() });
    const sink = createSink({ bus, db: db.db, groupId: groups.sink, topics: names });
    const settled = await Promise.race([
      Promise.any([processor.joined(), sink.joined()]).then(() => 'joined'),
      new Promise((r) => setImmediate(() => r('pending'))),
    ]);
    expect(settled).toBe('pending');
  });
});
