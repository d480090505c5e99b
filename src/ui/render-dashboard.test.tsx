import { describe, expect, it, vi } from 'vitest';
import { renderDashboard } from './render-dashboard.js';
import { createDashboardStore } from './dashboard-state.js';
import { demoState, SAMPLE_LAYOUT } from './demo-state.js';
import { FakeStdin, FakeStdout, plain, waitFor } from './test-kit.js';

describe('renderDashboard', () => {
  it('draws on the given stdout, sends keys as commands, and resolves waitUntilExit on unmount', async () => {
    const stdout = new FakeStdout(80, 24);
    const stdin = new FakeStdin();
    const onCommand = vi.fn();
    const handle = renderDashboard({
      store: createDashboardStore(demoState(SAMPLE_LAYOUT, { nowMs: 0 })),
      onCommand,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
    });
    const exited = handle.waitUntilExit();
    // Ctrl-C is a command, not Ink's own exit.
    stdin.write('\u0003');
    await waitFor(() => onCommand.mock.calls.length === 1);
    expect(onCommand).toHaveBeenCalledWith({ type: 'quit' });
    handle.unmount();
    await exited;
    expect(plain(stdout.frames.join(''))).toContain('storesim');
  });
});
