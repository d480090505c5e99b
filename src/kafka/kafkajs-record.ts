/**
 * Faster produce encoding for kafkajs (kafkajs 2.x, pinned; DESIGN.md, kafkajs traps): the same
 * bytes on the wire, a fraction of the allocations and of the CPU.
 *
 * kafkajs encodes every record with `new Encoder()` and every header with another one: each a
 * zero-filled 512-byte Buffer with its own ArrayBuffer (not pooled), then copied into the batch.
 * With three headers per message that is four such buffers per message: in a profile of a run
 * through Kafka, producing was the largest cost of the process, and the garbage collector it drove
 * the next. encodeRecord writes the same bytes (Record v0: length, attributes, timestamp delta,
 * offset delta, key, value, headers) into one exactly sized buffer from Node's pool and hands kafkajs
 * an Encoder holding it. Besides: kafkajs's encoders grow without zero-filling (nothing reads past
 * their offset), and the record batch's CRC-32C, which kafkajs computes a byte at a time, is
 * computed eight bytes at a time (the same checksum).
 *
 * Around the records, kafkajs's Produce v3 request (v4..v7, Kafka 4.x's, wrap it) still cost ~15 %
 * of the process at 5,000 events/s: a sort of the timestamps, an object spread and a Record per
 * message, then a record batch built and copied through several Encoders per partition, and the
 * request through more. encodeProduceV3 measures every record first, then writes the whole request
 * (record batches, CRCs and all) into one buffer of exactly that size: the same bytes, with
 * kafkajs's quirks (its timestamps sorted as strings, Long's reading of int64s). What it cannot
 * encode identically (compression, a value of a type kafkajs writes otherwise or not at all, a
 * timestamp delta past 2^52) goes to kafkajs's own v3 request, which uses encodeRecord.
 *
 * kafkajs requires its produce request, Record and record-batch modules lazily, on the first
 * produce request (or fetch) of the process: installFastRecordEncoder() swaps the exports of the
 * Record, CRC-32C and Produce v3 request modules in the require cache before that. When they were
 * already used, it does nothing and returns false: kafkajs keeps its own encoders, slower but
 * identical on the wire.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

type HeaderValue = Buffer | string | null | undefined;
export interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: Buffer | string | null;
  value?: Buffer | string | null;
  headers?: Record<string, HeaderValue | HeaderValue[]>;
}

/** A message as kafkajs's producer hands it to the produce request (types as found, checked). */
export interface ProduceMessage {
  key?: unknown;
  value?: unknown;
  headers?: Record<string, unknown>;
  timestamp?: unknown;
  partition?: unknown;
}
export interface ProducePartition { partition: number; firstSequence?: number; messages: ProduceMessage[] }
export interface ProduceTopic { topic: string; partitions: ProducePartition[] }
/** The arguments of kafkajs's Produce v3 request function (v4..v7 pass theirs on). */
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: ProduceTopic[];
}
interface KafkajsEncoder { buf: Buffer; offset: number }
export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse(): boolean;
  encode(): Promise<KafkajsEncoder>;
}
export type ProduceRequestV3 = (args: ProduceArgs) => ProduceRequest;

interface EncoderClass { prototype: EncoderProto; nextPowerOfTwo(n: number): number }
interface EncoderProto { ensureAvailable(length: number): void }
interface KafkajsLong { getHighBits(): number; getLowBits(): number }
interface LongClass { fromValue(v: unknown): KafkajsLong }

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const LONG_MODULE = 'kafkajs/src/utils/long.js';
const API_KEYS_MODULE = 'kafkajs/src/protocol/requests/apiKeys.js';
const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const RECORD_BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0/index.js';
const CRC32C_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';

/**
 * CRC-32C (Castagnoli, reflected 0x82F63B78) tables for slicing by 8, table k at k * 256: one
 * array, as eight separate ones cost twice the time per byte (V8 keeps fewer of them at hand).
 */
const CRC_TABLE: Int32Array = (() => {
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < 8; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

/** CRC-32C of the buffer, unsigned: the same as kafkajs's recordBatch/crc32C. */
export function crc32c(buf: Buffer): number {
  const t = CRC_TABLE;
  let crc = -1;
  let i = 0;
  const end8 = buf.length - (buf.length % 8);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc = t[0x700 + (a & 0xff)]! ^ t[0x600 + ((a >>> 8) & 0xff)]! ^ t[0x500 + ((a >>> 16) & 0xff)]! ^ t[0x400 + (a >>> 24)]!
      ^ t[0x300 + buf[i + 4]!]! ^ t[0x200 + buf[i + 5]!]! ^ t[0x100 + buf[i + 6]!]! ^ t[buf[i + 7]!]!;
  }
  for (; i < buf.length; i++) crc = t[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Bytes of an unsigned varint. */
function uvarintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeUVarInt(buf: Buffer, at: number, n: number): number {
  while (n >= 128) {
    buf[at++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[at++] = n;
  return at;
}

/** Zigzag, as kafkajs's writeVarInt / writeVarLong (exact for |n| <= 2^52). */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** Bytes of a varint-prefixed field of that length (-1: null). */
const fieldSize = (len: number): number => uvarintSize(zigzag(len)) + Math.max(len, 0);

/** Thrown where the fast request encoder cannot write kafkajs's bytes: kafkajs's own request then. */
const CANNOT_ENCODE = new Error('not encodable as kafkajs would: kafkajs encodes it');
function cannotEncode(): never {
  throw CANNOT_ENCODE;
}

/**
 * Numbers the size step measures (byte lengths, counts, timestamp deltas), read back in the same
 * order by the write step, so that nothing is measured twice. Reused: encoding is synchronous.
 */
class Tape {
  private values: number[] = [];
  private written = 0;
  private read = 0;

  reset(): void {
    this.written = 0;
    this.read = 0;
  }

  push(n: number): number {
    this.values[this.written++] = n;
    return n;
  }

  /** A place for a number known only later (set). */
  reserve(): number {
    this.values[this.written] = 0;
    return this.written++;
  }

  set(at: number, n: number): void {
    this.values[at] = n;
  }

  next(): number {
    return this.values[this.read++]!;
  }
}

const recordTape = new Tape();
const requestTape = new Tape();

/**
 * Byte length of a key, value or header value (-1: null). Strict (the request encoder): only what
 * kafkajs writes the same way, a string or a Buffer, or null where nullable; kafkajs throws on a
 * null header value and on numbers, and writes other objects inconsistently.
 */
function fieldLength(v: unknown, strict: boolean, nullable = true): number {
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
  if (Buffer.isBuffer(v)) return v.length;
  if (strict && !(nullable && (v === null || v === undefined))) cannotEncode();
  return v === null || v === undefined ? -1 : Buffer.byteLength(String(v), 'utf8');
}

/**
 * Writes a string of len UTF-8 bytes. A short ASCII one (as many bytes as UTF-16 units) byte by
 * byte: keys and header names and values mostly are, and a call into C++ costs more than the loop.
 */
function writeText(buf: Buffer, at: number, s: string, len: number): void {
  if (len === s.length && len <= 64) {
    for (let i = 0; i < len; i++) buf[at + i] = s.charCodeAt(i);
  } else {
    buf.write(s, at, len, 'utf8');
  }
}

function writeField(buf: Buffer, at: number, v: unknown, len: number): number {
  at = writeUVarInt(buf, at, zigzag(len));
  if (len < 0) return at;
  if (Buffer.isBuffer(v)) buf.set(v, at); // what Buffer#copy ends in, without its checks
  else writeText(buf, at, typeof v === 'string' ? v : String(v), len);
  return at + len;
}

/** The fields of a Record that come from the message. */
interface RecordFields { key?: unknown; value?: unknown; headers?: Record<string, unknown> }
const NO_HEADERS: Record<string, unknown> = {};

function measureHeader(tape: Tape, name: string, v: unknown, strict: boolean): number {
  return fieldSize(tape.push(Buffer.byteLength(name, 'utf8'))) + fieldSize(tape.push(fieldLength(v, strict, false)));
}

function writeHeader(buf: Buffer, at: number, tape: Tape, name: string, v: unknown): number {
  at = writeField(buf, at, name, tape.next());
  return writeField(buf, at, v, tape.next());
}

/**
 * The size step of a Record v0: its bytes, length prefix included. Pushes to the tape what
 * writeRecord reads back: body size, key and value lengths, header count, each header's lengths.
 */
function measureRecord(tape: Tape, r: RecordFields, timestampDelta: number, offsetDelta: number, strict: boolean): number {
  const bodyAt = tape.reserve();
  const kLen = tape.push(fieldLength(r.key, strict));
  const vLen = tape.push(fieldLength(r.value, strict));
  const countAt = tape.reserve();
  const headers = r.headers === undefined ? NO_HEADERS : r.headers;
  let count = 0;
  let headersSize = 0;
  for (const name of Object.keys(headers)) {
    const hv = headers[name];
    if (!Array.isArray(hv)) {
      headersSize += measureHeader(tape, name, hv, strict);
      count++;
    } else {
      for (const one of hv) headersSize += measureHeader(tape, name, one, strict);
      count += hv.length;
    }
  }
  tape.set(countAt, count);
  const body = 1 + uvarintSize(zigzag(timestampDelta)) + uvarintSize(zigzag(offsetDelta))
    + fieldSize(kLen) + fieldSize(vLen) + uvarintSize(zigzag(count)) + headersSize;
  tape.set(bodyAt, body);
  return uvarintSize(zigzag(body)) + body;
}

/** The write step of a Record v0, from what measureRecord put on the tape. */
function writeRecord(buf: Buffer, at: number, tape: Tape, r: RecordFields, timestampDelta: number, offsetDelta: number): number {
  at = writeUVarInt(buf, at, zigzag(tape.next()));
  buf[at++] = 0; // attributes: none used
  at = writeUVarInt(buf, at, zigzag(timestampDelta));
  at = writeUVarInt(buf, at, zigzag(offsetDelta));
  at = writeField(buf, at, r.key, tape.next());
  at = writeField(buf, at, r.value, tape.next());
  at = writeUVarInt(buf, at, zigzag(tape.next()));
  const headers = r.headers === undefined ? NO_HEADERS : r.headers;
  for (const name of Object.keys(headers)) {
    const hv = headers[name];
    if (!Array.isArray(hv)) at = writeHeader(buf, at, tape, name, hv);
    else for (const one of hv) at = writeHeader(buf, at, tape, name, one);
  }
  return at;
}

/** Record v0 bytes, the same as kafkajs's Record(…).buffer. */
export function encodeRecord(input: RecordInput): Buffer {
  const { offsetDelta = 0, timestampDelta = 0 } = input;
  recordTape.reset();
  const buf = Buffer.allocUnsafe(measureRecord(recordTape, input, timestampDelta, offsetDelta, false));
  writeRecord(buf, 0, recordTape, input, timestampDelta, offsetDelta);
  return buf;
}

let Encoder: EncoderClass | undefined;
let Long: LongClass | undefined;
const kafkajsEncoder = (): EncoderClass => (Encoder ??= require(ENCODER_MODULE) as EncoderClass);
/** kafkajs's Long, for int64s other than safe-integer numbers: how kafkajs reads those is its own. */
const kafkajsLong = (): LongClass => (Long ??= require(LONG_MODULE) as LongClass);

/** A kafkajs Encoder holding these bytes, as kafkajs's encoders hand them on. */
function encoderOf(buf: Buffer): KafkajsEncoder {
  const enc = Object.create(kafkajsEncoder().prototype) as KafkajsEncoder;
  enc.buf = buf;
  enc.offset = buf.length;
  return enc;
}

/** An int64 as kafkajs's writeInt64 (Long.fromValue) writes it: numbers, numeric strings, Longs. */
function writeInt64(buf: Buffer, at: number, v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v)) {
    const high = Math.floor(v / 2 ** 32);
    buf.writeInt32BE(high, at);
    buf.writeUInt32BE(v - high * 2 ** 32, at + 4);
  } else {
    const long = kafkajsLong().fromValue(v);
    buf.writeInt32BE(long.getHighBits(), at);
    buf.writeInt32BE(long.getLowBits(), at + 4);
  }
  return at + 8;
}

/** A nullable STRING's bytes (int16 length, -1 for null). */
function stringSize(v: unknown): number {
  if (v === null || v === undefined) return 2;
  if (typeof v !== 'string') cannotEncode();
  return 2 + Buffer.byteLength(v, 'utf8');
}

function writeString(buf: Buffer, at: number, v: string | null | undefined): number {
  if (v === null || v === undefined) return buf.writeInt16BE(-1, at);
  const len = Buffer.byteLength(v, 'utf8');
  at = buf.writeInt16BE(len, at);
  return at + buf.write(v, at, len, 'utf8');
}

/**
 * kafkajs's first and max timestamps of a batch: its messages' timestamps (null ones left out)
 * sorted by Array.prototype.sort's default, as strings (a stable sort: the first of equal strings
 * first, the last of them last); Date.now() for both when there are none.
 */
function timestampRange(messages: ProduceMessage[], dateNow: number): [unknown, unknown] {
  let first: string | number | undefined;
  let max: string | number | undefined;
  let firstText = '';
  let maxText = '';
  for (const { timestamp } of messages) {
    if (timestamp === null || timestamp === undefined) continue;
    if (typeof timestamp !== 'string' && typeof timestamp !== 'number') cannotEncode();
    const text = String(timestamp);
    if (first === undefined) {
      first = max = timestamp;
      firstText = maxText = text;
    } else {
      if (text < firstText) {
        first = timestamp;
        firstText = text;
      }
      if (text >= maxText) {
        max = timestamp;
        maxText = text;
      }
    }
  }
  return first === undefined ? [dateNow, dateNow] : [first, max];
}

/**
 * kafkajs's timestamp delta, JS subtraction and all: `(timestamp || dateNow) - firstTimestamp`,
 * numeric strings subtracted as numbers (first: Number(firstTimestamp), converted once).
 */
function timestampDeltaOf(timestamp: unknown, first: number, dateNow: number): number {
  const delta = ((timestamp || dateNow) as number) - first;
  // NaN (kafkajs's Long makes it 0), fractions (it throws), past 2^52 (zigzag inexact): kafkajs's
  if (!Number.isInteger(delta) || Math.abs(delta) > 2 ** 52) cannotEncode();
  return delta;
}

/** A partition's record batch as measured: what the write step needs besides the tape. */
interface Batch { firstTimestamp: unknown; maxTimestamp: unknown; recordsSize: number }

/** The bytes of a partition's entry besides its records: partition, batch size, batch header. */
const PARTITION_OVERHEAD = 4 + 4 + 8 + 4 + 4 + 1 + 4 + 40;
/** What kafkajs's recordBatch.size() and its batch length field count besides the records. */
const BATCH_SIZE_OVERHEAD = PARTITION_OVERHEAD - 8;
const BATCH_LENGTH_OVERHEAD = BATCH_SIZE_OVERHEAD - 12;
const MAGIC_BYTE = 2;
const TRANSACTIONAL_FLAG = 16;

/** The size step of a partition's record batch: measures its records onto the tape. */
function measureBatch(tape: Tape, messages: unknown): Batch {
  if (!Array.isArray(messages)) cannotEncode();
  const dateNow = Date.now(); // per partition, as kafkajs
  const [firstTimestamp, maxTimestamp] = timestampRange(messages, dateNow);
  const first = Number(firstTimestamp); // a string or a number: what `-` makes of it
  let recordsSize = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as ProduceMessage;
    const delta = tape.push(timestampDeltaOf(m.timestamp, first, dateNow));
    recordsSize += measureRecord(tape, m, delta, i, true);
  }
  return { firstTimestamp, maxTimestamp, recordsSize };
}

/** What every batch of the request shares. */
interface BatchHeader { attributes: number; producerId: unknown; producerEpoch: number }

/**
 * The write step of a partition: partition, batch size, then the RecordBatch (first offset 0,
 * length, leader epoch 0, magic 2, CRC-32C of the body that follows, computed once it is written).
 */
function writeBatch(buf: Buffer, at: number, tape: Tape, p: ProducePartition, batch: Batch, header: BatchHeader): number {
  const { messages } = p;
  at = buf.writeInt32BE(p.partition, at);
  at = buf.writeInt32BE(BATCH_SIZE_OVERHEAD + batch.recordsSize, at);
  at = writeInt64(buf, at, 0);
  at = buf.writeInt32BE(BATCH_LENGTH_OVERHEAD + batch.recordsSize, at);
  at = buf.writeInt32BE(0, at); // partition leader epoch
  at = buf.writeInt8(MAGIC_BYTE, at);
  const crcAt = at;
  const bodyAt = at + 4;
  at = buf.writeInt16BE(header.attributes, bodyAt);
  at = buf.writeInt32BE(messages.length - 1, at); // last offset delta
  at = writeInt64(buf, at, batch.firstTimestamp);
  at = writeInt64(buf, at, batch.maxTimestamp);
  at = writeInt64(buf, at, header.producerId);
  at = buf.writeInt16BE(header.producerEpoch, at);
  at = buf.writeInt32BE(p.firstSequence === undefined ? 0 : p.firstSequence, at);
  at = buf.writeInt32BE(messages.length, at);
  for (let i = 0; i < messages.length; i++) {
    const delta = tape.next();
    at = writeRecord(buf, at, tape, messages[i]!, delta, i);
  }
  buf.writeUInt32BE(crc32c(buf.subarray(bodyAt, at)), crcAt);
  return at;
}

/** The size step of the whole request: the request's bytes; each partition's batch in batches. */
function measureRequest(tape: Tape, transactionalId: unknown, topicData: unknown, batches: Batch[]): number {
  if (!Array.isArray(topicData)) cannotEncode();
  let size = stringSize(transactionalId) + 2 + 4 + 4;
  for (const { topic, partitions } of topicData as ProduceTopic[]) {
    if (!Array.isArray(partitions)) cannotEncode();
    size += stringSize(topic) + 4;
    for (const { messages } of partitions) {
      const batch = measureBatch(tape, messages);
      batches.push(batch);
      size += PARTITION_OVERHEAD + batch.recordsSize;
    }
  }
  return size;
}

/**
 * The bytes of kafkajs's Produce v3 request for these arguments, written into one buffer of the
 * measured size; throws where they might differ (the caller then asks kafkajs).
 */
export function encodeProduceV3(args: ProduceArgs): Buffer {
  const { acks, timeout, transactionalId = null, producerId = -1, producerEpoch = 0, compression = 0, topicData } = args;
  if (compression !== 0) cannotEncode(); // kafkajs compresses the records: its own request
  requestTape.reset();
  const batches: Batch[] = [];
  const size = measureRequest(requestTape, transactionalId, topicData, batches);
  const buf = Buffer.allocUnsafe(size);
  let at = writeString(buf, 0, transactionalId);
  at = buf.writeInt16BE(acks, at);
  at = buf.writeInt32BE(timeout, at);
  at = buf.writeInt32BE(topicData.length, at);
  const header: BatchHeader = { attributes: transactionalId ? TRANSACTIONAL_FLAG : 0, producerId, producerEpoch };
  let b = 0;
  for (const { topic, partitions } of topicData) {
    at = writeString(buf, at, topic);
    at = buf.writeInt32BE(partitions.length, at);
    for (const p of partitions) at = writeBatch(buf, at, requestTape, p, batches[b++]!, header);
  }
  if (at !== size) cannotEncode(); // measured and written disagree: not to be sent
  return buf;
}

/**
 * kafkajs's Produce v3 request function (v4..v7 wrap it) encoding with encodeProduceV3, and with
 * kafkajsV3, kafkajs's own, whatever that cannot encode identically (or where kafkajs throws: it
 * then throws its own error).
 */
export function produceRequestV3(kafkajsV3: ProduceRequestV3): ProduceRequestV3 {
  const { Produce: apiKey } = require(API_KEYS_MODULE) as { Produce: number };
  kafkajsEncoder(); // now: a kafkajs of another layout fails here, at install, not at a request
  return (args) => {
    const { acks } = args;
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => {
        try {
          return encoderOf(encodeProduceV3(args));
        } catch {
          return kafkajsV3(args).encode();
        }
      },
    };
  };
}

let installed: boolean | null = null;

/**
 * Makes kafkajs's produce requests use encodeProduceV3 and encodeRecord. True when installed (now
 * or before), false when kafkajs had already encoded a produce request in this process (it keeps
 * its own encoders). STORESIM_KAFKAJS_RECORD=kafkajs keeps kafkajs's own (to compare).
 */
export function installFastRecordEncoder(): boolean {
  if (installed !== null) return installed;
  if (process.env.STORESIM_KAFKAJS_RECORD === 'kafkajs') return (installed = false);
  try {
    const producePath = require.resolve(PRODUCE_V3_MODULE);
    if (require.cache[producePath] || require.cache[require.resolve(RECORD_BATCH_MODULE)]) return (installed = false);
    const crcPath = require.resolve(CRC32C_MODULE);
    require(crcPath);
    const crcEntry = require.cache[crcPath];
    if (crcEntry) crcEntry.exports = crc32c;
    const recordPath = require.resolve(RECORD_MODULE);
    const Encoder = kafkajsEncoder();
    // kafkajs grows its encoders by doubling into zero-filled buffers; nothing reads past `offset`
    // (`buffer` is buf.slice(0, offset)), so the new buffer need not be zeroed.
    Encoder.prototype.ensureAvailable = function ensureAvailable(this: KafkajsEncoder, length: number): void {
      if (this.offset + length > this.buf.length) {
        const grown = Buffer.allocUnsafe(Encoder.nextPowerOfTwo(this.offset + length));
        this.buf.copy(grown, 0, 0, this.offset);
        this.buf = grown;
      }
    };
    require(recordPath); // the module entry whose export is swapped
    const entry = require.cache[recordPath];
    if (!entry) return (installed = false);
    entry.exports = (input: RecordInput): KafkajsEncoder => encoderOf(encodeRecord(input));
    // Loaded now, after the swaps above, kafkajs's v3 request (the fallback) holds our Record and
    // CRC; v4..v7, loaded later, require the v3 module's export: ours.
    const kafkajsV3 = require(producePath) as ProduceRequestV3;
    const produceEntry = require.cache[producePath] as NodeJS.Module | undefined; // loaded just now
    if (produceEntry) produceEntry.exports = produceRequestV3(kafkajsV3);
    return (installed = true);
  } catch {
    return (installed = false); // another kafkajs layout: its own encoder stays
  }
}
