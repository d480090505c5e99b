import { describe, expect, it } from 'vitest';
import { coPartitionedAssignment } from './co-partitioned-assigner.js';

describe('coPartitionedAssignment', () => {
  it('gives partition p of every topic to one member, p round-robin over members sorted by id', () => {
    const plan = coPartitionedAssignment(['m-b', 'm-a', 'm-c'], { foot: 6, shelf: 6 });
    expect(Object.fromEntries(plan)).toEqual({
      'm-a': { foot: [0, 3], shelf: [0, 3] },
      'm-b': { foot: [1, 4], shelf: [1, 4] },
      'm-c': { foot: [2, 5], shelf: [2, 5] },
    });
  });

  it('leaves extra members empty and copes with unequal partition counts', () => {
    const plan = coPartitionedAssignment(['x', 'y', 'z'], { a: 2, b: 1 });
    expect(Object.fromEntries(plan)).toEqual({ x: { a: [0], b: [0] }, y: { a: [1] }, z: {} });
    expect(coPartitionedAssignment([], { a: 2 }).size).toBe(0);
  });
});
