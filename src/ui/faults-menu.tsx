/** `f`: every data fault and infrastructure slot with the key that toggles it. */
import { Text } from 'ink';
import type { FaultStatus } from './dashboard-state.js';
import { cell, duration, rate } from './format.js';
import { FAULT_KEYS, type FaultKey } from './keymap.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';
import { useNow } from './use-now.js';

export interface FaultsMenuProps { faults: readonly FaultStatus[]; nowMs: number; width: number; height: number }

export function FaultsMenu({ faults, nowMs, width, height }: FaultsMenuProps) {
  const byName = new Map(faults.map((f) => [f.name, f]));
  const entry = (k: FaultKey) => {
    const f = byName.get(k.fault);
    const on = f?.active ?? false;
    const rateText = k.kind === 'data' && f?.rate !== undefined && on ? rate(f.rate) : '';
    const since = on && f?.sinceMs !== undefined ? duration(nowMs - f.sinceMs) : '';
    return (
      <Line key={k.key}>
        <Text bold color="cyan">{k.key}</Text>{' '}
        <Text color={on ? (k.kind === 'infra' ? 'red' : 'yellow') : undefined} bold={on}>{on ? '●' : '○'} {cell(k.fault, 16)}</Text>{' '}
        <Text dimColor={!on}>{on ? 'on ' : 'off'}</Text> {cell(rateText, 5)} {since}
      </Line>
    );
  };
  return (
    <Panel title="Faults" note="esc/f closes" color="yellow" width={width} height={height}>
      <Line dim>data: extra bad messages</Line>
      {FAULT_KEYS.filter((k) => k.kind === 'data').map(entry)}
      <Line dim>infrastructure</Line>
      {FAULT_KEYS.filter((k) => k.kind === 'infra').map(entry)}
    </Panel>
  );
}

export function ConnectedFaultsMenu({ width, height }: { width: number; height: number }) {
  const faults = useDashboard((s) => s.faults);
  const now = useNow(faults.some((f) => f.active && f.sinceMs !== undefined));
  return <FaultsMenu faults={faults} nowMs={now} width={width} height={height} />;
}
