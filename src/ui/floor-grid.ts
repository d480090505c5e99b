/**
 * The store floor as rows of styled text: the layout's plan drawn with line and block characters,
 * customers on top by state, and each lane's queue length in a gutter beside its row. Pure.
 */
import type { CustomerState, Layout, SnapshotCustomer, SnapshotLane } from '../engine/types.js';

export interface CellStyle {
  color?: string;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

/** A run of characters with one style. */
export interface Segment extends CellStyle { text: string }

export type FloorRow = Segment[];

export const CUSTOMER_GLYPHS: Record<CustomerState, { ch: string; color: string }> = {
  entering: { ch: 'e', color: 'blue' },
  walking: { ch: 'o', color: 'white' },
  browsing: { ch: '@', color: 'yellow' },
  queueing: { ch: 'q', color: 'magenta' },
  paying: { ch: '$', color: 'green' },
  leaving: { ch: 'e', color: 'blue' },
};

/** Which state colours a crowded cell: the one furthest along a visit. */
const STATE_RANK: Record<CustomerState, number> = { entering: 0, leaving: 1, walking: 2, browsing: 3, queueing: 4, paying: 5 };

const WALL_STYLE: CellStyle = { color: 'gray' };
const SHELF_STYLE: CellStyle = { color: 'yellow', dim: true };
const DOOR_STYLE: CellStyle = { color: 'green' };
const QUEUE_STYLE: CellStyle = { color: 'gray', dim: true };

/** The gutter: one lane a row, `1:3` = lane 1 has 3 queued, on the lane's row or the nearest free one. */
const GUTTER_WIDTH = 5;

interface Cell { ch: string; fill: string; style: CellStyle }

/** Columns the queue gutter takes to the right of the plan (0 when the layout has no lanes). */
export function gutterWidth(layout: Layout): number {
  return layout.lanes.length === 0 ? 0 : GUTTER_WIDTH;
}

/** Which gutter row shows which lane: its own row when free, else the nearest free one (below first). */
export function gutterRows(layout: Layout): Map<number, number> {
  const rows = new Map<number, number>();
  const lanes = [...layout.lanes].sort((a, b) => a.at.y - b.at.y || a.at.x - b.at.x);
  for (const l of lanes) {
    for (let d = 0; d < layout.height * 2; d++) {
      const y = l.at.y + (d % 2 === 1 ? (d + 1) / 2 : -d / 2);
      if (y >= 0 && y < layout.height && !rows.has(y)) {
        rows.set(y, l.lane);
        break;
      }
    }
  }
  return rows;
}

export interface FloorOptions {
  /** Columns per plan cell: 1, or 2 when there is room (terminal cells are about twice as tall as wide). */
  scale: 1 | 2;
  /** Columns available: the gutter shows when the whole plan and it fit, else the plan is cropped on the right. */
  width: number;
  /** Rows available; the plan is cropped at the bottom. */
  height: number;
}

export function floorRows(layout: Layout, customers: readonly SnapshotCustomer[], lanes: readonly SnapshotLane[], opts: FloorOptions): FloorRow[] {
  const grid = drawPlan(layout);
  placeCustomers(grid, layout, customers);
  markLanes(grid, layout, lanes);

  const gutter = gutterWidth(layout);
  const showGutter = gutter > 0 && layout.width * opts.scale + gutter <= opts.width;
  const planCols = Math.max(0, Math.min(layout.width * opts.scale, opts.width));
  const queueByLane = new Map(lanes.map((l) => [l.lane, l]));
  const gutterLane = showGutter ? gutterRows(layout) : new Map<number, number>();

  const rows: FloorRow[] = [];
  for (let y = 0; y < Math.min(grid.length, opts.height); y++) {
    const line = grid[y] ?? [];
    const segs: Segment[] = [];
    for (const c of line) {
      push(segs, c.ch, c.style);
      if (opts.scale === 2) push(segs, c.fill, c.fill === ' ' ? {} : c.style);
    }
    const row = cropSegments(segs, planCols);
    const lane = gutterLane.get(y);
    if (lane !== undefined) {
      const q = queueByLane.get(lane)?.queue ?? 0;
      const name = `${lane}:`;
      const count = (q > 99 ? '++' : String(q)).padEnd(gutter - 1 - name.length).slice(0, Math.max(0, gutter - 1 - name.length));
      push(row, ' ', {});
      push(row, name.slice(0, gutter - 1), { color: 'cyan' });
      push(row, count, { color: q > 0 ? 'magenta' : 'gray', bold: q > 0 });
    }
    rows.push(row);
  }
  return rows;
}

/** The plain text of rows (tests, debugging). */
export function rowsText(rows: readonly FloorRow[]): string[] {
  return rows.map((r) => r.map((s) => s.text).join(''));
}

function drawPlan(layout: Layout): Cell[][] {
  const at = (x: number, y: number): string => layout.plan[y]?.[x] ?? ' ';
  const joins = (x: number, y: number): boolean => at(x, y) === '#' || at(x, y) === 'D';
  const grid: Cell[][] = [];
  for (let y = 0; y < layout.height; y++) {
    const row: Cell[] = [];
    for (let x = 0; x < layout.width; x++) {
      const p = at(x, y);
      switch (p) {
        case '#': {
          const u = joins(x, y - 1), d = joins(x, y + 1), l = joins(x - 1, y), r = joins(x + 1, y);
          row.push({ ch: wallGlyph(u, d, l, r), fill: r ? '─' : ' ', style: WALL_STYLE });
          break;
        }
        case 'D':
          row.push({ ch: '▒', fill: '▒', style: DOOR_STYLE });
          break;
        case 'S':
          row.push({ ch: '▓', fill: '▓', style: SHELF_STYLE });
          break;
        case 'Q':
          row.push({ ch: '·', fill: ' ', style: QUEUE_STYLE });
          break;
        case 'L':
          row.push({ ch: '▣', fill: ' ', style: { color: 'cyan' } });
          break;
        default:
          row.push({ ch: ' ', fill: ' ', style: {} });
      }
    }
    grid.push(row);
  }
  return grid;
}

function wallGlyph(u: boolean, d: boolean, l: boolean, r: boolean): string {
  const v = u || d, h = l || r;
  if (v && !h) return '│';
  if (h && !v) return '─';
  if (!v && !h) return '■';
  if (u && d) return l && r ? '┼' : r ? '├' : '┤';
  if (l && r) return d ? '┬' : '┴';
  if (d) return r ? '┌' : '┐';
  return r ? '└' : '┘';
}

function placeCustomers(grid: Cell[][], layout: Layout, customers: readonly SnapshotCustomer[]): void {
  const cells = new Map<number, { count: number; state: CustomerState }>();
  for (const c of customers) {
    if (c.x < 0 || c.y < 0 || c.x >= layout.width || c.y >= layout.height) continue;
    const k = c.y * layout.width + c.x;
    const prev = cells.get(k);
    if (!prev) cells.set(k, { count: 1, state: c.state });
    else cells.set(k, { count: prev.count + 1, state: STATE_RANK[c.state] > STATE_RANK[prev.state] ? c.state : prev.state });
  }
  for (const [k, { count, state }] of cells) {
    const x = k % layout.width, y = Math.floor(k / layout.width);
    const cell = grid[y]?.[x];
    if (!cell) continue;
    const g = CUSTOMER_GLYPHS[state];
    cell.ch = count === 1 ? g.ch : count > 9 ? '+' : String(count);
    cell.fill = ' ';
    cell.style = { color: g.color, bold: true };
  }
}

function markLanes(grid: Cell[][], layout: Layout, lanes: readonly SnapshotLane[]): void {
  const serving = new Map(lanes.map((l) => [l.lane, l.serving]));
  for (const l of layout.lanes) {
    const cell = grid[l.at.y]?.[l.at.x];
    // A paying customer standing on the lane is drawn instead of it.
    if (!cell || cell.style.bold) continue;
    cell.ch = l.lane < 10 ? String(l.lane) : '▣';
    cell.style = serving.get(l.lane) ? { color: 'green', inverse: true, bold: true } : { color: 'cyan' };
  }
}

function sameStyle(a: CellStyle, b: CellStyle): boolean {
  return a.color === b.color && !!a.bold === !!b.bold && !!a.dim === !!b.dim && !!a.inverse === !!b.inverse;
}

function push(segs: Segment[], text: string, style: CellStyle): void {
  const last = segs[segs.length - 1];
  if (last && sameStyle(last, style)) last.text += text;
  else segs.push({ ...style, text });
}

function cropSegments(segs: Segment[], width: number): Segment[] {
  const out: Segment[] = [];
  let left = width;
  for (const s of segs) {
    if (left <= 0) break;
    const chars = [...s.text];
    const text = chars.length <= left ? s.text : chars.slice(0, left).join('');
    out.push({ ...s, text });
    left -= Math.min(chars.length, left);
  }
  return out;
}
