import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, encodeRecord, installFastRecordEncoder, type RecordInput } from './kafkajs-record.js';

const require = createRequire(import.meta.url);

/** A kafkajs module as kafkajs wrote it, loaded fresh (the cached one may hold ours). */
function kafkajsOwn<T>(module: string): T {
  const p = require.resolve(module);
  const saved = require.cache[p];
  delete require.cache[p];
  try {
    return require(p) as T;
  } finally {
    if (saved) require.cache[p] = saved;
  }
}
const kafkajsRecord = () => kafkajsOwn<(input: RecordInput) => { buffer: Buffer }>('kafkajs/src/protocol/recordBatch/record/v0/index.js');

describe('encodeRecord', () => {
  const original = kafkajsRecord();
  const bytes = fc.oneof(fc.constant(null), fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 400 }).map((a) => Buffer.from(a)));
  // kafkajs itself throws on null or undefined header values (Buffer.byteLength of them).
  const headerValue = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), fc.uint8Array({ maxLength: 60 }).map((a) => Buffer.from(a)));

  it('writes the same bytes as kafkajs for arbitrary records', () => {
    fc.assert(fc.property(
      fc.record({
        offsetDelta: fc.integer({ min: 0, max: 1_000_000 }),
        timestampDelta: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: -(2 ** 40), max: 0 })),
        key: bytes,
        value: bytes,
        headers: fc.dictionary(fc.string({ unit: 'binary', maxLength: 40 }), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 })), { maxKeys: 5 }),
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

describe('installFastRecordEncoder', () => {
  it('installs before kafkajs encodes a produce request, and says so', () => {
    expect(installFastRecordEncoder()).toBe(true);
    const cached = require.cache[require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js')];
    const enc = (cached!.exports as (i: RecordInput) => { buffer: Buffer })({ key: 'k', value: 'v', headers: { a: 'b' } });
    expect(enc.buffer.equals(encodeRecord({ key: 'k', value: 'v', headers: { a: 'b' } }))).toBe(true);
  });
});
