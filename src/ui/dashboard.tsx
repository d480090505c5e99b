/**
 * The whole dashboard: measures the terminal, lays out the panels for its size, and maps keys to
 * commands. It reads the store and calls `onCommand`; it never changes engine state itself.
 */
import { useMemo } from 'react';
import { Box, Text } from 'ink';
import { ConnectedCarts } from './carts.js';
import { ConnectedFaults } from './faults.js';
import { ConnectedFaultsMenu } from './faults-menu.js';
import { ConnectedFloor } from './floor.js';
import { gutterWidth } from './floor-grid.js';
import { ConnectedFooter } from './footer.js';
import { ConnectedHeader } from './header.js';
import { HelpOverlay } from './help-overlay.js';
import { initialUiState, type UiCommand, type UiState } from './keymap.js';
import { ConnectedKpis } from './kpis.js';
import { computeLayout, MIN_COLUMNS, MIN_ROWS } from './layout.js';
import { ConnectedRejected } from './rejected.js';
import { useDashboard } from './store-context.js';
import { ConnectedTopics } from './topics.js';
import { useKeys, useUiState } from './use-keys.js';
import { useTerminalSize } from './use-terminal-size.js';

export interface DashboardProps {
  onCommand: (cmd: UiCommand) => void;
  /** UI state to start from (tests, demos); default: no overlay. */
  initialUi?: UiState;
  /** Listen for keys (default true). */
  keys?: boolean;
}

export function Dashboard({ onCommand, initialUi = initialUiState, keys = true }: DashboardProps) {
  const { ui, dispatch, current } = useUiState(initialUi);
  useKeys({ current, dispatch, onCommand, isActive: keys });
  const { columns, rows } = useTerminalSize();
  const planLayout = useDashboard((s) => s.floor.layout);
  const topicCount = useDashboard((s) => s.topics.length);
  const activeFaults = useDashboard((s) => s.faults.reduce((n, f) => n + (f.active ? 1 : 0), 0));
  const gutter = useMemo(() => gutterWidth(planLayout), [planLayout]);
  const L = computeLayout({ columns, rows, planWidth: planLayout.width, planHeight: planLayout.height, gutter, topicCount, activeFaults });

  if (L.tooSmall) {
    return (
      <Box width={L.width} height={Math.min(L.height, 2)} flexDirection="column" overflow="hidden">
        <Text wrap="truncate-end" color="yellow">storesim needs {MIN_COLUMNS}x{MIN_ROWS} or more (80x24 is best); this is {columns}x{rows}.</Text>
        <Text wrap="truncate-end" dimColor>q quits</Text>
      </Box>
    );
  }

  return (
    <Box flexDirection="column" width={L.width} height={L.height} overflow="hidden">
      <ConnectedHeader width={L.width} roomy={L.roomy} />
      <Box flexDirection="row" width={L.width} height={L.left.height} columnGap={1} overflow="hidden">
        <Box flexDirection="column" width={L.left.width} height={L.left.height} flexShrink={0} overflow="hidden">
          <ConnectedFloor width={L.floor.width} height={L.floor.height} scale={L.floor.scale} legend={L.floor.legend} />
          <ConnectedCarts width={L.carts.width} height={L.carts.height} />
          {L.faults.column === 'left' && <ConnectedFaults width={L.faults.width} height={L.faults.height} />}
        </Box>
        <Box flexDirection="column" width={L.right.width} height={L.right.height} flexShrink={0} overflow="hidden">
          {ui.overlay === 'help' && <HelpOverlay width={L.right.width} height={L.right.height} />}
          {ui.overlay === 'faults' && <ConnectedFaultsMenu width={L.right.width} height={L.right.height} />}
          {ui.overlay === 'none' && (
            <>
              <ConnectedKpis width={L.kpis.width} height={L.kpis.height} />
              <ConnectedTopics width={L.topics.width} height={L.topics.height} roomy={L.roomy} />
              {L.faults.column === 'right' && <ConnectedFaults width={L.faults.width} height={L.faults.height} />}
              <ConnectedRejected width={L.rejected.width} height={L.rejected.height} roomy={L.roomy} />
            </>
          )}
        </Box>
      </Box>
      <ConnectedFooter width={L.width} />
    </Box>
  );
}
