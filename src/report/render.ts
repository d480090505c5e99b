/**
 * Renders a Report as aligned tables and horizontal bar charts that fit 80 columns (colour only when
 * asked: the command passes stdout-is-a-terminal and no NO_COLOR), as JSON, or as CSV rows
 * `section,key,metric,value`.
 */
import type { Report } from './queries.js';

export type ReportFormat = 'table' | 'json' | 'csv';
export const REPORT_FORMATS: readonly ReportFormat[] = ['table', 'json', 'csv'];

export const WIDTH = 80;

/** 123456 → "1,234.56". */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const whole = Math.floor(abs / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${whole}.${String(abs % 100).padStart(2, '0')}`;
}

export function count(n: number): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const pct = (r: number): string => `${(r * 100).toFixed(1)} %`;
const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

interface Paint { bold(s: string): string; dim(s: string): string; bar(s: string): string }

function paint(color: boolean): Paint {
  const wrap = (code: string) => (s: string) => (color ? `\u001b[${code}m${s}\u001b[0m` : s);
  return { bold: wrap('1'), dim: wrap('2'), bar: wrap('36') };
}

function truncate(s: string, width: number): string {
  return s.length <= width ? s : `${s.slice(0, Math.max(0, width - 1))}…`;
}

/** Columns aligned by their widest cell; numbers right-aligned. Cells are plain text. */
export function table(headers: string[], rows: string[][], rightAligned: boolean[], p: Paint): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const cell = (s: string, i: number) => (rightAligned[i] ? s.padStart(widths[i]!) : s.padEnd(widths[i]!));
  return [p.dim(headers.map(cell).join('  ').trimEnd()), ...rows.map((r) => r.map(cell).join('  ').trimEnd())];
}

/** One bar per row: label, a bar scaled to the largest value, and the value's text; fits `width`. */
export function bars(rows: { label: string; value: number; text: string }[], p: Paint, width = WIDTH): string[] {
  if (rows.length === 0) return [p.dim('  (none)')];
  const labelW = Math.min(22, Math.max(...rows.map((r) => r.label.length)));
  const textW = Math.max(...rows.map((r) => r.text.length));
  const barW = Math.max(10, width - 2 - labelW - 1 - 1 - textW);
  const max = Math.max(...rows.map((r) => r.value));
  return rows.map((r) => {
    const n = max <= 0 ? 0 : Math.round((r.value / max) * barW);
    const bar = '█'.repeat(n) + ' '.repeat(barW - n);
    return `  ${truncate(r.label, labelW).padEnd(labelW)} ${p.bar(bar)} ${r.text.padStart(textW)}`;
  });
}

export function renderTable(r: Report, opts: { color: boolean; title: string }): string {
  const p = paint(opts.color);
  const out: string[] = [];
  const section = (name: string) => out.push('', p.bold(name));
  const [head = '', ...rest] = opts.title.split('\n');
  out.push(p.bold(truncate(head, WIDTH)), ...rest.map((l) => p.dim(truncate(l, WIDTH))));

  section('Totals');
  const kv: [string, string][] = [
    ['revenue', money(r.revenue_cents)],
    ['transactions', count(r.transactions)],
    ['visits', count(r.visits)],
    ['conversion', `${pct(r.conversion)} (${count(r.purchased)} of ${count(r.visits)} visits paid)`],
    ['average basket', `${r.average_basket.items.toFixed(2)} items, ${money(r.average_basket.value_cents)}`],
    ['units sold', count(r.units)],
    ['abandoned carts', `${count(r.abandoned_carts.count)}, worth ${money(r.abandoned_carts.value_cents)} at list price`],
    ['left empty', count(r.left_empty)],
    ['open at end', count(r.open_at_end)],
    ['events accepted', count(r.accepted)],
    ['events rejected', count(r.rejected)],
  ];
  const keyW = Math.max(...kv.map(([k]) => k.length));
  for (const [k, v] of kv) out.push(`  ${k.padEnd(keyW)}  ${truncate(v, WIDTH - keyW - 4)}`);

  section('Revenue by category');
  out.push(...bars(r.revenue_by_category.map((c) => ({ label: c.category, value: c.revenue_cents, text: money(c.revenue_cents) })), p));

  section('Top 10 products by revenue');
  out.push(...table(['#', 'item', 'name', 'units', 'revenue'],
    r.top_products.map((x, i) => [String(i + 1), truncate(x.item_id, 14), truncate(x.name, 30), count(x.units), money(x.revenue_cents)]),
    [true, false, false, true, true], p).map((l) => `  ${l}`));

  section('Payment methods');
  const tx = r.payment_mix.reduce((s, x) => s + x.transactions, 0);
  out.push(...bars(r.payment_mix.map((x) => ({
    label: x.payment_method, value: x.transactions,
    text: `${count(x.transactions)} (${tx === 0 ? '0.0 %' : pct(x.transactions / tx)})  ${money(x.revenue_cents)}`,
  })), p));

  section('Traffic per simulated hour (visits entering)');
  out.push(...bars(r.hourly.map((h) => ({ label: `${String(h.hour).padStart(2, '0')}:00`, value: h.visits, text: count(h.visits) })), p));
  section('Revenue per simulated hour');
  out.push(...bars(r.hourly.map((h) => ({ label: `${String(h.hour).padStart(2, '0')}:00`, value: h.revenue_cents, text: money(h.revenue_cents) })), p));

  section('Mean queue wait per lane (served customers)');
  out.push(...bars(r.queue_wait_by_lane.map((l) => ({
    label: `lane ${l.lane}`, value: l.mean_wait_ms, text: `${seconds(l.mean_wait_ms)} (${count(l.served)} served)`,
  })), p));

  section('Rejected events by code');
  out.push(...bars(Object.entries(r.rejected_by_code).map(([code, n]) => ({ label: code, value: n, text: count(n) })), p));
  return out.join('\n') + '\n';
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function renderCsv(r: Report): string {
  const rows: (string | number)[][] = [['section', 'key', 'metric', 'value']];
  const scalar: [string, number][] = [
    ['revenue_cents', r.revenue_cents], ['transactions', r.transactions], ['visits', r.visits], ['purchased', r.purchased],
    ['conversion', r.conversion], ['abandoned', r.abandoned], ['left_empty', r.left_empty], ['open_at_end', r.open_at_end],
    ['units', r.units], ['average_basket_items', r.average_basket.items], ['average_basket_value_cents', r.average_basket.value_cents],
    ['abandoned_carts', r.abandoned_carts.count], ['abandoned_carts_value_cents', r.abandoned_carts.value_cents],
    ['accepted', r.accepted], ['rejected', r.rejected],
  ];
  for (const [k, v] of scalar) rows.push(['totals', '', k, v]);
  for (const c of r.revenue_by_category) rows.push(['revenue_by_category', c.category, 'revenue_cents', c.revenue_cents], ['revenue_by_category', c.category, 'units', c.units]);
  for (const x of r.top_products) rows.push(['top_products', x.item_id, 'revenue_cents', x.revenue_cents], ['top_products', x.item_id, 'units', x.units]);
  for (const x of r.payment_mix) rows.push(['payment_mix', x.payment_method, 'transactions', x.transactions], ['payment_mix', x.payment_method, 'revenue_cents', x.revenue_cents]);
  for (const h of r.hourly) rows.push(['hourly', h.hour, 'visits', h.visits], ['hourly', h.hour, 'revenue_cents', h.revenue_cents]);
  for (const l of r.queue_wait_by_lane) rows.push(['queue_wait_by_lane', l.lane, 'mean_wait_ms', l.mean_wait_ms], ['queue_wait_by_lane', l.lane, 'served', l.served]);
  for (const [code, n] of Object.entries(r.rejected_by_code)) rows.push(['rejected_by_code', code, 'count', n]);
  return rows.map((row) => row.map(csvCell).join(',')).join('\n') + '\n';
}

export function renderReport(r: Report, format: ReportFormat, opts: { color: boolean; title: string }): string {
  if (format === 'json') return JSON.stringify(r, null, 2) + '\n';
  if (format === 'csv') return renderCsv(r);
  return renderTable(r, opts);
}

/** Colour when stdout is a terminal and NO_COLOR is unset or empty (no-color.org). */
export function useColor(isTTY: boolean, env: Record<string, string | undefined>): boolean {
  return isTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '');
}
