/**
 * Kafka's default partitioner: toPositive(murmur2(keyBytes)) % partitions, bit for bit as the Java
 * client (Utils.murmur2) and kafkajs's DefaultPartitioner, so a key lands in the same partition
 * number in both bus modes (DESIGN.md, The pipeline).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (32-bit, signed result, as Java's `int`). */
export function murmur2(data: Uint8Array, length = data.length): number {
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i << 2;
    let k = data[i4]! | (data[i4 + 1]! << 8) | (data[i4 + 2]! << 16) | (data[i4 + 3]! << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= data[tail + 2]! << 16;
    if (rest >= 2) h ^= data[tail + 1]! << 8;
    h ^= data[tail]!;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The same `& 0x7fffffff` as Kafka's Utils.toPositive (not Math.abs). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

// Keys are short (customer ids): encode into one reused buffer instead of allocating per message.
let scratch = Buffer.allocUnsafe(256);

/** The partition Kafka's default partitioner picks for a non-null key (UTF-8 bytes of a string). */
export function partitionForKey(key: string | Buffer, partitions: number): number {
  if (typeof key !== 'string') return toPositive(murmur2(key)) % partitions;
  // UTF-8 needs at most 3 bytes per UTF-16 code unit.
  if (key.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(key.length * 3);
  const n = scratch.write(key, 0, 'utf8');
  return toPositive(murmur2(scratch, n)) % partitions;
}

/** Alias of partitionForKey: the name the engine driver uses. */
export const partitionFor = partitionForKey;

