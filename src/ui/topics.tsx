/** Per topic: messages per second, total, consumer lag per group, and a sparkline of recent rates. */
import { Text } from 'ink';
import type { TopicLag, TopicStats } from './dashboard-state.js';
import { cell, cellRight, compact, fit, shortTopic, sparkline, splitTopic } from './format.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';

export interface TopicsProps {
  topics: readonly TopicStats[];
  width: number;
  height: number;
  roomy?: boolean;
  /** Seconds since the offsets last answered, when their figures are stale (DashboardState.topicsStaleS). */
  staleS?: number | null;
}

/** `<prefix>storesim-processor` → `processor`. */
export function shortGroup(group: string): string {
  const i = group.lastIndexOf('-');
  return i >= 0 ? group.slice(i + 1) : group;
}

function lagColor(lag: number): string | undefined {
  if (lag >= 10_000) return 'red';
  if (lag >= 100) return 'yellow';
  return undefined;
}

/** Columns of the roomy table: name 18, rate 8, total 6, lag by group 26, spaces, and room for a sparkline. */
const ROOMY_MIN_WIDTH = 18 + 1 + 8 + 1 + 6 + 1 + 26 + 1 + 8;

export function Topics({ topics, width, height, roomy: roomyLayout = false, staleS = null }: TopicsProps) {
  // A roomy terminal may still give this panel a narrow column (the supermarket's floor is wide).
  const roomy = roomyLayout && width >= ROOMY_MIN_WIDTH;
  const prefix = topics.length > 0 ? splitTopic(topics[0]!.topic).prefix : '';
  const nameW = roomy ? 18 : 8;
  const rateW = roomy ? 8 : 6;
  const groupsW = roomy ? 26 : 5;
  const fixed = nameW + 1 + rateW + 1 + 6 + 1 + groupsW + 1;
  const sparkW = Math.max(0, Math.min(30, width - fixed));
  const lagText = (lag: readonly TopicLag[]): string =>
    roomy
      ? lag.map((g) => `${shortGroup(g.group)} ${compact(g.lag)}`).join(' ') || '-'
      : lag.length === 0 ? '-' : compact(Math.max(...lag.map((g) => g.lag)));
  return (
    <Panel title="Topics" note={[prefix ? `${prefix}*` : '', roomy ? '' : 'rate/s total lag'].filter(Boolean).join('  ') || undefined} width={width} height={height}>
      {staleS !== null ? (
        // In place of the column heads: the figures below are as old as this says.
        <Line color="yellow">{roomy ? `no answer from Kafka for ${staleS} s: figures from before` : `no answer for ${staleS} s`}</Line>
      ) : roomy && <Line dim>{`${cell('topic', nameW)} ${cellRight('rate/s', rateW)} ${cellRight('total', 6)} ${cell('lag by group', groupsW)} history`}</Line>}
      {topics.length === 0 && <Line dim>no topics yet</Line>}
      {topics.map((t) => {
        const maxLag = Math.max(0, ...t.lag.map((g) => g.lag));
        return (
          <Line key={t.topic}>
            {cell(roomy ? splitTopic(t.topic).name : shortTopic(t.topic), nameW)} {cellRight(compact(t.ratePerSec), rateW)} {cellRight(compact(t.total), 6)}{' '}
            <Text color={lagColor(maxLag)}>{cell(fit(lagText(t.lag), groupsW), groupsW)}</Text>{' '}
            <Text color="green">{sparkline(t.history, sparkW)}</Text>
          </Line>
        );
      })}
    </Panel>
  );
}

export function ConnectedTopics(props: Omit<TopicsProps, 'topics'>) {
  const topics = useDashboard((s) => s.topics);
  const staleS = useDashboard((s) => s.topicsStaleS);
  return <Topics topics={topics} staleS={staleS} {...props} />;
}
