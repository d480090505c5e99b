import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render } from 'ink-testing-library';
import { Kpis } from './kpis.js';
import { demoState, SAMPLE_LAYOUT } from './demo-state.js';
import { plain } from './test-kit.js';

afterEach(() => cleanup());

const kpis = demoState(SAMPLE_LAYOUT, { nowMs: 0 }).kpis;

describe('Kpis', () => {
  for (const width of [80, 40]) {
    it(`shows the last 10 s of latency, or that nothing was committed in them (width ${width})`, () => {
      const { lastFrame, rerender } = render(<Kpis kpis={kpis} width={width} height={5} />);
      expect(plain(lastFrame() ?? '')).toMatch(/latency 10 s p50 18ms\s+p99 142ms/);
      // A broker or database outage: no commit in the window is not a latency of 0 ms.
      rerender(<Kpis kpis={{ ...kpis, latencyP50Ms: null, latencyP99Ms: null }} width={width} height={5} />);
      expect(plain(lastFrame() ?? '')).toContain('latency 10 s nothing committed');
      expect(plain(lastFrame() ?? '')).not.toMatch(/\d+ms/);
      rerender(<Kpis kpis={{ ...kpis, latencyP50Ms: null, latencyP99Ms: null, sinkHere: false }} width={width} height={5} />);
      expect(plain(lastFrame() ?? '')).toContain('latency sink in another process');
    });
  }

  it('says when its figures are the database\'s (no processor in this process)', () => {
    const { lastFrame, rerender } = render(<Kpis kpis={kpis} width={80} height={5} />);
    expect(plain(lastFrame() ?? '')).not.toContain('from the database');
    rerender(<Kpis kpis={{ ...kpis, fromDatabase: true }} width={80} height={5} />);
    expect(plain(lastFrame() ?? '')).toContain('KPIs · from the database');
  });
});
