/**
 * Imported before kafkajs by every module that imports it (so first in the process): replaces
 * kafkajs's groupMessagesPerPartition in the require cache before its producer captures it.
 *
 * kafkajs groups a send's messages per partition by copying the partition's array for every
 * message (`[...current, message]`): quadratic in a partition's share of the send. With the
 * publisher's 2,000 messages per send it took 3.3 % of the run's process at full speed (a CPU
 * profile of 100,000 events). This one pushes: the same partitions, the same messages in the same
 * order (property-tested against kafkajs's in kafkajs-preload.test.ts).
 * STORESIM_KAFKAJS_RECORD=kafkajs keeps kafkajs's own, as for the record encoder.
 */
import { createRequire } from 'node:module';
import './kafkajs-connection.js'; // a kafkajs fix every client needs: see there
import './kafkajs-broker-pool.js'; // another: see there

const require = createRequire(import.meta.url);
const GROUP_MODULE = 'kafkajs/src/producer/groupMessagesPerPartition.js';
const SEND_MESSAGES_MODULE = 'kafkajs/src/producer/sendMessages.js';

export interface GroupArgs<M> {
  topic: string;
  partitionMetadata: unknown[];
  messages: M[];
  partitioner: (args: { topic: string; partitionMetadata: unknown[]; message: M }) => number;
}

export function groupMessagesPerPartition<M>({ topic, partitionMetadata, messages, partitioner }: GroupArgs<M>): Record<number, M[]> {
  const result: Record<number, M[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    (result[partition] ??= []).push(message);
  }
  return result;
}

/** Whether kafkajs's producer holds ours: false when kafkajs's producer was loaded before this module. */
export const groupingInstalled: boolean = (() => {
  if (process.env.STORESIM_KAFKAJS_RECORD === 'kafkajs') return false;
  try {
    if (require.cache[require.resolve(SEND_MESSAGES_MODULE)]) return false;
    const path = require.resolve(GROUP_MODULE);
    require(path); // standalone: no other kafkajs module is loaded by it
    const entry = require.cache[path];
    if (!entry) return false;
    entry.exports = groupMessagesPerPartition;
    return true;
  } catch {
    return false; // another kafkajs layout: its own stays
  }
})();
