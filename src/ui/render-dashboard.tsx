/** Mounts the dashboard on a terminal. The caller owns the store and decides what commands do. */
import { render } from 'ink';
import type { DashboardStore } from './dashboard-state.js';
import { Dashboard } from './dashboard.js';
import type { UiCommand } from './keymap.js';
import { DashboardStoreContext } from './store-context.js';

export type { UiCommand } from './keymap.js';

export interface RenderDashboardOptions {
  /** The state to show; the caller publishes into it a few times a second. */
  store: DashboardStore;
  /** Called for every key that asks for something (rate, warp, pause, a fault, quit). */
  onCommand: (cmd: UiCommand) => void;
  /** Where to draw (default process.stdout). */
  stdout?: NodeJS.WriteStream;
  /** Where keys come from (default process.stdin); keys are off when it is not a terminal. */
  stdin?: NodeJS.ReadStream;
  /** Frames written per second at most (default 10). */
  maxFps?: number;
}

export interface DashboardHandle {
  unmount(): void;
  waitUntilExit(): Promise<void>;
}

export function renderDashboard({ store, onCommand, stdout = process.stdout, stdin = process.stdin, maxFps = 10 }: RenderDashboardOptions): DashboardHandle {
  const instance = render(
    <DashboardStoreContext.Provider value={store}>
      <Dashboard onCommand={onCommand} keys={stdin.isTTY === true} />
    </DashboardStoreContext.Provider>,
    // Ctrl-C is a command like q (the root handles a second one); nothing else may print while Ink draws.
    { stdout, stdin, maxFps, exitOnCtrlC: false, patchConsole: false },
  );
  return {
    unmount: () => instance.unmount(),
    waitUntilExit: async () => {
      await instance.waitUntilExit();
    },
  };
}
