/** Active faults and for how long (wall clock, mm:ss). */
import { Text } from 'ink';
import type { FaultStatus } from './dashboard-state.js';
import { cell, duration, fit, oneLine, rate } from './format.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';
import { useNow } from './use-now.js';

export interface FaultsProps { faults: readonly FaultStatus[]; nowMs: number; width: number; height: number }

export function Faults({ faults, nowMs, width, height }: FaultsProps) {
  const active = faults.filter((f) => f.active);
  const slots = Math.max(0, height - 1);
  const shown = active.length > slots ? active.slice(0, Math.max(0, slots - 1)) : active;
  const hidden = active.length - shown.length;
  return (
    <Panel title="Faults" note={active.length ? `${active.length} active` : undefined} color={active.length ? 'yellow' : 'cyan'} width={width} height={height}>
      {active.length === 0 && <Line dim>none active · f to inject</Line>}
      {shown.map((f) => {
        const what = f.kind === 'data' && f.rate !== undefined ? rate(f.rate) : '';
        const since = f.sinceMs !== undefined ? duration(nowMs - f.sinceMs) : '';
        return (
          <Line key={f.name}>
            <Text color={f.kind === 'infra' ? 'red' : 'yellow'}>● {cell(f.name, 16)}</Text> {cell(what, 5)} {cell(since, 5)}
            {f.detail ? ` ${fit(oneLine(f.detail), Math.max(0, width - 31))}` : ''}
          </Line>
        );
      })}
      {hidden > 0 && <Line dim>+{hidden} more</Line>}
    </Panel>
  );
}

export function ConnectedFaults({ width, height }: { width: number; height: number }) {
  const faults = useDashboard((s) => s.faults);
  const now = useNow(faults.some((f) => f.active && f.sinceMs !== undefined));
  return <Faults faults={faults} nowMs={now} width={width} height={height} />;
}
