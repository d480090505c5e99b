/** The store floor: the layout's plan with customers drawn by state and queue lengths by the lanes. */
import { Text } from 'ink';
import type { FloorState } from './dashboard-state.js';
import { floorRows } from './floor-grid.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';

export interface FloorProps {
  floor: FloorState;
  width: number;
  height: number;
  scale?: 1 | 2;
  legend?: boolean;
}

export function Floor({ floor, width, height, scale = 1, legend = false }: FloorProps) {
  const planRows = Math.max(0, height - 1 - (legend ? 1 : 0));
  const rows = floorRows(floor.layout, floor.customers, floor.lanes, { scale, width, height: planRows });
  const queueing = floor.lanes.reduce((n, l) => n + l.queue, 0);
  return (
    <Panel title={floor.layout.title || floor.layout.name} note={`${floor.customers.length} in store · ${queueing} queued`} width={width} height={height}>
      {rows.map((row, y) => (
        <Text key={y} wrap="truncate-end">
          {row.map((s, i) => (
            <Text key={i} color={s.color} bold={s.bold} dimColor={s.dim} inverse={s.inverse}>{s.text}</Text>
          ))}
        </Text>
      ))}
      {legend && (
        <Line>
          <Text color="white" bold>o</Text> walking <Text color="yellow" bold>@</Text> shelf{' '}
          <Text color="magenta" bold>q</Text> queue <Text color="green" bold>$</Text> paying{' '}
          <Text color="blue" bold>e</Text> door <Text bold>2-9</Text> crowd <Text color="cyan">1</Text> lane 1{' '}
          <Text color="cyan">1:</Text><Text color="magenta" bold>3</Text> 3 queued there
        </Line>
      )}
    </Panel>
  );
}

export function ConnectedFloor(props: Omit<FloorProps, 'floor'>) {
  const floor = useDashboard((s) => s.floor);
  return <Floor floor={floor} {...props} />;
}
