/**
 * A tiny, self-contained fixture set for engine tests (the real ones live in fixtures/ and are
 * loaded by src/cli): 20 products, a few discounts, 50 customers and two small layouts,
 * `corner-shop` (2 lanes) and `market` (4 lanes).
 */
import type { Fixtures, Layout, LaneFixture, Shelf } from './types.js';

const CATEGORIES = ['produce', 'dairy', 'bakery', 'drinks', 'snacks'];

function layout(name: string, title: string, laneCount: number): Layout {
  const width = 24;
  const height = 10;
  const rows: string[][] = [];
  for (let y = 0; y < height; y++) {
    rows.push(Array.from({ length: width }, (_, x) => (y === 0 || y === height - 1 || x === 0 || x === width - 1 ? '#' : '.')));
  }
  const shelves: Shelf[] = [];
  // Four shelf runs on rows 2 and 4, five items each.
  for (let i = 0; i < 4; i++) {
    const y = i < 2 ? 2 : 4;
    const x0 = i % 2 === 0 ? 2 : 12;
    const cells = Array.from({ length: 8 }, (_, k) => ({ x: x0 + k, y }));
    for (const c of cells) rows[c.y]![c.x] = 'S';
    shelves.push({
      shelf_id: `S${i + 1}`,
      access: { x: x0 + 3, y: y + 1 },
      cells,
      item_ids: Array.from({ length: 5 }, (_, k) => `P${String(i * 5 + k + 1).padStart(3, '0')}`),
    });
  }
  const lanes: LaneFixture[] = [];
  for (let i = 0; i < laneCount; i++) {
    const x = 2 + i * 5;
    rows[7]![x] = 'L';
    const queue = [1, 2, 3].map((d) => ({ x: x + d, y: 7 }));
    for (const q of queue) rows[q.y]![q.x] = 'Q';
    lanes.push({ lane: i + 1, at: { x, y: 7 }, queue });
  }
  rows[9]![20] = 'D';
  rows[9]![21] = 'D';
  return {
    name, store_id: `store-${name}`, title, width, height,
    plan: rows.map((r) => r.join('')),
    doors: [{ door_id: 'D1', at: { x: 20, y: 9 } }, { door_id: 'D2', at: { x: 21, y: 9 } }],
    shelves,
    lanes,
  };
}

export function testFixtures(): Fixtures {
  const catalog = Array.from({ length: 20 }, (_, i) => ({
    item_id: `P${String(i + 1).padStart(3, '0')}`,
    name: `Product ${i + 1}`,
    category: CATEGORIES[i % CATEGORIES.length]!,
    price_cents: 99 + ((i * 137) % 900),
  }));
  const discounts = [
    { item_id: 'P001', week: '2026-W48', rate: 0.1 },
    { item_id: 'P007', week: '2026-W48', rate: 0.25 },
    { item_id: 'P013', week: '2026-W49', rate: 0.05 },
  ];
  const customers = Array.from({ length: 50 }, (_, i) => ({
    customer_id: `C${String(i + 1).padStart(4, '0')}`,
    name: `Customer ${i + 1}`,
    segment: i % 3 === 0 ? 'regular' : 'occasional',
    loyalty: i % 2 === 0,
  }));
  return {
    catalog,
    discounts,
    customers,
    layouts: { 'corner-shop': layout('corner-shop', 'Test Corner Shop', 2), market: layout('market', 'Test Market', 4) },
    hash: 'test-fixtures',
  };
}
