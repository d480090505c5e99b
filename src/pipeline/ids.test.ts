import { describe, expect, it } from 'vitest';
import { transactionId, uuidv5, visitRecordId } from './ids.js';

const RUN = '01936a5e-0000-7000-8000-000000000001';

describe('derived ids', () => {
  it('uuidv5 matches the RFC example (DNS namespace, www.example.com)', () => {
    expect(uuidv5('6ba7b810-9dad-11d1-80b4-00c04fd430c8', 'www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('a visit record id is UUIDv5(run, visit_id + ":visit") (checked against Python uuid.uuid5)', () => {
    expect(visitRecordId(RUN, 'V1')).toBe('6b64b65b-1f5a-5e6d-9da2-ef78227e0245');
  });

  it('a transaction id depends only on the run and the exit event id', () => {
    const a = transactionId(RUN, 'e1');
    expect(transactionId(RUN, 'e1')).toBe(a);
    expect(transactionId(RUN, 'e2')).not.toBe(a);
    expect(transactionId('01936a5f-0000-7000-8000-000000000002', 'e1')).not.toBe(a);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('refuses a namespace that is not a UUID', () => {
    expect(() => uuidv5('run-1', 'x')).toThrow(/not a UUID/);
  });
});
