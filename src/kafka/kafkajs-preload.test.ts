import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { groupingInstalled, groupMessagesPerPartition } from './kafkajs-preload.js';
import { kafkajsOwnModule } from './testing.js';

const require = createRequire(import.meta.url);
const GROUP = 'kafkajs/src/producer/groupMessagesPerPartition.js';

type Group = typeof groupMessagesPerPartition;

describe('groupMessagesPerPartition', () => {
  const original = kafkajsOwnModule<Group>(GROUP); // the cached one is ours

  it('is installed in kafkajs before its producer loads', () => {
    expect(original).not.toBe(groupMessagesPerPartition); // the fresh copy is kafkajs's
    expect(groupingInstalled).toBe(true);
    require('kafkajs'); // loads the producer, which takes the cached module
    expect(require(GROUP)).toBe(groupMessagesPerPartition);
  });

  it('groups as kafkajs does: the same partitions, the same messages in the same order', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 12 }),
      fc.array(fc.record({ key: fc.string({ maxLength: 8 }), partition: fc.option(fc.nat(20), { nil: undefined }) }), { maxLength: 300 }),
      (partitions, messages) => {
        const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i }));
        // A partitioner like the bus's: an explicit partition, else one from the key.
        const partitioner = ({ message }: { message: { key: string; partition?: number } }): number =>
          message.partition ?? [...message.key].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000, 7) % Math.max(1, partitions);
        const args = { topic: 't', partitionMetadata, messages, partitioner };
        const ours = groupMessagesPerPartition(args);
        const theirs = original(args);
        expect(ours).toEqual(theirs);
        expect(Object.keys(ours)).toEqual(Object.keys(theirs));
        for (const k of Object.keys(theirs)) {
          const p = Number(k);
          expect(ours[p]!.every((m, i) => m === theirs[p]![i])).toBe(true); // the same objects
        }
      },
    ), { numRuns: 300 });
  });
});
