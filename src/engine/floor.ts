/**
 * Walking on the floor plan: shortest paths over walkable cells (`.`, `Q`, `D`), 4-connected, by
 * breadth-first distance fields, one per destination, computed on first use and cached (a layout
 * has a few dozen destinations: shelf access points, queue tails, doors). A walk's length is its
 * path length in cells; positions along it follow the field downhill, so a dashboard never draws
 * a customer inside a shelf or a wall. Falls back to Manhattan distance when a cell is cut off.
 */
import type { GridPoint, Layout } from './types.js';

const WALKABLE = new Set(['.', 'Q', 'D']);

export class Floor {
  private readonly w: number;
  private readonly h: number;
  private readonly open: Uint8Array;
  private readonly fields = new Map<number, Int32Array>();

  constructor(layout: Layout) {
    this.w = layout.width;
    this.h = layout.height;
    this.open = new Uint8Array(this.w * this.h);
    for (let y = 0; y < this.h; y++) {
      const row = layout.plan[y] ?? '';
      for (let x = 0; x < this.w; x++) if (WALKABLE.has(row[x] ?? '#')) this.open[y * this.w + x] = 1;
    }
  }

  private inside(x: number, y: number): boolean {
    return x >= 0 && y >= 0 && x < this.w && y < this.h;
  }

  /** The distance field of `to` (null when off the plan); callers on a hot path keep it. */
  field(to: GridPoint): Int32Array | null {
    if (!this.inside(to.x, to.y)) return null;
    const k = to.y * this.w + to.x;
    let f = this.fields.get(k);
    if (f === undefined) {
      f = new Int32Array(this.w * this.h).fill(-1);
      f[k] = 0;
      const queue = [k];
      for (let qi = 0; qi < queue.length; qi++) {
        const c = queue[qi]!;
        const cx = c % this.w, cy = (c - cx) / this.w;
        const d = f[c]! + 1;
        for (const [nx, ny] of [[cx, cy - 1], [cx + 1, cy], [cx, cy + 1], [cx - 1, cy]] as const) {
          if (!this.inside(nx, ny)) continue;
          const n = ny * this.w + nx;
          if (this.open[n] === 1 && f[n] === -1) { f[n] = d; queue.push(n); }
        }
      }
      this.fields.set(k, f);
    }
    return f;
  }

  /** Path length in cells from `(x, y)` to `to`; `f` is `to`'s field when the caller has it. */
  distance(x: number, y: number, to: GridPoint, f: Int32Array | null = this.field(to)): number {
    const d = f !== null && x >= 0 && y >= 0 && x < this.w && y < this.h ? f[y * this.w + x]! : -1;
    return d >= 0 ? d : Math.abs(to.x - x) + Math.abs(to.y - y);
  }

  /** The cell `steps` cells along the path from `(x, y)` to `to`. */
  along(x: number, y: number, to: GridPoint, steps: number): [number, number] {
    const f = this.field(to);
    if (f === null || !this.inside(x, y) || f[y * this.w + x]! < 0) {
      // Cut off (or off the plan): a straight Manhattan walk, x first.
      const dx = to.x - x, dy = to.y - y;
      if (steps <= Math.abs(dx)) return [x + Math.sign(dx) * steps, y];
      return [to.x, y + Math.sign(dy) * Math.min(steps - Math.abs(dx), Math.abs(dy))];
    }
    for (let s = 0; s < steps; s++) {
      const d = f[y * this.w + x]!;
      if (d === 0) break;
      if (y > 0 && f[(y - 1) * this.w + x] === d - 1) y--;
      else if (x + 1 < this.w && f[y * this.w + x + 1] === d - 1) x++;
      else if (y + 1 < this.h && f[(y + 1) * this.w + x] === d - 1) y++;
      else if (x > 0 && f[y * this.w + x - 1] === d - 1) x--;
      else break;
    }
    return [x, y];
  }
}
