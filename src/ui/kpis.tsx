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
  // Without the whole run's processor in this process (--role), the run's committed rows in the database.
  const title = kpis.fromDatabase ? 'KPIs · from the database' : 'KPIs';
  // Nothing committed in the window reads as such, not as a latency of 0 ms.
  const lat = !kpis.sinkHere
    ? <><Text dimColor>latency </Text><Text>sink in another process</Text></>
    : kpis.latencyP50Ms === null || kpis.latencyP99Ms === null
      ? <><Text dimColor>latency 10 s </Text><Text>nothing committed</Text></>
      : <><Text dimColor>latency 10 s </Text><Fig label="p50" value={latency(kpis.latencyP50Ms)} />{'  '}<Fig label="p99" value={latency(kpis.latencyP99Ms)} /></>;
  if (width >= 70) {
    return (
      <Panel title={title} width={width} height={height}>
        <Line>
          <Fig label="revenue" value={money(kpis.revenueCents)} />{'   '}
          <Fig label="transactions" value={kpis.transactions.toLocaleString('en-US')} />{'   '}
          <Fig label="conversion" value={percent(kpis.conversion)} />
        </Line>
        <Line>
          <Fig label="avg basket" value={basket} />{'   '}
          {lat}
        </Line>
      </Panel>
    );
  }
  return (
    <Panel title={title} width={width} height={height}>
      <Line>
        <Fig label="rev" value={money(kpis.revenueCents)} />{'  '}
        <Fig label="tx" value={kpis.transactions.toLocaleString('en-US')} />{'  '}
        <Fig label="conv" value={percent(kpis.conversion)} />
      </Line>
      <Line>
        <Fig label="basket" value={basket} />
      </Line>
      <Line>
        {lat}
      </Line>
    </Panel>
  );
}

export function ConnectedKpis(props: Omit<KpisProps, 'kpis'>) {
  const kpis = useDashboard((s) => s.kpis);
  return <Kpis kpis={kpis} {...props} />;
}
