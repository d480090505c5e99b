import { describe, expect, it } from 'vitest';
import { Topics } from './topics.js';
import { splitTopic, shortTopic } from './format.js';
import { renderAt, waitFor } from './test-kit.js';

const topics = ['foot_traffic', 'shelf_events', 'clean_events', 'pos_transactions', 'visits', 'rejected_events'].map((name, i) => ({
  topic: `demo-${name}`,
  ratePerSec: 100 + i,
  total: 1_000 * (i + 1),
  lag: [{ group: 'demo-storesim-processor', lag: 12_345 + i }],
  history: [1, 2, 3],
}));

describe('topics panel', () => {
  it('names topics without the run\'s prefix (shown once, in the title) and keeps the lag column in a narrow panel of a roomy screen', async () => {
    const v = renderAt(<Topics topics={topics} width={40} height={8} roomy />, 40, 8);
    await waitFor(() => v.frame().includes('Topics'));
    const frame = v.frame();
    expect(frame).toContain('Topics demo-*');
    expect(frame).not.toContain('demo-foot');
    for (const short of ['foot', 'shelf', 'clean', 'pos', 'visits', 'rejected']) expect(frame).toMatch(new RegExp(`\\n${short}\\s`));
    // The lag, compact, not cut off behind long names
    expect(frame).toMatch(/\nfoot\s+100\s+1\.0k\s+12k/);
  });

  it('shows the logical names and the lag by group when the panel is wide', async () => {
    const v = renderAt(<Topics topics={topics} width={90} height={8} roomy />, 90, 8);
    await waitFor(() => v.frame().includes('Topics'));
    expect(v.frame()).toContain('pos_transactions');
    expect(v.frame()).toContain('processor 12k');
  });

  it('says, in place of the column heads, how long the figures have gone unanswered', async () => {
    const wide = renderAt(<Topics topics={topics} width={90} height={8} roomy staleS={12} />, 90, 8);
    await waitFor(() => wide.frame().includes('Topics'));
    expect(wide.frame()).toContain('no answer from Kafka for 12 s: figures from before');
    expect(wide.frame()).not.toContain('lag by group');
    expect(wide.frame()).toContain('rejected_events'); // every topic still shown
    const narrow = renderAt(<Topics topics={topics} width={40} height={8} staleS={12} />, 40, 8);
    await waitFor(() => narrow.frame().includes('Topics'));
    expect(narrow.frame()).toContain('no answer for 12 s');
  });

  it('splits a prefix off the logical name', () => {
    expect(splitTopic('demo-foot_traffic')).toEqual({ prefix: 'demo-', name: 'foot_traffic' });
    expect(splitTopic('visits')).toEqual({ prefix: '', name: 'visits' });
    expect(shortTopic('x.y.rejected_events')).toBe('rejected');
  });
});
