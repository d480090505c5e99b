import { describe, expect, it } from 'vitest';
import { Partitioners } from 'kafkajs';
import type { PartitionMetadata } from 'kafkajs';
import { murmur2, partitionForKey, toPositive } from './murmur2.js';

const metadata = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 1, replicas: [1], isr: [1] }));

describe('murmur2', () => {
  it('matches values published for the Java client', () => {
    // Kafka's UtilsTest.testMurmur2 (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
    const cases: Array<[string, number]> = [
      ['21', -973932308],
      ['foobar', -790332482],
      ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ];
    for (const [key, expected] of cases) expect(murmur2(Buffer.from(key)), key).toBe(expected);
    expect(toPositive(-1)).toBe(0x7fffffff);
  });

  it('picks the same partition as kafkajs DefaultPartitioner for many keys and counts', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const keys: string[] = [];
    for (let i = 0; i < 400; i++) keys.push(`cust-${i.toString(36)}-${'x'.repeat(i % 7)}`);
    keys.push('', 'ü', '日本語のキー', '🛒 cart', '018f1a2b-3c4d-7e5f-8a9b-0c1d2e3f4a5b');
    for (const n of [1, 2, 3, 6, 7, 12, 64]) {
      for (const key of keys) {
        const expected = partitioner({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } });
        expect(partitionForKey(key, n), `${key} / ${n}`).toBe(expected);
        expect(partitionForKey(Buffer.from(key), n)).toBe(expected);
      }
    }
  });

  it('handles keys longer than the scratch buffer', () => {
    const partitioner = Partitioners.DefaultPartitioner();
    const key = 'k'.repeat(1000) + 'é'.repeat(300);
    const expected = partitioner({ topic: 't', partitionMetadata: metadata(6), message: { key, value: null } });
    expect(partitionForKey(key, 6)).toBe(expected);
  });
});
