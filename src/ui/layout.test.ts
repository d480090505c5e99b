import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { computeLayout, type LayoutInput } from './layout.js';

const corner: Omit<LayoutInput, 'columns' | 'rows'> = { planWidth: 38, planHeight: 11, gutter: 5, topicCount: 6, activeFaults: 2 };

function checkFits(input: LayoutInput): void {
  const L = computeLayout(input);
  expect(L.height).toBeLessThan(input.rows);
  expect(L.width).toBeLessThanOrEqual(input.columns);
  if (L.tooSmall) return;
  expect(L.left.width + 1 + L.right.width).toBeLessThanOrEqual(input.columns);
  expect(L.floor.height + L.carts.height + (L.faults.column === 'left' ? L.faults.height : 0)).toBeLessThanOrEqual(L.left.height);
  const rightCol = L.kpis.height + L.topics.height + (L.faults.column === 'right' ? L.faults.height : 0) + L.rejected.height;
  expect(rightCol).toBeLessThanOrEqual(L.right.height);
  expect(L.left.height + 2).toBeLessThanOrEqual(L.height);
  for (const box of [L.floor, L.carts, L.kpis, L.topics, L.faults, L.rejected]) {
    expect(box.height).toBeGreaterThanOrEqual(0);
  }
}

describe('computeLayout', () => {
  it('fits the corner shop whole at 80x24, in a frame one row shorter than the terminal', () => {
    const L = computeLayout({ ...corner, columns: 80, rows: 24 });
    expect(L.height).toBe(23);
    expect(L.roomy).toBe(false);
    expect(L.floor.height).toBe(1 + 11);
    expect(L.floor.width).toBeGreaterThanOrEqual(38 + 5);
    expect(L.rejected.height).toBeGreaterThanOrEqual(4);
    checkFits({ ...corner, columns: 80, rows: 24 });
  });

  it('uses the room at 160x48: doubled floor, roomy panels', () => {
    const L = computeLayout({ ...corner, columns: 160, rows: 48 });
    expect(L.roomy).toBe(true);
    expect(L.floor.scale).toBe(2);
    expect(L.rejected.height).toBeGreaterThan(20);
    checkFits({ ...corner, columns: 160, rows: 48 });
  });

  it('never lays out more than the terminal holds', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 120 }),
      fc.integer({ min: 5, max: 120 }), fc.integer({ min: 3, max: 60 }), fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 13 }),
      (columns, rows, planWidth, planHeight, topicCount, activeFaults) => {
        checkFits({ columns, rows, planWidth, planHeight, gutter: 5, topicCount, activeFaults });
      },
    ));
  });
});
