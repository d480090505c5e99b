/** The largest open carts: who, how many items, how much, for how long. */
import type { SnapshotCart } from '../engine/types.js';
import { cell, cellRight, duration, moneyShort, shortId } from './format.js';
import { Line, Panel } from './panel.js';
import { useDashboard } from './store-context.js';

export interface CartsProps { carts: readonly SnapshotCart[]; width: number; height: number }

export function Carts({ carts, width, height }: CartsProps) {
  const idWidth = width >= 50 ? 12 : 8;
  const slots = Math.max(0, height - 2);
  const shown = carts.slice(0, slots);
  const row = (id: string, items: string, value: string, age: string): string =>
    `${cell(id, idWidth)} ${cellRight(items, 5)} ${cellRight(value, 10)} ${cellRight(age, 7)}`;
  return (
    <Panel title="Carts" note={carts.length > shown.length ? `top ${shown.length} of ${carts.length}` : `${carts.length}`} width={width} height={height}>
      <Line dim>{row('customer', 'items', 'value', 'age')}</Line>
      {shown.length === 0 && <Line dim>no open carts</Line>}
      {shown.map((c, i) => (
        <Line key={`${i}-${c.customer_id}`}>{row(shortId(c.customer_id, idWidth), String(c.items), moneyShort(c.value_cents), duration(c.age_ms))}</Line>
      ))}
    </Panel>
  );
}

export function ConnectedCarts({ width, height }: { width: number; height: number }) {
  const carts = useDashboard((s) => s.carts);
  return <Carts carts={carts} width={width} height={height} />;
}
