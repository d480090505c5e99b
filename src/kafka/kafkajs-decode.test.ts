import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeRecordFast, installFastRecordDecoder, type BatchContext, type DecodedRecord, type RecordDecoder } from './kafkajs-decode.js';
import { encodeRecord, type RecordInput } from './kafkajs-record.js';
import { kafkajsOwnModule } from './testing.js';

const require = createRequire(import.meta.url);
const DecoderClass = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { buffer: Buffer; offset: number };

/** kafkajs's own record decoder, loaded fresh (the cached module may hold ours). */
const kafkajsRecordDecoder = (): RecordDecoder => kafkajsOwnModule<RecordDecoder>('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');

/** A record's bytes as kafkajs's batch decoder hands them over: the body after the length varint. */
function body(input: RecordInput): Buffer {
  const whole = encodeRecord(input);
  let at = 0;
  while (whole[at]! >= 0x80) at++;
  return whole.subarray(at + 1);
}

/** Both decoders on the same bytes: the fast one must give kafkajs's object, or nothing (and leave the offset). */
function decodeBoth(bytes: Buffer, ctx: BatchContext): { fast: DecodedRecord | null; own: DecodedRecord; fastOffset: number; ownOffset: number } {
  const original = kafkajsRecordDecoder();
  const d1 = new DecoderClass(bytes);
  const fast = decodeRecordFast(d1, ctx);
  const d2 = new DecoderClass(bytes);
  const own = original(d2, ctx);
  return { fast, own, fastOffset: d1.offset, ownOffset: d2.offset };
}

const bytes = fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 200 }), fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)));
const headerValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)));
const context = fc.record({
  firstOffset: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 40n }), fc.bigInt({ min: 2n ** 53n - 10n, max: 2n ** 63n - 1n })).map(String),
  firstTimestamp: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 42n }), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })).map(String),
  maxTimestamp: fc.bigInt({ min: 0n, max: 2n ** 42n }).map(String),
  magicByte: fc.constant(2),
  isControlBatch: fc.boolean(),
  timestampType: fc.constantFrom(0, 1),
});

describe('decodeRecordFast', () => {
  it('gives kafkajs\'s record object for arbitrary records and batch contexts, or leaves them to kafkajs', () => {
    fc.assert(fc.property(
      fc.record({
        offsetDelta: fc.integer({ min: 0, max: 1_000_000 }),
        timestampDelta: fc.oneof(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.integer({ min: -(2 ** 52), max: 2 ** 52 })),
        key: bytes,
        value: bytes,
        headers: fc.dictionary(fc.string({ unit: 'binary', maxLength: 20 }), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 5 }),
      }),
      context,
      (input, ctx) => {
        const { fast, own, fastOffset, ownOffset } = decodeBoth(body(input), ctx);
        if (fast === null) {
          expect(fastOffset).toBe(0);
          return;
        }
        expect(fast).toStrictEqual(own);
        expect(fastOffset).toBe(ownOffset);
      },
    ), { numRuns: 2_000 });
  });

  it('decodes a storesim message on the fast path (key, JSON value, three headers)', () => {
    const input: RecordInput = {
      offsetDelta: 1_999,
      timestampDelta: 12,
      key: 'c-0197-4f2a',
      value: Buffer.from(JSON.stringify({ event: 'pickup', item_id: 'SKU-1', quantity: 2 })),
      headers: { 'storesim.run': '01a2', 'storesim.seq': '123456', 'storesim.produced_at': String(Date.now()) },
    };
    const { fast, own } = decodeBoth(body(input), { firstOffset: '1000', firstTimestamp: String(Date.now()), magicByte: 2, timestampType: 0 });
    expect(fast).not.toBeNull();
    expect(fast).toStrictEqual(own);
    expect(fast!.offset).toBe('2999');
  });

  it('leaves to kafkajs what a number cannot hold exactly', () => {
    const rec = body({ offsetDelta: 5, timestampDelta: 1, key: 'k', value: 'v' });
    expect(decodeRecordFast(new DecoderClass(rec), { firstOffset: String(2n ** 60n), firstTimestamp: '0' })).toBeNull();
    expect(decodeRecordFast(new DecoderClass(rec), { firstOffset: '0', firstTimestamp: String(-(2n ** 62n)) })).toBeNull();
    const proto = body({ key: 'k', value: 'v', headers: { ['__proto__']: 'x' } });
    const { fast, own } = decodeBoth(proto, { firstOffset: '0', firstTimestamp: '0' });
    expect(fast).toBeNull();
    expect(Object.keys(own.headers)).toEqual(['__proto__']);
  });

  it('is no worse than kafkajs on arbitrary bytes: the same object, or nothing, and always quickly', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), context, (a, ctx) => {
      const fast = decodeRecordFast(new DecoderClass(Buffer.from(a)), ctx);
      // kafkajs is asked only where the fast path answered: on garbage it may loop for a header
      // count of billions (what the fast path refuses).
      if (fast === null) return;
      const own = kafkajsRecordDecoder()(new DecoderClass(Buffer.from(a)), ctx);
      expect(fast).toStrictEqual(own);
    }), { numRuns: 5_000 });
  });

  it('refuses a header count the bytes cannot hold instead of looping over it', () => {
    // attributes 0, timestamp delta 0, offset delta 0, key null, value null, then 2^30 headers
    const bytes = Buffer.from([0, 0, 0, 1, 1, 0x80, 0x80, 0x80, 0x80, 0x08]);
    expect(decodeRecordFast(new DecoderClass(bytes), { firstOffset: '0', firstTimestamp: '0' })).toBeNull();
  });
});

describe('installFastRecordDecoder', () => {
  it('installs before kafkajs decodes a fetch response, and says so', () => {
    expect(installFastRecordDecoder()).toBe(true);
    const cached = require.cache[require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')];
    const rec = body({ offsetDelta: 3, key: 'k', value: 'v', headers: { a: 'b' } });
    const got = (cached!.exports as RecordDecoder)(new DecoderClass(rec), { firstOffset: '7', firstTimestamp: '100' });
    expect(got.offset).toBe('10');
    expect(got.headers).toStrictEqual({ a: Buffer.from('b') });
  });
});
