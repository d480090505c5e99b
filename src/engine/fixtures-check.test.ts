import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkFixtures } from './fixtures-check.js';
import { testFixtures } from './test-fixtures.js';

const realFixtures = existsSync(new URL('../../fixtures/catalog.json', import.meta.url));

describe('checkFixtures', () => {
  it('finds nothing wrong with the test fixtures', () => {
    expect(checkFixtures(testFixtures())).toEqual([]);
  });

  it.runIf(realFixtures)('finds nothing wrong with the bundled fixtures', async () => {
    const { loadFixtures } = await import('../cli/load-fixtures.js');
    expect(checkFixtures(loadFixtures())).toEqual([]);
  });

  it('names each broken reference in one line', () => {
    const f = testFixtures();
    const layout = f.layouts['corner-shop']!;
    layout.shelves[2]!.item_ids.push('X999');
    layout.doors.push({ door_id: 'D1', at: { x: 99, y: 0 } });
    layout.lanes.push({ lane: 1, at: { x: 1, y: 1 }, queue: [{ x: 2, y: 2 }] });
    f.discounts.push({ item_id: 'NOPE', week: '2026-48', rate: 1.5 });
    f.customers.push({ ...f.customers[0]! });
    f.catalog.push({ ...f.catalog[0]!, price_cents: 1.5 });
    const problems = checkFixtures(f);
    expect(problems).toEqual(expect.arrayContaining([
      'layout corner-shop: shelf S3 references item X999 missing from the catalog',
      'layout corner-shop: door D1 is listed twice',
      'layout corner-shop: door D1 at (99,0) is outside the 24x10 floor',
      'layout corner-shop: lane 1 is listed twice',
      'layout corner-shop: lane 1 queue cell (2,2) is not a walkable cell',
      'discounts: 2026-48 discount references item NOPE missing from the catalog',
      'discounts: item NOPE has week "2026-48" (an ISO week like 2026-W48)',
      'discounts: item NOPE week 2026-48 has rate 1.5 (0 <= rate < 1)',
      'customers: customer C0001 is listed twice',
      'catalog: item P001 is listed twice',
      'catalog: item P001 has price_cents 1.5 (a positive integer number of cents)',
    ]));
    for (const p of problems) expect(p).not.toContain('\n');
  });
});
