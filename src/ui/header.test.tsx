import { afterEach, describe, expect, it } from 'vitest';
import { render, cleanup } from 'ink-testing-library';
import { Header } from './header.js';
import { demoState, SAMPLE_LAYOUT } from './demo-state.js';
import { normalise, plain } from './test-kit.js';

afterEach(() => cleanup());

const header = demoState(SAMPLE_LAYOUT, { nowMs: 0 }).header;

describe('Header', () => {
  it('shows the name, simulated clock, warp and rate', () => {
    const { lastFrame } = render(<Header header={header} width={80} />);
    expect(plain(lastFrame() ?? '')).toContain('storesim  2026-11-23 08:12:34  warp x10  rate 12/min');
    expect(normalise(lastFrame() ?? '')).toContain('####-##-## ##:##:##');
  });

  it('shows PAUSED while paused, and warp max', () => {
    const { lastFrame, rerender } = render(<Header header={header} width={80} />);
    expect(plain(lastFrame() ?? '')).not.toContain('PAUSED');
    rerender(<Header header={{ ...header, paused: true, warp: 'max' }} width={80} />);
    expect(plain(lastFrame() ?? '')).toContain('warp max  rate 12/min  PAUSED');
  });

  it('never runs past its width, however long the mode', () => {
    const { lastFrame } = render(<Header header={{ ...header, paused: true, mode: { bus: 'kafka ' + 'broker.example.com:9092,'.repeat(5), db: 'postgres://u@h/db' } }} width={80} />);
    for (const line of plain(lastFrame() ?? '').split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});
