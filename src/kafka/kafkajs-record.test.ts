import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  crc32c, encodeRecord, installFastRecordEncoder, produceRequestV3,
  type ProduceArgs, type ProduceRequest, type ProduceRequestV3, type RecordInput,
} from './kafkajs-record.js';

const require = createRequire(import.meta.url);
const KAFKAJS_ROOT = dirname(require.resolve('kafkajs')) + sep;
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER = 'kafkajs/src/protocol/encoder.js';
const PRODUCE_V3 = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const PRODUCE_V7 = 'kafkajs/src/protocol/requests/produce/v7/request.js';
const GZIP = 1; // kafkajs's CompressionTypes.GZIP

/**
 * A kafkajs module as kafkajs wrote it, loaded fresh with every kafkajs module it requires (the
 * cached ones may be ours, hold ours, or be patched: the v3 request captures Record and RecordBatch
 * at load); the require cache is left as it was.
 */
function kafkajsOwn<T>(module: string): T {
  const isKafkajs = (p: string): boolean => p.startsWith(KAFKAJS_ROOT);
  const saved = Object.keys(require.cache).filter(isKafkajs).map((p) => [p, require.cache[p]] as const);
  for (const [p] of saved) delete require.cache[p];
  try {
    return require(module) as T;
  } finally {
    for (const p of Object.keys(require.cache).filter(isKafkajs)) delete require.cache[p];
    for (const [p, m] of saved) require.cache[p] = m;
  }
}
const kafkajsRecord = () => kafkajsOwn<(input: RecordInput) => { buffer: Buffer }>(RECORD);

/** The encoded request's Encoder, as kafkajs's protocol/request.js reads it. */
async function encoded(request: ProduceRequest): Promise<{ buf: Buffer; offset: number; buffer: Buffer }> {
  return (await request.encode()) as unknown as { buf: Buffer; offset: number; buffer: Buffer };
}

const bytes = fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)));
// kafkajs itself throws on null or undefined header values (Buffer.byteLength of them).
const headerValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)));
const headers = fc.dictionary(fc.string({ unit: 'binary', maxLength: 40 }), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 5 });

describe('encodeRecord', () => {
  const original = kafkajsRecord();

  it('writes the same bytes as kafkajs for arbitrary records', () => {
    fc.assert(fc.property(
      fc.record({
        offsetDelta: fc.integer({ min: 0, max: 1_000_000 }),
        timestampDelta: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: -(2 ** 40), max: 0 })),
        key: bytes,
        value: bytes,
        headers,
      }),
      (input) => {
        expect(encodeRecord(input).equals(original(input).buffer)).toBe(true);
      },
    ), { numRuns: 2_000 });
  });

  it('writes the same bytes as kafkajs for a storesim message (key, JSON value, three headers)', () => {
    const input: RecordInput = {
      offsetDelta: 1_999,
      timestampDelta: 12,
      key: 'c-0197-4f2a',
      value: Buffer.from(JSON.stringify({ event: 'pickup', item_id: 'SKU-1', quantity: 2, note: 'é€😀' })),
      headers: { 'storesim.run': '01a2-…', 'storesim.seq': '123456', 'storesim.produced_at': String(Date.now()) },
    };
    expect(encodeRecord(input).equals(original(input).buffer)).toBe(true);
  });
});

describe('crc32c', () => {
  const original = kafkajsOwn<(b: Buffer) => number>('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  it('is kafkajs\'s CRC-32C for arbitrary bytes (every length mod 8)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 3_000 }), (a) => {
      const b = Buffer.from(a);
      expect(crc32c(b)).toBe(original(b));
    }), { numRuns: 1_000 });
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the CRC-32C check value
  });
});

describe('produceRequestV3', () => {
  const kafkajsV3 = kafkajsOwn<ProduceRequestV3>(PRODUCE_V3);
  const ours = produceRequestV3(() => {
    throw new Error('fell back to kafkajs');
  });

  // Absent, null, numeric strings of any length (kafkajs sorts them as strings: "999" after
  // "1000"), numbers, and 0 (kept in the sort, but falsy: Date.now() is its delta's minuend).
  const timestamp = fc.oneof(
    fc.constant(undefined), fc.constant(null), fc.constant(0),
    fc.stringMatching(/^[0-9]{1,15}$/),
    fc.bigInt({ min: 0n, max: 10n ** 15n }).map(Number),
    fc.bigInt({ min: 1_600_000_000_000n, max: 1_800_000_000_000n }).map((t) => (t % 2n ? String(t) : Number(t))),
  );
  const message = fc.record({ key: bytes, value: bytes, headers, timestamp, partition: fc.nat({ max: 5 }) }, { requiredKeys: ['value'] });
  // As sendMessages fills them in: the sequence from the eosManager (0 unless idempotent; left
  // undefined here too, for v3's default), the producer id -1 or, idempotent, the string
  // InitProducerId returned, its epoch, and a transactional id only when transactional.
  const partition = fc.record({
    partition: fc.nat({ max: 1_000 }),
    firstSequence: fc.option(fc.nat(), { nil: undefined }),
    messages: fc.array(message, { minLength: 1, maxLength: 50 }),
  });
  const producer = fc.oneof(
    fc.constant({ producerId: -1 as unknown, producerEpoch: 0, transactionalId: undefined as string | undefined }),
    fc.record({
      producerId: fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }).map(String) as fc.Arbitrary<unknown>,
      producerEpoch: fc.nat({ max: 32_767 }),
      transactionalId: fc.option(fc.string({ minLength: 1, maxLength: 40 }), { nil: undefined }),
    }),
  );
  const request = fc.record({
    acks: fc.constantFrom(-1, 0, 1),
    timeout: fc.nat(),
    compression: fc.constantFrom(undefined, 0),
    topicData: fc.array(fc.record({
      topic: fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      partitions: fc.array(partition, { minLength: 1, maxLength: 4 }),
    }), { minLength: 1, maxLength: 3 }),
    producer,
    dateNow: fc.bigInt({ min: 1_600_000_000_000n, max: 1_800_000_000_000n }).map(Number),
  });

  /** Ours (never falling back) and kafkajs's own, at the same Date.now(). */
  async function both(args: ProduceArgs, dateNow: number): Promise<[ProduceRequest, Buffer, ProduceRequest, Buffer]> {
    const now = vi.spyOn(Date, 'now').mockReturnValue(dateNow);
    try {
      const mine = ours(args);
      const theirs = kafkajsV3(args);
      const enc = await encoded(mine);
      expect(enc.buf.length).toBe(enc.offset); // one buffer, exactly sized
      return [mine, enc.buffer, theirs, (await encoded(theirs)).buffer];
    } finally {
      now.mockRestore();
    }
  }

  it('writes the same bytes as kafkajs for arbitrary produce requests', async () => {
    await fc.assert(fc.asyncProperty(request, async ({ producer: p, dateNow, ...rest }) => {
      const args: ProduceArgs = { ...rest, ...p };
      const [mine, mineBytes, theirs, theirBytes] = await both(args, dateNow);
      expect([mine.apiKey, mine.apiVersion, mine.apiName, mine.expectResponse()])
        .toEqual([theirs.apiKey, theirs.apiVersion, theirs.apiName, theirs.expectResponse()]);
      expect(mineBytes.equals(theirBytes)).toBe(true);
    }), { numRuns: 300 });
  });

  it('takes kafkajs\'s timestamps: sorted as strings, 0 sorted but then Date.now(), none: Date.now()', async () => {
    const sortedAsStrings = [ // first '1000', max '999'
      { value: 'a', timestamp: '999' }, { value: 'b', timestamp: 1000 }, { value: 'c', timestamp: '1000' },
      { value: 'd', timestamp: null }, { value: 'e' }, { value: 'f', timestamp: '99' },
    ];
    const zeroFirst = [{ value: 'x', timestamp: 0 }, { value: 'y', timestamp: '5' }];
    const args: ProduceArgs = {
      acks: -1, timeout: 30_000, producerId: -1, producerEpoch: 0,
      topicData: [{ topic: 't', partitions: [
        { partition: 0, firstSequence: 0, messages: sortedAsStrings },
        { partition: 1, messages: zeroFirst },
        { partition: 2, messages: [{ value: 'z' }] },
      ] }],
    };
    const [, mineBytes, , theirBytes] = await both(args, 1_700_000_000_000);
    expect(mineBytes.equals(theirBytes)).toBe(true);
  });

  it('leaves to kafkajs what it cannot encode identically', async () => {
    const args: ProduceArgs = { acks: 1, timeout: 1_000, compression: GZIP, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'v' }] }] }] };
    await expect(ours(args).encode()).rejects.toThrow('fell back to kafkajs');
    const nullHeader = { ...args, compression: 0, topicData: [{ topic: 't', partitions: [{ partition: 0, messages: [{ value: 'v', headers: { h: null } }] }] }] };
    await expect(ours(nullHeader).encode()).rejects.toThrow('fell back to kafkajs');
  });
});

describe('installFastRecordEncoder', () => {
  it('installs before kafkajs encodes a produce request, and says so', () => {
    expect(installFastRecordEncoder()).toBe(true);
    const cached = require.cache[require.resolve(RECORD)];
    const enc = (cached!.exports as (i: RecordInput) => { buffer: Buffer })({ key: 'k', value: 'v', headers: { a: 'b' } });
    expect(enc.buffer.equals(encodeRecord({ key: 'k', value: 'v', headers: { a: 'b' } }))).toBe(true);
    // and the references above are still kafkajs's own, not the swapped or patched modules
    expect(kafkajsOwn(RECORD)).not.toBe(cached!.exports);
    expect(kafkajsOwn<{ prototype: object }>(ENCODER).prototype).not.toBe((require(ENCODER) as { prototype: object }).prototype);
  });

  it('swaps the Produce v3 request (v7 encodes through it); a compressed request gets kafkajs\'s bytes', async () => {
    expect(installFastRecordEncoder()).toBe(true);
    const v3 = require.cache[require.resolve(PRODUCE_V3)]!.exports as ProduceRequestV3;
    expect(String(v3)).not.toContain('topicEncoder'); // kafkajs's own calls it
    const v7 = require(PRODUCE_V7) as ProduceRequestV3;
    const kafkajsV7 = kafkajsOwn<ProduceRequestV3>(PRODUCE_V7);
    const messages = Array.from({ length: 20 }, (_, i) => ({
      key: `c-${i}`, value: Buffer.from(JSON.stringify({ event: 'pickup', i })), timestamp: String(1_700_000_000_000 + i),
      headers: { 'storesim.run': 'r', 'storesim.seq': String(i), 'storesim.produced_at': '1700000000000' },
    }));
    const args: ProduceArgs = {
      acks: -1, timeout: 30_000, producerId: -1, producerEpoch: 0,
      topicData: [{ topic: 'storesim.events', partitions: [{ partition: 3, firstSequence: 0, messages }] }],
    };
    const request = v7(args);
    expect(request.apiVersion).toBe(7);
    const enc = await encoded(request);
    expect(enc.buf.length).toBe(enc.offset); // ours: one exactly sized buffer
    expect(enc.buffer.equals((await encoded(kafkajsV7(args))).buffer)).toBe(true);
    const gzipped = { ...args, compression: GZIP };
    expect((await encoded(v7(gzipped))).buffer.equals((await encoded(kafkajsV7(gzipped))).buffer)).toBe(true);
  });
});
