// Loads fixtures/ (catalog, weekly discounts, customers, store layouts) into the plain `Fixtures`
// data the engine is handed. Everything a user can get wrong in these files is caught here, before a
// run starts, as a FixtureError: one line naming the file, the problem and the fix.
// File formats: docs/fixtures.md.

import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Customer, Discount, Fixtures, GridPoint, Layout, Product } from '../engine/types.js';

/** A fixture file is missing, unreadable or inconsistent. `message` is one line: file, problem, fix. */
export class FixtureError extends Error {
  override readonly name = 'FixtureError';
  /** Absolute path of the offending file (or folder). */
  readonly file: string;

  constructor(file: string, problem: string) {
    super(`${displayPath(file)}: ${problem.replace(/\s*\n\s*/g, ' ')}`);
    this.file = file;
  }
}

/** Customer segments the engine knows how to simulate. */
export const SEGMENTS = ['regular', 'occasional', 'bargain_hunter', 'premium', 'family'] as const;

/** Floor-plan characters: wall, floor, shelf, door, lane (checkout counter), queue space. */
export const PLAN_CHARS = '#.SDLQ';
/** Cells a customer can stand on. */
const WALKABLE = new Set(['.', 'Q', 'D']);

/** The fixtures bundled with storesim: `<package>/fixtures`, from src/cli (tsx) and dist/cli alike. */
export function defaultFixturesDir(): string {
  return fileURLToPath(new URL('../../fixtures/', import.meta.url));
}

/**
 * Reads and checks every fixture file in `dir` (default: the bundled fixtures). Throws FixtureError
 * on the first problem. `hash` is sha256 over, for each file in a fixed order (catalog.json,
 * discounts.json, customers.json, then layouts/*.json by name), `<relative path>\n<byte length>\n`
 * followed by the file's bytes.
 */
export function loadFixtures(dir: string = defaultFixturesDir()): Fixtures {
  if (!existsSync(dir)) {
    throw new FixtureError(dir, 'fixtures folder not found (point to a folder holding catalog.json, discounts.json, customers.json and layouts/)');
  }
  const hash = createHash('sha256');
  const read = (rel: string): unknown => {
    const file = join(dir, rel);
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(err)})`;
      throw new FixtureError(file, `${why} (restore it, or regenerate the bundled fixtures with \`npx tsx scripts/make-fixtures.ts\`)`);
    }
    hash.update(`${rel}\n${bytes.length}\n`);
    hash.update(bytes);
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch (err) {
      throw new FixtureError(file, `not valid JSON: ${(err as Error).message} (fix the syntax)`);
    }
  };

  const catalogFile = join(dir, 'catalog.json');
  const catalog = checkCatalog(catalogFile, parse(catalogFile, catalogSchema, read('catalog.json')));
  const items: ItemIndex = { ids: new Set(catalog.map((p) => p.item_id)), file: displayPath(catalogFile) };

  const discountsFile = join(dir, 'discounts.json');
  const discounts = checkDiscounts(discountsFile, parse(discountsFile, discountsSchema, read('discounts.json')), items);

  const customersFile = join(dir, 'customers.json');
  const customers = checkCustomers(customersFile, parse(customersFile, customersSchema, read('customers.json')));

  const layoutsDir = join(dir, 'layouts');
  let names: string[];
  try {
    names = readdirSync(layoutsDir).filter((n) => n.endsWith('.json')).sort();
  } catch {
    throw new FixtureError(layoutsDir, 'layouts folder not found (add a layouts/ folder with at least one NAME.json floor plan)');
  }
  if (names.length === 0) {
    throw new FixtureError(layoutsDir, 'no layouts (add at least one NAME.json floor plan; see docs/fixtures.md)');
  }
  const layouts: Record<string, Layout> = {};
  const storeIds = new Map<string, string>();
  for (const n of names) {
    const file = join(layoutsDir, n);
    const layout = checkLayout(file, n.slice(0, -'.json'.length), parse(file, layoutSchema, read(`layouts/${n}`)), items);
    const other = storeIds.get(layout.store_id);
    if (other !== undefined) {
      throw new FixtureError(file, `store_id "${layout.store_id}" is already used by layouts/${other}.json (give each layout its own store_id)`);
    }
    storeIds.set(layout.store_id, layout.name);
    layouts[layout.name] = layout;
  }

  return { catalog, discounts, customers, layouts, hash: hash.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// Shapes

const text = z.string().trim().min(1);
const id = z.string().regex(/^\S+$/, 'expected a non-empty id without spaces');
const point = z.strictObject({ x: z.int().nonnegative(), y: z.int().nonnegative() });

const catalogSchema = z.array(z.strictObject({ item_id: id, name: text, category: text, price_cents: z.int().positive() })).min(1);
const discountsSchema = z.strictObject({ weeks: z.record(z.string(), z.record(z.string(), z.number())) });
const customersSchema = z.array(
  z.strictObject({ customer_id: z.string(), name: text, segment: z.enum(SEGMENTS), loyalty: z.boolean() }),
).min(1);
const layoutSchema = z.strictObject({
  name: z.string().optional(),
  store_id: id,
  title: text,
  width: z.int().positive(),
  height: z.int().positive(),
  plan: z.array(z.string()).min(1),
  doors: z.array(z.strictObject({ door_id: id, at: point })).min(1),
  shelves: z.array(z.strictObject({ shelf_id: id, access: point, cells: z.array(point).min(1), item_ids: z.array(id).min(1) })).min(1),
  lanes: z.array(z.strictObject({ lane: z.int().positive(), at: point, queue: z.array(point).min(1) })).min(1),
});

function parse<T>(file: string, schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (issue === undefined) throw new FixtureError(file, 'does not match its format (see docs/fixtures.md)');
  const where = issue.path.length === 0 ? 'top level' : formatPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    throw new FixtureError(file, `${where}: unknown field ${keys} (remove it or fix its spelling; the format is in docs/fixtures.md)`);
  }
  if (issue.path.length > 0 && !present(value, issue.path)) {
    throw new FixtureError(file, `${where} is missing (add it; the format is in docs/fixtures.md)`);
  }
  throw new FixtureError(file, `${where}: ${issue.message} (fix the value; the format is in docs/fixtures.md)`);
}

/** Whether `path` leads to a key that exists in `value` (a missing field, not a wrong one). */
function present(value: unknown, path: readonly PropertyKey[]): boolean {
  let v: unknown = value;
  for (const key of path) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, key)) return false;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return true;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Cross-checks

/** The catalog's item ids, and how to name the catalog in a message. */
interface ItemIndex { ids: ReadonlySet<string>; file: string }

function checkCatalog(file: string, catalog: Product[]): Product[] {
  const seen = new Set<string>();
  for (const p of catalog) {
    if (seen.has(p.item_id)) throw new FixtureError(file, `item_id ${p.item_id} appears twice (item ids must be unique: rename or remove one)`);
    seen.add(p.item_id);
  }
  return catalog.map((p) => ({ item_id: p.item_id, name: p.name, category: p.category, price_cents: p.price_cents }));
}

function checkDiscounts(file: string, data: z.infer<typeof discountsSchema>, items: ItemIndex): Discount[] {
  const discounts: Discount[] = [];
  for (const [week, byItem] of Object.entries(data.weeks)) {
    const m = /^(\d{4})-W(\d{2})$/.exec(week);
    const year = Number(m?.[1]);
    const n = Number(m?.[2]);
    if (!m || n < 1 || n > isoWeeksInYear(year)) {
      throw new FixtureError(file, `week "${week}" is not an ISO week (write it as YYYY-Www, e.g. 2026-W48; ${Number.isFinite(year) ? `${year} has ${isoWeeksInYear(year)} weeks` : 'weeks run from W01'})`);
    }
    for (const [item_id, rate] of Object.entries(byItem)) {
      if (!items.ids.has(item_id)) {
        throw new FixtureError(file, `week ${week} discounts item ${item_id}, which is not in ${items.file} (add it to the catalog or remove the discount)`);
      }
      if (!(rate >= 0 && rate < 1) || Math.abs(rate * 100 - Math.round(rate * 100)) > 1e-9) {
        throw new FixtureError(file, `week ${week} item ${item_id}: rate ${rate} is not a discount rate (use a fraction in [0, 1) with at most 2 decimals: 0.10 = 10 %)`);
      }
      discounts.push({ item_id, week, rate });
    }
  }
  return discounts;
}

/** Number of ISO-8601 weeks in `year` (52 or 53). */
export function isoWeeksInYear(year: number): number {
  const p = (y: number): number => (y + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400)) % 7;
  return p(year) === 4 || p(year - 1) === 3 ? 53 : 52;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function checkCustomers(file: string, customers: Customer[]): Customer[] {
  const seen = new Set<string>();
  customers.forEach((c, i) => {
    if (!UUID.test(c.customer_id)) {
      throw new FixtureError(file, `[${i}].customer_id "${c.customer_id}" is not a UUID (use the lowercase 8-4-4-4-12 hex form)`);
    }
    if (seen.has(c.customer_id)) throw new FixtureError(file, `customer_id ${c.customer_id} appears twice (customer ids must be unique)`);
    seen.add(c.customer_id);
  });
  return customers.map((c) => ({ customer_id: c.customer_id, name: c.name, segment: c.segment, loyalty: c.loyalty }));
}

function checkLayout(file: string, name: string, l: z.infer<typeof layoutSchema>, items: ItemIndex): Layout {
  const fail = (problem: string): never => {
    throw new FixtureError(file, problem);
  };
  if (l.name !== undefined && l.name !== name) {
    fail(`name "${l.name}" differs from the file name (set "name" to "${name}" or remove it; --layout picks a layout by file name)`);
  }

  // The plan: a width x height grid of known characters.
  if (l.plan.length !== l.height) fail(`plan has ${l.plan.length} rows but height is ${l.height} (make them agree)`);
  l.plan.forEach((row, y) => {
    if (row.length !== l.width) fail(`plan row ${y} is ${row.length} characters wide but width is ${l.width} (pad or trim the row)`);
    const bad = [...row].findIndex((ch) => !PLAN_CHARS.includes(ch));
    if (bad >= 0) fail(`plan row ${y} has "${row[bad]}" at column ${bad} (use only # . S D L Q)`);
  });
  const at = (p: GridPoint): string => l.plan[p.y]?.[p.x] ?? '';
  const key = (p: GridPoint): string => `${p.x},${p.y}`;
  const show = (p: GridPoint): string => `(${p.x},${p.y})`;
  const adjacent = (a: GridPoint, b: GridPoint): boolean => Math.abs(a.x - b.x) + Math.abs(a.y - b.y) === 1;
  const expect = (p: GridPoint, ch: string, what: string): void => {
    if (p.x >= l.width || p.y >= l.height) fail(`${what} ${show(p)} is outside the ${l.width}x${l.height} plan (fix its coordinates)`);
    if (at(p) !== ch) fail(`${what} ${show(p)} is "${at(p)}" in the plan, expected "${ch}" (fix the plan or the coordinates)`);
  };
  // Every S, D, L and Q in the plan must belong to exactly one structured shelf, door or lane.
  const owner = new Map<string, string>();
  const claim = (p: GridPoint, who: string): void => {
    const prev = owner.get(key(p));
    if (prev !== undefined) fail(`cell ${show(p)} belongs to both ${prev} and ${who} (give each cell to one of them)`);
    owner.set(key(p), who);
  };

  const doorIds = new Set<string>();
  for (const d of l.doors) {
    if (doorIds.has(d.door_id)) fail(`door ${d.door_id} appears twice (door ids must be unique)`);
    doorIds.add(d.door_id);
    expect(d.at, 'D', `door ${d.door_id} at`);
    claim(d.at, `door ${d.door_id}`);
  }

  const shelfIds = new Set<string>();
  for (const s of l.shelves) {
    if (shelfIds.has(s.shelf_id)) fail(`shelf ${s.shelf_id} appears twice (shelf ids must be unique)`);
    shelfIds.add(s.shelf_id);
    for (const c of s.cells) {
      expect(c, 'S', `shelf ${s.shelf_id} cell`);
      claim(c, `shelf ${s.shelf_id}`);
    }
    expect(s.access, '.', `shelf ${s.shelf_id} access cell`);
    if (!s.cells.some((c) => adjacent(c, s.access))) {
      fail(`shelf ${s.shelf_id} access cell ${show(s.access)} is not next to any of its cells (pick a floor cell beside the shelf)`);
    }
    const held = new Set<string>();
    for (const item of s.item_ids) {
      if (!items.ids.has(item)) fail(`shelf ${s.shelf_id} holds item ${item}, which is not in ${items.file} (add it to the catalog or remove it from the shelf)`);
      if (held.has(item)) fail(`shelf ${s.shelf_id} lists item ${item} twice (list each item once)`);
      held.add(item);
    }
  }

  const laneNumbers = l.lanes.map((ln) => ln.lane).sort((a, b) => a - b);
  laneNumbers.forEach((n, i) => {
    if (n !== i + 1) fail(`lanes are numbered ${laneNumbers.join(', ')} (number them 1..${laneNumbers.length}, each once)`);
  });
  for (const ln of l.lanes) {
    expect(ln.at, 'L', `lane ${ln.lane} at`);
    claim(ln.at, `lane ${ln.lane}`);
    ln.queue.forEach((q, i) => {
      expect(q, 'Q', `lane ${ln.lane} queue cell`);
      claim(q, `lane ${ln.lane}'s queue`);
      const prev = i === 0 ? ln.at : ln.queue[i - 1];
      if (prev !== undefined && !adjacent(prev, q)) {
        fail(`lane ${ln.lane} queue cell ${show(q)} is not next to ${i === 0 ? 'the lane' : `the queue cell before it ${show(prev)}`} (a queue is a chain of neighbouring cells, nearest the lane first)`);
      }
    });
  }

  l.plan.forEach((row, y) => {
    [...row].forEach((ch, x) => {
      if ('SDLQ'.includes(ch) && !owner.has(key({ x, y }))) {
        const what = { S: 'a shelf', D: 'a door', L: 'a lane', Q: "a lane's queue" }[ch];
        fail(`plan has "${ch}" at (${x},${y}) that is not part of ${what} (add it to ${what} or draw "." or "#")`);
      }
    });
  });

  // Customers walk the grid: every door, shelf access cell and queue cell must be reachable.
  const first = l.doors[0];
  if (first === undefined) return fail('has no door (add one)');
  const reached = new Set<string>([key(first.at)]);
  const todo: GridPoint[] = [first.at];
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    for (const n of [{ x: p.x + 1, y: p.y }, { x: p.x - 1, y: p.y }, { x: p.x, y: p.y + 1 }, { x: p.x, y: p.y - 1 }]) {
      if (WALKABLE.has(at(n)) && !reached.has(key(n))) {
        reached.add(key(n));
        todo.push(n);
      }
    }
  }
  const unreachable = (p: GridPoint, what: string): void => {
    if (!reached.has(key(p))) {
      fail(`${what} ${show(p)} cannot be reached from door ${first.door_id} (open a path of "." floor to it)`);
    }
  };
  for (const d of l.doors) unreachable(d.at, `door ${d.door_id} at`);
  for (const s of l.shelves) unreachable(s.access, `shelf ${s.shelf_id} access cell`);
  for (const ln of l.lanes) for (const q of ln.queue) unreachable(q, `lane ${ln.lane} queue cell`);

  return {
    name,
    store_id: l.store_id,
    title: l.title,
    width: l.width,
    height: l.height,
    plan: l.plan,
    doors: l.doors,
    shelves: l.shelves,
    lanes: l.lanes,
  };
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : file;
}
