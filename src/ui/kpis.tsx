/** Business and pipeline figures: revenue, transactions, conversion, basket, end-to-end latency. */
import { Text } from 'ink';
import type { Kpis as KpisState } from './dashboard-state.js';
import { latency, money, percent } from './format.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';

export interface KpisProps { kpis: KpisState; width: number; height: number }

function Fig({ label, value }: { label: string; value: string }) {
  return <><Text dimColor>{label} </Text><Text bold>{value}</Text></>;
}

export function Kpis({ kpis, width, height }: KpisProps) {
  const basket = `${money(kpis.avgBasketCents)} · ${kpis.avgBasketItems.toFixed(1)} items`;
  const p = (label: string, v: number) => <Fig label={label} value={latency(v)} />;
  if (width >= 70) {
    return (
      <Panel title="KPIs" width={width} height={height}>
        <Line>
          <Fig label="revenue" value={money(kpis.revenueCents)} />{'   '}
          <Fig label="transactions" value={kpis.transactions.toLocaleString('en-US')} />{'   '}
          <Fig label="conversion" value={percent(kpis.conversion)} />
        </Line>
        <Line>
          <Fig label="avg basket" value={basket} />{'   '}
          <Text dimColor>latency 10 s </Text>{p('p50', kpis.latencyP50Ms)}{'  '}{p('p99', kpis.latencyP99Ms)}
        </Line>
      </Panel>
    );
  }
  return (
    <Panel title="KPIs" width={width} height={height}>
      <Line>
        <Fig label="rev" value={money(kpis.revenueCents)} />{'  '}
        <Fig label="tx" value={kpis.transactions.toLocaleString('en-US')} />{'  '}
        <Fig label="conv" value={percent(kpis.conversion)} />
      </Line>
      <Line>
        <Fig label="basket" value={basket} />
      </Line>
      <Line>
        <Text dimColor>latency 10 s </Text>{p('p50', kpis.latencyP50Ms)}{'  '}{p('p99', kpis.latencyP99Ms)}
      </Line>
    </Panel>
  );
}

export function ConnectedKpis(props: Omit<KpisProps, 'kpis'>) {
  const kpis = useDashboard((s) => s.kpis);
  return <Kpis kpis={kpis} {...props} />;
}
