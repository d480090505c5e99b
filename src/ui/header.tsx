/** Top line: name, mode, simulated clock, warp, rate, PAUSED. */
import { Box, Text } from 'ink';
import type { HeaderState } from './dashboard-state.js';
import { clockParts, fit, oneLine } from './format.js';
import { useDashboard } from './store-context.js';

export interface HeaderProps { header: HeaderState; width: number; roomy?: boolean }

export function Header({ header, width, roomy = false }: HeaderProps) {
  const { date, time } = clockParts(header.simTimeMs);
  const warp = header.warp === 'max' ? 'warp max' : `warp x${formatWarp(header.warp)}`;
  const rate = `rate ${Math.round(header.ratePerMin)}/min`;
  const fixed = ['storesim', `${date} ${time}`, warp, rate];
  const sep = '  ';
  const used = fixed.join(sep).length + (header.paused ? sep.length + 'PAUSED'.length : 0) + sep.length;
  const modeText = roomy
    ? `bus ${oneLine(header.mode.bus)}  db ${oneLine(header.mode.db)}${header.runId ? `  run ${header.runId}` : ''}`
    : `${oneLine(header.mode.bus)}/${oneLine(header.mode.db)}`;
  const mode = fit(modeText, Math.max(0, width - used));
  return (
    <Box width={width} height={1} overflow="hidden" flexShrink={0}>
      <Text wrap="truncate-end">
        <Text bold color="cyan">storesim</Text>
        {sep}
        <Text bold>{date} {time}</Text>
        {sep}
        <Text color={header.warp === 'max' ? 'magenta' : undefined}>{warp}</Text>
        {sep}
        {rate}
        {header.paused && <>{sep}<Text inverse bold color="yellow">PAUSED</Text></>}
        {mode && <>{sep}<Text dimColor>{mode}</Text></>}
      </Text>
    </Box>
  );
}

function formatWarp(w: number): string {
  return Number.isInteger(w) ? String(w) : String(Number(w.toPrecision(3)));
}

export function ConnectedHeader({ width, roomy }: { width: number; roomy?: boolean }) {
  const header = useDashboard((s) => s.header);
  return <Header header={header} width={width} roomy={roomy} />;
}
