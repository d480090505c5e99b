/**
 * Times cross the database boundary as ISO-8601 UTC with milliseconds (`2026-11-23T08:00:00.000Z`),
 * whatever the dialect stores, so SQLite's text compares in time order and both dialects return
 * identical strings.
 */

const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The canonical form of an ISO-8601 time; throws on text that is not a time (a bug upstream). */
export function isoUtc(value: string): string {
  if (CANONICAL.test(value)) return value;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new TypeError(`not an ISO-8601 time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

export function isoUtcOrNull(value: string | null | undefined): string | null {
  return value === null || value === undefined ? null : isoUtc(value);
}

/** A time read back from either dialect (pg gives Date for timestamptz, SQLite gives text). */
export function readIso(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return isoUtc(value);
  throw new TypeError(`not a time: ${String(value)}`);
}

export function readIsoOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : readIso(value);
}
