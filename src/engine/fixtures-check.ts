/**
 * Pure cross-checks of fixtures (references between files, layout geometry). The loader in
 * src/cli parses the files; this finds what a schema cannot: a shelf naming an item the catalog
 * lacks, a door outside the floor, two lanes with one number. Each problem is one line.
 */
import type { Fixtures, GridPoint, Layout } from './types.js';

const ISO_WEEK = /^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$/;

export function checkFixtures(f: Omit<Fixtures, 'hash'>): string[] {
  const problems: string[] = [];
  const items = new Set<string>();
  for (const p of f.catalog) {
    if (items.has(p.item_id)) problems.push(`catalog: item ${p.item_id} is listed twice`);
    items.add(p.item_id);
    if (!Number.isInteger(p.price_cents) || p.price_cents <= 0) {
      problems.push(`catalog: item ${p.item_id} has price_cents ${p.price_cents} (a positive integer number of cents)`);
    }
  }
  if (f.catalog.length === 0) problems.push('catalog: no products');

  const seenDiscount = new Set<string>();
  for (const d of f.discounts) {
    if (!items.has(d.item_id)) problems.push(`discounts: ${d.week} discount references item ${d.item_id} missing from the catalog`);
    if (!ISO_WEEK.test(d.week)) problems.push(`discounts: item ${d.item_id} has week "${d.week}" (an ISO week like 2026-W48)`);
    if (!(d.rate >= 0 && d.rate < 1)) problems.push(`discounts: item ${d.item_id} week ${d.week} has rate ${d.rate} (0 <= rate < 1)`);
    const k = `${d.item_id}@${d.week}`;
    if (seenDiscount.has(k)) problems.push(`discounts: item ${d.item_id} has two discounts in week ${d.week}`);
    seenDiscount.add(k);
  }

  const customers = new Set<string>();
  for (const c of f.customers) {
    if (customers.has(c.customer_id)) problems.push(`customers: customer ${c.customer_id} is listed twice`);
    customers.add(c.customer_id);
  }
  if (f.customers.length === 0) problems.push('customers: the pool is empty');

  const stores = new Map<string, string>();
  for (const [key, layout] of Object.entries(f.layouts)) {
    problems.push(...checkLayout(key, layout, items));
    const other = stores.get(layout.store_id);
    if (other !== undefined) problems.push(`layout ${key}: store_id ${layout.store_id} is also used by layout ${other}`);
    stores.set(layout.store_id, key);
  }
  if (Object.keys(f.layouts).length === 0) problems.push('layouts: none');
  return problems;
}

function checkLayout(key: string, l: Layout, items: Set<string>): string[] {
  const out: string[] = [];
  const where = `layout ${key}`;
  if (l.name !== key) out.push(`${where}: name is "${l.name}" but it is keyed as "${key}"`);
  if (!l.store_id) out.push(`${where}: store_id is empty`);
  if (l.plan.length !== l.height) out.push(`${where}: plan has ${l.plan.length} rows, height says ${l.height}`);
  l.plan.forEach((row, y) => {
    if (row.length !== l.width) out.push(`${where}: plan row ${y} is ${row.length} wide, width says ${l.width}`);
  });
  const cell = (p: GridPoint): string | undefined => l.plan[p.y]?.[p.x];
  const inside = (p: GridPoint): boolean => Number.isInteger(p.x) && Number.isInteger(p.y) && p.x >= 0 && p.y >= 0 && p.x < l.width && p.y < l.height;
  const walkable = (p: GridPoint): boolean => { const c = cell(p); return c === '.' || c === 'Q' || c === 'D'; };

  if (l.doors.length === 0) out.push(`${where}: no doors`);
  const doorIds = new Set<string>();
  for (const d of l.doors) {
    if (doorIds.has(d.door_id)) out.push(`${where}: door ${d.door_id} is listed twice`);
    doorIds.add(d.door_id);
    if (!inside(d.at)) out.push(`${where}: door ${d.door_id} at (${d.at.x},${d.at.y}) is outside the ${l.width}x${l.height} floor`);
    else if (cell(d.at) !== 'D') out.push(`${where}: door ${d.door_id} at (${d.at.x},${d.at.y}) is not a D cell in the plan`);
  }

  if (l.shelves.length === 0) out.push(`${where}: no shelves`);
  const shelfIds = new Set<string>();
  for (const s of l.shelves) {
    if (shelfIds.has(s.shelf_id)) out.push(`${where}: shelf ${s.shelf_id} is listed twice`);
    shelfIds.add(s.shelf_id);
    if (!inside(s.access)) out.push(`${where}: shelf ${s.shelf_id} access (${s.access.x},${s.access.y}) is outside the floor`);
    else if (!walkable(s.access)) out.push(`${where}: shelf ${s.shelf_id} access (${s.access.x},${s.access.y}) is not a walkable cell`);
    for (const c of s.cells) {
      if (!inside(c)) out.push(`${where}: shelf ${s.shelf_id} cell (${c.x},${c.y}) is outside the floor`);
      else if (cell(c) !== 'S') out.push(`${where}: shelf ${s.shelf_id} cell (${c.x},${c.y}) is not an S cell in the plan`);
    }
    if (s.item_ids.length === 0) out.push(`${where}: shelf ${s.shelf_id} carries no items`);
    for (const id of s.item_ids) {
      if (!items.has(id)) out.push(`${where}: shelf ${s.shelf_id} references item ${id} missing from the catalog`);
    }
  }

  if (l.lanes.length === 0) out.push(`${where}: no checkout lanes`);
  const laneNos = new Set<number>();
  for (const lane of l.lanes) {
    if (!Number.isInteger(lane.lane) || lane.lane < 1) out.push(`${where}: lane number ${lane.lane} (lanes are numbered from 1)`);
    if (laneNos.has(lane.lane)) out.push(`${where}: lane ${lane.lane} is listed twice`);
    laneNos.add(lane.lane);
    if (!inside(lane.at)) out.push(`${where}: lane ${lane.lane} at (${lane.at.x},${lane.at.y}) is outside the floor`);
    if (lane.queue.length === 0) out.push(`${where}: lane ${lane.lane} has no queue cells`);
    for (const q of lane.queue) {
      if (!inside(q)) out.push(`${where}: lane ${lane.lane} queue cell (${q.x},${q.y}) is outside the floor`);
      else if (!walkable(q)) out.push(`${where}: lane ${lane.lane} queue cell (${q.x},${q.y}) is not a walkable cell`);
    }
  }
  return out;
}
