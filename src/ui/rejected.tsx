/** Dead letters: counts by code, then the latest ones (newest first), each cut to its line. */
import { Text } from 'ink';
import type { RejectedState } from './dashboard-state.js';
import { cell, compact, fit, oneLine, shortCode, shortTopic, splitTopic, timeOfDay } from './format.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';

export interface RejectedProps { rejected: RejectedState; width: number; height: number; roomy?: boolean }

export function Rejected({ rejected, width, height, roomy = false }: RejectedProps) {
  const total = Object.values(rejected.byCode).reduce((a, b) => a + b, 0);
  const codes = Object.entries(rejected.byCode).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const codeName = roomy ? (c: string) => c : shortCode;
  const counts = codes.map(([c, n]) => `${codeName(c)} ${compact(n)}`).join('  ');
  const topicW = roomy ? 13 : 5;
  const codeW = roomy ? 16 : 8;
  const reasonW = Math.max(0, width - 9 - topicW - 1 - codeW - 1);
  const slots = Math.max(0, height - 2);
  const latest = rejected.latest.slice(-slots).reverse();
  return (
    <Panel title="Rejected" note={compact(total)} color={total > 0 ? 'red' : 'cyan'} width={width} height={height}>
      <Line color={codes.length ? 'red' : undefined} dim={!codes.length}>{codes.length ? fit(counts, width) : 'no dead letters'}</Line>
      {latest.map((d, i) => (
        <Line key={`${d.at}-${i}`}>
          <Text dimColor>{cell(timeOfDay(d.at), 8)}</Text> {cell(roomy ? splitTopic(d.topic).name : shortTopic(d.topic), topicW)}{' '}
          <Text color="red">{cell(codeName(d.code), codeW)}</Text> {fit(oneLine(d.reason), reasonW)}
        </Line>
      ))}
    </Panel>
  );
}

export function ConnectedRejected(props: Omit<RejectedProps, 'rejected'>) {
  const rejected = useDashboard((s) => s.rejected);
  return <Rejected rejected={rejected} {...props} />;
}
