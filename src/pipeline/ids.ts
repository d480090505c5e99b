/**
 * Derived ids (DESIGN.md, Identity and counting): UUIDv5 (RFC 9562, SHA-1) in the run's namespace,
 * so the same input gives the same ids on every replay.
 */
import * as crypto from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}

/** The one-shot hash (Node ≥ 20.12), much cheaper than createHash() per id; createHash before that. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Buffer, encoding: 'hex') => string }).hash;
let lastNamespace = '';
let lastNamespaceBytes = Buffer.alloc(16);

/** UUIDv5 of `name` (UTF-8) in `namespace` (a UUID string). Throws if the namespace is not a UUID. */
export function uuidv5(namespace: string, name: string): string {
  if (namespace !== lastNamespace) {
    if (!isUuid(namespace)) throw new Error(`uuidv5: namespace is not a UUID: ${namespace}`);
    lastNamespaceBytes = Buffer.from(namespace.replace(/-/g, ''), 'hex');
    lastNamespace = namespace;
  }
  let h: string;
  if (oneShot) {
    const data = Buffer.allocUnsafe(16 + Buffer.byteLength(name, 'utf8'));
    lastNamespaceBytes.copy(data, 0);
    data.write(name, 16, 'utf8');
    h = oneShot('sha1', data, 'hex');
  } else {
    h = crypto.createHash('sha1').update(lastNamespaceBytes).update(name, 'utf8').digest('hex');
  }
  // Byte 6's high nibble is the version (5); byte 8's two high bits the RFC 9562 variant (10).
  const variant = ((parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A POS transaction's id: UUIDv5(run namespace, the exit event's event_id). */
export function transactionId(runId: string, exitEventId: string): string {
  return uuidv5(runId, exitEventId);
}

/** A visit_closed record's id: UUIDv5(run namespace, visit_id + ":visit"). */
export function visitRecordId(runId: string, visitId: string): string {
  return uuidv5(runId, `${visitId}:visit`);
}
