import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from '../kafka/bus.js';
import type { PosTransaction, VisitClosed } from '../pipeline/types.js';
import { RowMappingError, rejectedRow, stagingRow, toCents, transactionRow, visitRow } from './rows.js';

const RUN = '0196b000-0000-7000-8000-000000000001';

function message(topic: string, value: Buffer | string | object, headers: Record<string, string>, key: string | null = 'c1'): IncomingMessage {
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return { topic, partition: 3, offset: 41, key, value: bytes, headers, timestamp: Date.parse('2026-11-23T12:00:00.000Z') };
}

const entry = {
  event_id: '0196b000-0000-7000-8000-0000000003e9', event_type: 'entry', store_id: 's1', customer_id: 'c1',
  visit_id: '0196b000-0000-7000-8000-000000001389', timestamp: '2026-11-23T08:00:01.000Z', schema_version: 1, door: 'D1',
};

describe('stagingRow', () => {
  it('maps a clean event, keeping its JSON text and deriving the raw topic from event_type', () => {
    const text = JSON.stringify(entry);
    const row = stagingRow(message('p.clean_events', text, { 'storesim.run': RUN, 'storesim.seq': '17' }));
    expect(row).toEqual({
      run_id: RUN, event_id: entry.event_id, seq: 17, topic: 'foot_traffic', event_type: 'entry', customer_id: 'c1',
      visit_id: entry.visit_id, event_time: entry.timestamp, payload: text,
    });
    const shelf = { ...entry, event_type: 'putback', shelf_id: 'A1', item_id: 'SKU-1', quantity: 1 };
    expect(stagingRow(message('clean_events', shelf, { 'storesim.run': RUN, 'storesim.seq': '18' })).topic).toBe('shelf_events');
  });

  it('throws a RowMappingError naming the message when headers or fields are missing', () => {
    expect(() => stagingRow(message('clean_events', entry, { 'storesim.run': RUN }))).toThrow(/clean_events\[3\]@41.*storesim\.seq/);
    expect(() => stagingRow(message('clean_events', entry, { 'storesim.seq': '1' }))).toThrow(RowMappingError);
    expect(() => stagingRow(message('clean_events', '{oops', { 'storesim.run': RUN, 'storesim.seq': '1' }))).toThrow(/not JSON/);
    expect(() => stagingRow(message('clean_events', { ...entry, event_type: 'teleport' }, { 'storesim.run': RUN, 'storesim.seq': '1' })))
      .toThrow(/unknown event_type/);
  });
});

describe('rejectedRow', () => {
  const dlHeaders = {
    'error.code': 'unparseable', 'error.reason': 'value is not JSON', 'source.topic': 'p.foot_traffic', 'source.partition': '2',
    'source.offset': '1234', rejected_at: '2026-11-23T12:00:05.123Z', 'storesim.run': RUN, 'storesim.seq': '99', 'storesim.produced_at': '1',
  };

  it('maps a run dead letter: keyed by run and seq, original bytes untouched, every header kept', () => {
    const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x22]);
    const row = rejectedRow(message('p.rejected_events', bytes, dlHeaders));
    expect(row).toEqual({
      run_id: RUN, seq: 99, code: 'unparseable', reason: 'value is not JSON', source_topic: 'p.foot_traffic', source_partition: 2,
      source_offset: 1234, key: 'c1', value: bytes, headers: JSON.stringify(dlHeaders), rejected_at: '2026-11-23T12:00:05.123Z',
    });
  });

  it('maps a foreign dead letter (no storesim headers) with run_id and seq null, keyed by its source', () => {
    const { 'storesim.run': _r, 'storesim.seq': _s, 'storesim.produced_at': _p, ...h } = dlHeaders;
    const row = rejectedRow(message('rejected_events', 'hello', { ...h, 'error.code': 'foreign' }, null));
    expect(row).toMatchObject({ run_id: null, seq: null, code: 'foreign', source_topic: 'p.foot_traffic', source_partition: 2, source_offset: 1234, key: null });
    // A run header without a seq is not enough to key it by run
    expect(rejectedRow(message('rejected_events', 'x', { ...h, 'storesim.run': RUN })).run_id).toBeNull();
  });

  it('falls back to the dead letter\'s own position and timestamp when headers are missing', () => {
    const row = rejectedRow(message('rejected_events', 'x', {}));
    expect(row).toMatchObject({
      run_id: null, seq: null, code: 'foreign', source_topic: 'rejected_events', source_partition: 3, source_offset: 41,
      rejected_at: '2026-11-23T12:00:00.000Z',
    });
  });
});

describe('transactionRow', () => {
  const tx: PosTransaction = {
    event_type: 'pos_transaction', schema_version: 1, transaction_id: 't1', visit_id: 'v1', customer_id: 'c1', store_id: 's1',
    timestamp: '2026-11-23T08:10:00.000Z', lane: 2, payment_method: 'card', currency: 'EUR',
    items: [
      { item_id: 'SKU-1', quantity: 3, unit_price: 0.29, discount: 0, total_price: 0.87 },
      { item_id: 'SKU-2', quantity: 1, unit_price: 19.99, discount: 0.15, total_price: 16.99 },
    ],
    subtotal: 20.86, discount_total: 3.0, total: 17.86,
  };

  it('maps decimals to integer cents, numbering lines from 1', () => {
    expect(transactionRow(message('pos_transactions', tx, { 'storesim.run': RUN }))).toEqual({
      run_id: RUN, transaction_id: 't1', visit_id: 'v1', customer_id: 'c1', store_id: 's1', lane: 2, payment_method: 'card',
      transaction_time: '2026-11-23T08:10:00.000Z', subtotal_cents: 2086, discount_cents: 300, total_cents: 1786,
      items: [
        { line_no: 1, item_id: 'SKU-1', quantity: 3, unit_price_cents: 29, discount_rate: 0, discount_cents: 0, total_cents: 87 },
        { line_no: 2, item_id: 'SKU-2', quantity: 1, unit_price_cents: 1999, discount_rate: 0.15, discount_cents: 300, total_cents: 1699 },
      ],
    });
  });

  it('maps an empty forced checkout and a visit that paid without a lane', () => {
    const empty = { ...tx, items: [], subtotal: 0, discount_total: 0, total: 0, lane: null, payment_method: null };
    expect(transactionRow(message('pos_transactions', empty, { 'storesim.run': RUN }))).toMatchObject({ items: [], total_cents: 0, lane: null, payment_method: null });
  });

  it('needs the run header and a pos_transaction', () => {
    expect(() => transactionRow(message('pos_transactions', tx, {}))).toThrow(/storesim\.run/);
    expect(() => transactionRow(message('pos_transactions', { ...tx, event_type: 'x' }, { 'storesim.run': RUN }))).toThrow(RowMappingError);
    expect(() => transactionRow(message('pos_transactions', { ...tx, total: '1' }, { 'storesim.run': RUN }))).toThrow(/total/);
  });
});

describe('toCents', () => {
  it('rounds away binary noise for every two-place amount up to 10 000.00', () => {
    for (let cents = 0; cents <= 1_000_000; cents += 1) {
      const amount = Number((cents / 100).toFixed(2));
      if (toCents(amount) !== cents) throw new Error(`${amount} → ${toCents(amount)}`);
    }
  });
});

describe('visitRow', () => {
  const v: VisitClosed = {
    event_type: 'visit_closed', schema_version: 1, id: 'rec1', visit_id: 'v1', customer_id: 'c1', store_id: 's1', status: 'purchased',
    entry_time: '2026-11-23T08:00:00.000Z', exit_time: '2026-11-23T08:10:00.000Z',
    lines: [{ item_id: 'SKU-1', quantity: 3 }, { item_id: 'SKU-2', quantity: 1 }],
    lane: 1, queue_joined_at: '2026-11-23T08:08:00.000Z', service_started_at: '2026-11-23T08:09:00.000Z', payment_method: 'cash',
    transaction_id: 't1', stale: false,
  };

  it('maps a closed visit: lines as compact JSON, items as the number of units', () => {
    expect(visitRow(message('visits', v, { 'storesim.run': RUN }))).toEqual({
      run_id: RUN, visit_id: 'v1', record_id: 'rec1', customer_id: 'c1', store_id: 's1', status: 'purchased',
      entry_time: v.entry_time, exit_time: v.exit_time, lane: 1, queue_joined_at: v.queue_joined_at,
      service_started_at: v.service_started_at, payment_method: 'cash', transaction_id: 't1',
      lines: '[{"item_id":"SKU-1","quantity":3},{"item_id":"SKU-2","quantity":1}]', items: 4, stale: false,
    });
  });

  it('maps a visit cut off by the end of the run', () => {
    const open = { ...v, status: 'open_at_end', exit_time: null, lane: null, queue_joined_at: null, service_started_at: null, payment_method: null, transaction_id: null, stale: true };
    expect(visitRow(message('visits', open, { 'storesim.run': RUN }))).toMatchObject({ status: 'open_at_end', exit_time: null, transaction_id: null, stale: true });
    expect(() => visitRow(message('visits', { ...v, status: 'gone' }, { 'storesim.run': RUN }))).toThrow(/unknown status/);
  });
});
