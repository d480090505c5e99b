import { describe, expect, it } from 'vitest';
import { topicGroupLag, type TopicsView } from '../../kafka/admin.js';
import { fit, renderTopicsTable } from './kafka.js';

const ends = [{ partition: 0, low: 0, high: 10 }, { partition: 1, low: 4, high: 7 }, { partition: 2, low: 0, high: 0 }];

describe('topicGroupLag', () => {
  it('sums high − committed over the partitions with a commit; the others have no lag', () => {
    const g = topicGroupLag({ group: 'g', state: 'Empty', members: 0 }, ends, new Map([[0, 4], [1, 7]]));
    expect(g.lag).toBe(6);
    expect(g.partitions).toEqual([
      { partition: 0, committed: 4, lag: 6 }, { partition: 1, committed: 7, lag: 0 }, { partition: 2, committed: null, lag: null },
    ]);
  });

  it('no commit at all: lag null, not 0', () => {
    expect(topicGroupLag({ group: 'g', state: 'Stable', members: 1 }, ends, undefined).lag).toBeNull();
  });

  it('a commit past the end (topic truncated) counts as no lag, never negative', () => {
    expect(topicGroupLag({ group: 'g', state: 'Empty', members: 0 }, ends, new Map([[2, 5]])).lag).toBe(0);
  });
});

describe('fit', () => {
  it('keeps both ends of a name and marks the cut', () => {
    expect(fit('it-kadmin-1795452348702-30b0b1-storesim-processor-state', 20)).toBe('it-kadmin-…sor-state');
    expect(fit('it-kadmin-1795452348702-30b0b1-storesim-processor-state', 20)).toHaveLength(20);
    expect(fit('short', 20)).toBe('short');
  });
});

describe('renderTopicsTable', () => {
  const long = 'it-kadmin-1795452348702-30b0b1-averyveryveryverylongteamname-';
  const view: TopicsView = {
    topics: [
      {
        topic: `${long}storesim-processor-state`, partitions: ends, endOffset: 1_234_567_890, messages: 0,
        groups: [topicGroupLag({ group: `${long}storesim-processor`, state: 'Stable', members: 2 }, ends, new Map([[0, 1]]))],
      },
      { topic: `${long}visits`, partitions: ends, endOffset: 17, messages: 0, groups: [] },
    ],
    groups: [],
  };

  it('fits 80 columns with names far too long, without a prefix to strip', () => {
    const out = renderTopicsTable(view, { brokers: '127.0.0.1:9092', prefix: null });
    const lines = out.trimEnd().split('\n');
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(lines[0]).toBe('2 topics on kafka 127.0.0.1:9092');
    expect(lines[2]).toMatch(/^it-kadmin-.*….*-state\s+3\s+1,234,567,890$/);
    expect(lines[3]).toMatch(/^ {2}it-kadmin-.*….*processor\s+9$/);
    expect(lines[4]).toMatch(/^it-kadmin-.*….*visits\s+3\s+17$/);
  });

  it('with a prefix: names without it, numbers right-aligned in one column', () => {
    const lines = renderTopicsTable(view, { brokers: '127.0.0.1:9092', prefix: long }).trimEnd().split('\n');
    // a title too long loses the middle of the prefix, never the broker
    expect(lines[0]).toMatch(/^2 topics with prefix it-kadmin-.*….*teamname- on kafka 127\.0\.0\.1:9092$/);
    expect(lines[0]).toHaveLength(80);
    expect(lines.slice(1)).toEqual([
      'topic / consumer group    partitions     end offset  lag',
      'storesim-processor-state           3  1,234,567,890',
      '  storesim-processor                                   9',
      'visits                             3             17',
    ]);
  });
});
