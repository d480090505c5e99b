import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFootEvent, parseRunSettings, parseShelfEvent, renderJsonSchemaFiles } from './schemas.js';

const base = {
  event_id: '01936a5e-1234-7000-8000-000000000001', store_id: 'store-1', customer_id: 'C1', visit_id: 'V1',
  timestamp: '2026-11-23T08:00:00.000Z', schema_version: 1,
};
const entry = { ...base, event_type: 'entry', door: 'D1' };
const exit = {
  ...base, event_type: 'exit', entry_time: '2026-11-23T07:50:00.000Z', exit_time: '2026-11-23T08:00:00.000Z',
  lane: 2, queue_joined_at: '2026-11-23T07:58:00.000Z', service_started_at: '2026-11-23T07:59:00.000Z', payment_method: 'card',
};
const pickup = { ...base, event_type: 'pickup', shelf_id: 'S1', item_id: 'A', quantity: 1 };

const reason = (r: { ok: boolean; reason?: string }): string | undefined => (r.ok ? undefined : r.reason);

describe('raw event schemas', () => {
  it('accept the events as the engine writes them', () => {
    expect(parseFootEvent(entry).ok).toBe(true);
    expect(parseFootEvent(exit).ok).toBe(true);
    expect(parseFootEvent({ ...exit, lane: null, queue_joined_at: null, service_started_at: null, payment_method: null }).ok).toBe(true);
    expect(parseShelfEvent(pickup).ok).toBe(true);
    expect(parseShelfEvent({ ...pickup, event_type: 'putback', quantity: -3 }).ok).toBe(true); // quantity is a business rule
  });

  it('name the offending field', () => {
    const { door: _door, ...noDoor } = entry;
    expect(reason(parseFootEvent(noDoor))).toMatch(/^door: .*expected string/);
    expect(reason(parseShelfEvent({ ...pickup, quantity: 1.5 }))).toMatch(/^quantity: /);
    expect(reason(parseShelfEvent({ ...pickup, quantity: '1' }))).toMatch(/^quantity: /);
    expect(reason(parseFootEvent({ ...exit, lane: 1.5 }))).toMatch(/^lane: /);
    expect(reason(parseFootEvent({ ...exit, payment_method: 'bitcoin' }))).toMatch(/^payment_method: /);
    expect(reason(parseFootEvent({ ...entry, event_id: 'not-a-uuid' }))).toMatch(/^event_id: /);
    expect(reason(parseFootEvent({ ...entry, timestamp: '2026-11-23 08:00' }))).toMatch(/^timestamp: /);
    expect(reason(parseFootEvent({ ...entry, timestamp: '2026-11-23T09:00:00+01:00' }))).toMatch(/^timestamp: /);
    expect(reason(parseFootEvent({ ...entry, schema_version: '1' }))).toMatch(/^schema_version: /);
    expect(reason(parseFootEvent({ ...entry, extra: 1 }))).toMatch(/unexpected field\(s\): extra/);
  });

  it('refuse an event on the wrong topic, or with no event_type', () => {
    expect(reason(parseShelfEvent(entry))).toMatch(/^event_type: "entry" does not belong on shelf_events/);
    expect(reason(parseFootEvent(pickup))).toMatch(/^event_type: "pickup" does not belong on foot_traffic/);
    const { event_type: _t, ...untyped } = entry;
    expect(reason(parseFootEvent(untyped))).toMatch(/^event_type: missing/);
  });

  it('validate run settings', () => {
    expect(parseRunSettings({ run_id: base.event_id, grace_ms: 30_000, dedup_window_ms: 120_000, marker_interval_ms: 10_000, max_session_age_sec: 10_800, force_checkout_if_empty: false, fixtures_hash: 'h', store_id: 's' }).ok).toBe(true);
    expect(parseRunSettings({ run_id: base.event_id }).ok).toBe(false);
  });
});

describe('JSON Schema files', () => {
  it('schemas/ holds exactly a fresh export of the zod schemas (run `npx tsx scripts/export-schemas.ts`)', () => {
    for (const [name, text] of Object.entries(renderJsonSchemaFiles())) {
      const committed = readFileSync(new URL(`../../schemas/${name}`, import.meta.url), 'utf8');
      expect(committed, `schemas/${name} is stale`).toBe(text);
    }
  });

  it('describe the shapes DESIGN.md names', () => {
    const files = renderJsonSchemaFiles();
    expect(Object.keys(files).sort()).toEqual(['foot_traffic.entry.json', 'foot_traffic.exit.json', 'pos_transaction.json', 'shelf_events.json', 'visit_closed.json']);
    const exitSchema = JSON.parse(files['foot_traffic.exit.json']!) as { required: string[]; additionalProperties: boolean };
    expect(exitSchema.required).toEqual(expect.arrayContaining(['entry_time', 'exit_time', 'lane', 'queue_joined_at', 'service_started_at', 'payment_method']));
    expect(exitSchema.additionalProperties).toBe(false);
  });
});
