import { describe, expect, it } from 'vitest';
import { floorRows, gutterRows, rowsText } from './floor-grid.js';
import { SAMPLE_LAYOUT } from './demo-state.js';
import type { SnapshotCustomer } from '../engine/types.js';

const c = (x: number, y: number, state: SnapshotCustomer['state'], id = `${x},${y},${state}`): SnapshotCustomer => ({ customer_id: id, x, y, state });
const lanes = [{ lane: 1, queue: 2, serving: true }, { lane: 2, queue: 0, serving: false }];

describe('floorRows', () => {
  it('draws walls with line characters, shelves, the door and lanes', () => {
    const text = rowsText(floorRows(SAMPLE_LAYOUT, [], lanes, { scale: 1, width: 40, height: 20 }));
    expect(text).toHaveLength(SAMPLE_LAYOUT.height);
    expect(text[0]?.startsWith('┌──')).toBe(true);
    expect(text[1]).toContain('▓▓▓▓▓▓');
    expect(text[7]).toContain('▒');
    expect(text[5]?.slice(0, 7)).toBe('│ 1····');
  });

  it('draws customers by state, and a digit where several stand', () => {
    const customers = [c(1, 2, 'walking'), c(3, 2, 'browsing'), c(4, 5, 'queueing'), c(3, 5, 'paying'), c(18, 6, 'entering'), c(8, 4, 'walking', 'a'), c(8, 4, 'browsing', 'b'), c(8, 4, 'walking', 'c')];
    const text = rowsText(floorRows(SAMPLE_LAYOUT, customers, lanes, { scale: 1, width: 40, height: 20 }));
    expect(text[2]?.slice(0, 5)).toBe('│o @ ');
    expect(text[5]?.slice(0, 6)).toBe('│ 1$q·');
    expect(text[6]?.[18]).toBe('e');
    expect(text[4]?.[8]).toBe('3');
  });

  it('puts each lane\'s queue length in the gutter, one lane a row', () => {
    expect([...gutterRows(SAMPLE_LAYOUT).entries()]).toEqual([[5, 1], [6, 2]]);
    const text = rowsText(floorRows(SAMPLE_LAYOUT, [], lanes, { scale: 1, width: 40, height: 20 }));
    expect(text[5]?.slice(24)).toBe(' 1:2 ');
    expect(text[6]?.slice(24)).toBe(' 2:0 ');
  });

  it('doubles cells horizontally at scale 2 and crops to the room given', () => {
    const wide = rowsText(floorRows(SAMPLE_LAYOUT, [], lanes, { scale: 2, width: 60, height: 20 }));
    expect(wide[0]?.length).toBe(48);
    const cropped = rowsText(floorRows(SAMPLE_LAYOUT, [], lanes, { scale: 1, width: 10, height: 3 }));
    expect(cropped).toHaveLength(3);
    for (const row of cropped) expect([...row].length).toBeLessThanOrEqual(10);
  });
});
