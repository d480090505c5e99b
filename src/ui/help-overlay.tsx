/** `?`: every key and what it does, how to read the floor, and what the Topics rates count. */
import { Text } from 'ink';
import { cell } from './format.js';
import { KEY_HELP } from './keymap.js';
import { Line, Panel } from './panel.js';

export interface HelpOverlayProps { width: number; height: number }

export function HelpOverlay({ width, height }: HelpOverlayProps) {
  return (
    <Panel title="Help" note="? or esc closes" color="magenta" width={width} height={height}>
      {KEY_HELP.map((k) => (
        <Line key={k.keys}>
          <Text bold color="cyan">{cell(k.keys, 7)}</Text> {k.does}
        </Line>
      ))}
      <Line dim> </Line>
      <Line>
        <Text color="white" bold>o</Text> walk <Text color="yellow" bold>@</Text> shelf <Text color="magenta" bold>q</Text> queue{' '}
        <Text color="green" bold>$</Text> pay <Text color="blue" bold>e</Text> door <Text bold>2-9</Text> crowd
      </Line>
      <Line>
        <Text color="cyan">1</Text> lane 1 <Text color="cyan">1:</Text><Text color="magenta" bold>3</Text> 3 queued at lane 1
      </Line>
      <Line dim>raw topic rates include markers</Line>
    </Panel>
  );
}
