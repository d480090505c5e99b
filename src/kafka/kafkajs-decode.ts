/**
 * Faster fetch decoding for kafkajs (kafkajs 2.x, pinned; the companion of kafkajs-record.ts): the
 * same record objects, a fraction of the work.
 *
 * kafkajs decodes every fetched record's timestamp delta as a 64-bit Long, one bignum addition per
 * 7 bits, then adds it to the batch's first timestamp and its offset delta to the first offset, each
 * through Long.fromValue(string) and back to a string; and it gathers the headers with an object
 * spread per header. In a profile of a run through Kafka at 5,000 events/s, decoding fetched records
 * was ~5 % of the process. decodeRecordFast reads the same fields with plain numbers (exact: every
 * value is checked to be a safe integer) and builds the same object; a record it cannot decode
 * exactly that way (a varlong longer than 7 bytes, offsets or timestamps past 2^53, a header named
 * `__proto__`) goes to kafkajs's own decoder.
 *
 * kafkajs requires its record decoder lazily, with the record-batch decoder, on the first fetch
 * response of the process: installFastRecordDecoder() swaps the record decoder module's export in
 * the require cache before that. When the batch decoder was already loaded it does nothing and
 * returns false: kafkajs keeps its own decoder, slower but identical.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const RECORD_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/decoder.js';
const BATCH_DECODER_MODULE = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
/** kafkajs's TimestampTypes.LOG_APPEND_TIME. */
const LOG_APPEND_TIME = 1;

/** The part of kafkajs's Decoder the record decoder uses. */
export interface KafkajsDecoder { buffer: Buffer; offset: number }

/** What kafkajs's record-batch decoder passes for each record. */
export interface BatchContext {
  firstOffset?: string;
  firstTimestamp?: string;
  magicByte?: number;
  isControlBatch?: boolean;
  timestampType?: number;
  maxTimestamp?: string;
}

export interface DecodedRecord {
  magicByte: number | undefined;
  attributes: number;
  timestamp: string | undefined;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  isControlRecord: boolean;
  batchContext: BatchContext;
}

export type RecordDecoder = (decoder: KafkajsDecoder, batchContext?: BatchContext) => DecodedRecord;

/** Where the reading functions below are in the record being decoded (one record at a time, synchronously). */
let pos = 0;

/** A varint at `pos` as kafkajs's Decoder.readVarInt reads it (32-bit arithmetic, zigzag). */
function readVarInt(buf: Buffer): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    byte = buf[pos++]!;
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** A zigzag varlong at `pos` of at most 7 bytes (49 bits, exact as a number), or NaN for a longer one. */
function readVarLong(buf: Buffer): number {
  let unsigned = 0;
  let scale = 1;
  for (let i = 0; i < 7; i++) {
    const byte = buf[pos++]!;
    unsigned += (byte & 0x7f) * scale;
    if (byte < 0x80) return unsigned % 2 === 0 ? unsigned / 2 : -(unsigned + 1) / 2;
    scale *= 128;
  }
  return NaN;
}

/** A length that is not a record a broker sent: kafkajs's decoder decides what those bytes mean. */
class NotARecord extends Error {}
const NOT_A_RECORD = new NotARecord();

/** A varint length or count at `pos`: -1 (null) or more. */
function readLength(buf: Buffer): number {
  const len = readVarInt(buf);
  if (len < -1) throw NOT_A_RECORD;
  return len;
}

/** Length-prefixed bytes at `pos` (null for length -1), sharing the fetched buffer as kafkajs's do. */
function readBytes(buf: Buffer): Buffer | null {
  const len = readLength(buf);
  if (len === -1) return null;
  const start = pos;
  pos += len;
  return buf.subarray(start, pos);
}

/** `base` (a decimal string) + delta as kafkajs's Long arithmetic writes it, or null when not exact as a number. */
function plus(base: string | undefined, delta: number): string | null {
  const n = Number(base);
  if (base === undefined || !Number.isSafeInteger(n) || String(n) !== base) return null;
  const sum = n + delta;
  return Number.isSafeInteger(sum) ? String(sum) : null;
}

/** Reads one record as kafkajs's record/v0/decoder does, or returns null (nothing consumed) when it cannot exactly. */
export function decodeRecordFast(decoder: KafkajsDecoder, batchContext: BatchContext = {}): DecodedRecord | null {
  try {
    return decodeRecord(decoder, batchContext);
  } catch (err) {
    if (err instanceof NotARecord) return null;
    throw err;
  }
}

function decodeRecord(decoder: KafkajsDecoder, batchContext: BatchContext): DecodedRecord | null {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  const buf = decoder.buffer;
  pos = decoder.offset;
  const attributes = buf.readInt8(pos);
  pos += 1;

  const timestampDelta = readVarLong(buf);
  if (Number.isNaN(timestampDelta)) return null;
  const timestamp = timestampType === LOG_APPEND_TIME && maxTimestamp ? maxTimestamp : plus(firstTimestamp, timestampDelta);
  if (timestamp === null) return null;
  const offset = plus(firstOffset, readVarInt(buf));
  if (offset === null) return null;
  const key = readBytes(buf);
  const value = readBytes(buf);

  const count = readLength(buf);
  // Each header takes two bytes at least: a larger count is not a record a broker sent (kafkajs
  // would allocate and loop that many times; it decides what such bytes mean).
  if (count > (buf.length - pos) / 2) return null;
  const headers: DecodedRecord['headers'] = {};
  for (let i = 0; i < count; i++) {
    const len = readLength(buf);
    const name = len === -1 ? 'null' : buf.toString('utf8', pos, (pos += len));
    if (name === '__proto__') return null;
    const v = readBytes(buf);
    const before = headers[name];
    headers[name] = before === undefined ? v : Array.isArray(before) ? before.concat([v]) : [before, v];
  }
  if (pos > buf.length) return null; // truncated: kafkajs's decoder decides what that means

  decoder.offset = pos;
  return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord: isControlBatch, batchContext };
}

/** kafkajs's record decoder with the fast path in front of it. */
export function withFastPath(original: RecordDecoder): RecordDecoder {
  return (decoder, batchContext = {}) => decodeRecordFast(decoder, batchContext) ?? original(decoder, batchContext);
}

let installed: boolean | null = null;

/**
 * Makes kafkajs's fetch responses use decodeRecordFast. True when installed (now or before), false
 * when kafkajs had already loaded its record-batch decoder in this process (it keeps its own).
 * STORESIM_KAFKAJS_RECORD=kafkajs keeps kafkajs's own (to compare).
 */
export function installFastRecordDecoder(): boolean {
  if (installed !== null) return installed;
  if (process.env.STORESIM_KAFKAJS_RECORD === 'kafkajs') return (installed = false);
  try {
    if (require.cache[require.resolve(BATCH_DECODER_MODULE)]) return (installed = false);
    const path = require.resolve(RECORD_DECODER_MODULE);
    const original = require(path) as RecordDecoder;
    const entry = require.cache[path];
    if (!entry) return (installed = false);
    entry.exports = withFastPath(original);
    return (installed = true);
  } catch {
    return (installed = false); // another kafkajs layout: its own decoder stays
  }
}
