/**
 * Faster produce encoding for kafkajs (kafkajs 2.x, pinned; DESIGN.md, kafkajs traps): the same
 * bytes on the wire, a fraction of the allocations.
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
 * kafkajs requires its Record and record-batch modules lazily, on the first produce request (or
 * fetch) of the process: installFastRecordEncoder() swaps the exports of the Record and CRC-32C
 * modules in the require cache before that. When they were already used, it does nothing and
 * returns false: kafkajs keeps its own encoders, slower but identical on the wire.
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

interface KafkajsEncoder { buf: Buffer; offset: number }
interface EncoderProto { ensureAvailable(length: number): void }

const RECORD_MODULE = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const ENCODER_MODULE = 'kafkajs/src/protocol/encoder.js';
const PRODUCE_V3_MODULE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const RECORD_BATCH_MODULE = 'kafkajs/src/protocol/recordBatch/v0/index.js';
const CRC32C_MODULE = 'kafkajs/src/protocol/recordBatch/crc32C/index.js';

/** CRC-32C (Castagnoli, reflected 0x82F63B78) tables for slicing by 8. */
const CRC_TABLES: Int32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[0]![n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0]![n]!;
    for (let k = 1; k < 8; k++) {
      c = t[0]![c & 0xff]! ^ (c >>> 8);
      t[k]![n] = c;
    }
  }
  return t;
})();

/** CRC-32C of the buffer, unsigned: the same as kafkajs's recordBatch/crc32C. */
export function crc32c(buf: Buffer): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = CRC_TABLES as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let crc = -1;
  let i = 0;
  const end8 = buf.length - (buf.length % 8);
  for (; i < end8; i += 8) {
    const a = crc ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    crc = t7[a & 0xff]! ^ t6[(a >>> 8) & 0xff]! ^ t5[(a >>> 16) & 0xff]! ^ t4[a >>> 24]!
      ^ t3[buf[i + 4]!]! ^ t2[buf[i + 5]!]! ^ t1[buf[i + 6]!]! ^ t0[buf[i + 7]!]!;
  }
  for (; i < buf.length; i++) crc = t0[(crc ^ buf[i]!) & 0xff]! ^ (crc >>> 8);
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

/** Zigzag, as kafkajs's writeVarInt / writeVarLong (exact for safe integers). */
const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

/** A byte field: its bytes (null for a null field) and its length prefix. */
function bytesOf(v: Buffer | string | null | undefined): Buffer | string | null {
  if (v === null || v === undefined) return null;
  return Buffer.isBuffer(v) ? v : String(v);
}
const lengthOf = (v: Buffer | string | null): number => (v === null ? -1 : typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length);

function writeField(buf: Buffer, at: number, v: Buffer | string | null, len: number): number {
  at = writeUVarInt(buf, at, zigzag(len));
  if (v === null) return at;
  if (typeof v === 'string') buf.write(v, at, len, 'utf8');
  else v.copy(buf, at);
  return at + len;
}

/** Record v0 bytes, the same as kafkajs's Record(…).buffer. */
export function encodeRecord({ offsetDelta = 0, timestampDelta = 0, key, value, headers = {} }: RecordInput): Buffer {
  const k = bytesOf(key);
  const v = bytesOf(value);
  const kLen = lengthOf(k);
  const vLen = lengthOf(v);
  const hs: Array<[string, number, Buffer | string | null, number]> = [];
  for (const name of Object.keys(headers)) {
    const hv = headers[name];
    const values = Array.isArray(hv) ? hv : [hv];
    for (const one of values) {
      const b = bytesOf(one);
      hs.push([name, Buffer.byteLength(name, 'utf8'), b, lengthOf(b)]);
    }
  }
  const ts = zigzag(timestampDelta);
  const od = zigzag(offsetDelta);
  let body = 1 + uvarintSize(ts) + uvarintSize(od)
    + uvarintSize(zigzag(kLen)) + Math.max(kLen, 0) + uvarintSize(zigzag(vLen)) + Math.max(vLen, 0) + uvarintSize(zigzag(hs.length));
  for (const [, nLen, , hLen] of hs) body += uvarintSize(zigzag(nLen)) + nLen + uvarintSize(zigzag(hLen)) + Math.max(hLen, 0);
  const buf = Buffer.allocUnsafe(uvarintSize(zigzag(body)) + body);
  let at = writeUVarInt(buf, 0, zigzag(body));
  buf[at++] = 0; // attributes: none used
  at = writeUVarInt(buf, at, ts);
  at = writeUVarInt(buf, at, od);
  at = writeField(buf, at, k, kLen);
  at = writeField(buf, at, v, vLen);
  at = writeUVarInt(buf, at, zigzag(hs.length));
  for (const [name, nLen, hv, hLen] of hs) {
    at = writeField(buf, at, name, nLen);
    at = writeField(buf, at, hv, hLen);
  }
  return buf;
}

let installed: boolean | null = null;

/**
 * Makes kafkajs's produce requests use encodeRecord. True when installed (now or before), false
 * when kafkajs had already encoded a produce request in this process (it keeps its own encoder).
 * STORESIM_KAFKAJS_RECORD=kafkajs keeps kafkajs's own (to compare).
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
    const Encoder = require(ENCODER_MODULE) as { prototype: EncoderProto; nextPowerOfTwo(n: number): number };
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
    entry.exports = (input: RecordInput): KafkajsEncoder => {
      const buf = encodeRecord(input);
      const enc = Object.create(Encoder.prototype) as KafkajsEncoder;
      enc.buf = buf;
      enc.offset = buf.length;
      return enc;
    };
    return (installed = true);
  } catch {
    return (installed = false); // another kafkajs layout: its own encoder stays
  }
}
