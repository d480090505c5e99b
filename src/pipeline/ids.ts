/**
 * Derived ids (DESIGN.md, Identity and counting): UUIDv5 (RFC 9562, SHA-1) in the run's namespace,
 * so the same input gives the same ids on every replay.
 */
import { createHash } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** UUIDv5 of `name` (UTF-8) in `namespace` (a UUID string). Throws if the namespace is not a UUID. */
export function uuidv5(namespace: string, name: string): string {
  if (!isUuid(namespace)) throw new Error(`uuidv5: namespace is not a UUID: ${namespace}`);
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50; // version 5
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 9562 variant
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A POS transaction's id: UUIDv5(run namespace, the exit event's event_id). */
export function transactionId(runId: string, exitEventId: string): string {
  return uuidv5(runId, exitEventId);
}

/** A visit_closed record's id: UUIDv5(run namespace, visit_id + ":visit"). */
export function visitRecordId(runId: string, visitId: string): string {
  return uuidv5(runId, `${visitId}:visit`);
}
