import { describe, expect, it } from 'vitest';
import { createdByTests } from './kafka-global-setup.js';

describe("the test suite's cleanup", () => {
  it('deletes only names with a test prefix that were not on the broker before', () => {
    const before = new Set(['it-old-1-aaaaaa-clean_events', 'storesim-clean_events', 'fk-x-']);
    const now = ['it-old-1-aaaaaa-clean_events', 'it-new-2-bbbbbb-clean_events', 'fk-broker-1_a-visits', 'fk-x-',
      'storesim-clean_events', 'demo-it-clean_events', '__consumer_offsets', 'bench-lat-1-ab-visits'];
    expect(createdByTests(before, now)).toEqual(['it-new-2-bbbbbb-clean_events', 'fk-broker-1_a-visits']);
  });
});
