/** How figures read on the dashboard: pure string formatting, no React. */
import { TOPICS } from '../engine/types.js';

const SPARK = '▁▂▃▄▅▆▇█';

/** `2026-11-23` and `08:12:34` of a simulated time, in UTC. */
export function clockParts(epochMs: number): { date: string; time: string } {
  const iso = new Date(epochMs).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 19) };
}

/** `HH:MM:SS` of an ISO time (the part after `T`), or the text itself when it is not one. */
export function timeOfDay(at: string): string {
  const m = /T(\d\d:\d\d:\d\d)/.exec(at);
  return m?.[1] ?? at;
}

/** `mm:ss`, or `h:mm:ss` from an hour. Negative durations read as 00:00. */
export function duration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const s = total % 60;
  const m = Math.floor(total / 60) % 60;
  const h = Math.floor(total / 3600);
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** `$1,234.56` */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

/** `$1.2k`, `$3.4M` for tight columns; exact below $10,000. */
export function moneyShort(cents: number): string {
  const dollars = cents / 100;
  if (Math.abs(dollars) < 10_000) return money(cents);
  return `$${compact(dollars)}`;
}

/** `999`, `1.2k`, `12k`, `3.4M`, `1.2G`. */
export function compact(n: number): string {
  const abs = Math.abs(n);
  const units: [number, string][] = [[1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const v = n / size;
      return `${Math.abs(v) < 10 ? v.toFixed(1) : Math.round(v)}${unit}`;
    }
  }
  return Number.isInteger(n) ? String(n) : n < 10 ? n.toFixed(1) : String(Math.round(n));
}

/** `12ms`, `1.4s`, `2m05s`. */
export function latency(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** `45.2%` */
export function percent(ratio: number, digits = 1): string {
  return `${(ratio * 100).toFixed(digits)}%`;
}

/** A fault rate: `1%`, `0.5%`, `0.05%`. */
export function rate(r: number): string {
  const p = r * 100;
  if (p >= 10 || Number.isInteger(p)) return `${Math.round(p)}%`;
  return `${Number(p.toPrecision(2))}%`;
}

/** The last `width` values as a sparkline scaled to their maximum (an idle topic is a flat ▁ line). */
export function sparkline(values: readonly number[], width: number): string {
  if (width <= 0) return '';
  const shown = values.slice(-width);
  const max = Math.max(0, ...shown);
  const bars = shown.map((v) => {
    if (max <= 0 || v <= 0) return SPARK[0];
    const i = Math.min(SPARK.length - 1, Math.max(1, Math.round((v / max) * (SPARK.length - 1))));
    return SPARK[i];
  });
  return ' '.repeat(width - bars.length) + bars.join('');
}

/** A customer id short enough for a column: ids up to `width` as they are, else their last characters. */
export function shortId(id: string, width = 8): string {
  return id.length <= width ? id : id.slice(-width);
}

/** `foot_traffic` → `foot`, `pre.shelf_events` → `shelf`: a topic's first word, prefix dropped. */
const LOGICAL_TOPICS: readonly string[] = Object.values(TOPICS);

/** `demo-foot_traffic` → { prefix: 'demo-', name: 'foot_traffic' }: the run's topic prefix apart. */
export function splitTopic(topic: string): { prefix: string; name: string } {
  const name = LOGICAL_TOPICS.find((t) => topic.endsWith(t));
  if (name) return { prefix: topic.slice(0, topic.length - name.length), name };
  return { prefix: '', name: topic.slice(topic.lastIndexOf('.') + 1) };
}

/** `demo-foot_traffic` → `foot`. */
export function shortTopic(topic: string): string {
  const { name } = splitTopic(topic);
  return name.split('_')[0] ?? name;
}

const SHORT_CODES: Record<string, string> = {
  unparseable: 'unparse',
  duplicate: 'dup',
  unknown_customer: 'unk_cust',
  unknown_item: 'unk_item',
  quantity: 'qty',
};

/** Rejection codes in 8 columns or fewer (`unknown_customer` → `unk_cust`). */
export function shortCode(code: string): string {
  return SHORT_CODES[code] ?? code;
}

/**
 * Cuts `text` to `width` terminal columns with a trailing `…`. Counts code points, which is exact
 * for the ASCII and single-width symbols the dashboard formats itself; free text from outside (dead
 * letter reasons) is also truncated by Ink's `wrap="truncate-end"` within its box.
 */
export function fit(text: string, width: number): string {
  if (width <= 0) return '';
  const chars = [...oneLine(text)];
  if (chars.length <= width) return chars.join('');
  return width === 1 ? '…' : chars.slice(0, width - 1).join('') + '…';
}

/** `fit`, then padded with spaces to exactly `width` columns (left-aligned). */
export function cell(text: string, width: number): string {
  const t = fit(text, width);
  return t + ' '.repeat(Math.max(0, width - [...t].length));
}

/** `fit`, then right-aligned in `width` columns. */
export function cellRight(text: string, width: number): string {
  const t = fit(text, width);
  return ' '.repeat(Math.max(0, width - [...t].length)) + t;
}

/** Control characters and runs of whitespace (newlines in a reason, say) as single spaces. */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ');
}
