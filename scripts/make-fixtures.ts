// Generates fixtures/ (catalog, weekly discounts, customers, store layouts) deterministically:
//   npx tsx scripts/make-fixtures.ts
// Same code, same bytes: src/cli/load-fixtures.test.ts checks the committed files against
// makeFixtureFiles(). The format of each file is in docs/fixtures.md.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Faker, base, en } from '@faker-js/faker';
import type { Customer, Door, GridPoint, LaneFixture, Layout, Product, Shelf } from '../src/engine/types.js';
import { SEGMENTS, isoWeeksInYear } from '../src/cli/load-fixtures.js';

/** Seed for every random choice below (customers via faker, discounts via mulberry32). */
export const FIXTURE_SEED = 20261123;
/** ISO years the weekly discounts cover (the default simulated start, 2026-11-23, is 2026-W48). */
export const DISCOUNT_YEARS = [2025, 2026, 2027] as const;
export const CUSTOMER_COUNT = 1000;

// ---------------------------------------------------------------------------------------------
// Catalog

// The assortment, written by hand so names and prices read like a real grocery (no real brands).
// Products are numbered SKU-0001.. in this order: add new ones at the end of the last category, or
// accept that later item_ids shift (and with them the discounts and shelves).
/** `name|price in cents`, grouped by category. */
const PRODUCTS: Readonly<Record<string, readonly string[]>> = {
  produce: [
    'Bananas, per lb|69', 'Gala Apples, 3 lb bag|449', 'Honeycrisp Apple, each|179', 'Navel Oranges, 4 lb bag|599',
    'Lemons, each|79', 'Limes, each|39', 'Hass Avocado, each|129', 'Roma Tomatoes, per lb|149',
    'Vine Tomatoes, 1 lb|299', 'Cucumber, each|89', 'Iceberg Lettuce, head|179', 'Romaine Hearts, 3 pack|349',
    'Baby Spinach, 5 oz|399', 'Broccoli Crowns, per lb|229', 'Carrots, 2 lb bag|199', 'Yellow Onions, 3 lb bag|349',
    'Russet Potatoes, 5 lb bag|499', 'Sweet Potatoes, per lb|129', 'Garlic, 3 bulbs|249', 'Red Bell Pepper, each|149',
    'Strawberries, 1 lb|399', 'Blueberries, 6 oz|349', 'Seedless Grapes, per lb|279', 'White Mushrooms, 8 oz|229',
  ],
  bakery: [
    'Sourdough Loaf|499', 'Whole Wheat Sandwich Bread|349', 'White Sandwich Bread|279', 'French Baguette|249',
    'Multigrain Loaf|449', 'Plain Bagels, 6 pack|399', 'Everything Bagels, 6 pack|429', 'Butter Croissants, 4 pack|549',
    'Blueberry Muffins, 4 pack|499', 'Hamburger Buns, 8 pack|329', 'Hot Dog Buns, 8 pack|319', 'Flour Tortillas, 10 pack|299',
    'Corn Tortillas, 30 pack|249', 'Cinnamon Rolls, 4 pack|599', 'Chocolate Chip Cookies, 12 pack|449', 'Rye Bread|399',
  ],
  dairy: [
    'Whole Milk, 1 gal|419', '2% Reduced Fat Milk, 1 gal|409', 'Skim Milk, half gal|279', 'Oat Milk, half gal|449',
    'Almond Milk, half gal|379', 'Heavy Whipping Cream, 1 pt|429', 'Half and Half, 1 qt|349', 'Large Eggs, dozen|389',
    'Free-Range Eggs, dozen|549', 'Salted Butter, 1 lb|499', 'Unsalted Butter, 1 lb|499', 'Sharp Cheddar, 8 oz|379',
    'Mozzarella, shredded 8 oz|349', 'Swiss Cheese Slices, 8 oz|429', 'Parmesan Wedge, 6 oz|599', 'Cream Cheese, 8 oz|279',
    'Greek Yogurt Plain, 32 oz|649', 'Strawberry Yogurt, 6 oz|109', 'Vanilla Yogurt, 32 oz|399', 'Cottage Cheese, 16 oz|399',
    'Sour Cream, 16 oz|259', 'Orange Juice, 52 oz|449',
  ],
  meat: [
    'Chicken Breast, per lb|449', 'Chicken Thighs, per lb|299', 'Whole Chicken, per lb|189', 'Ground Beef 80/20, 1 lb|549',
    'Ground Beef 93/7, 1 lb|749', 'Ribeye Steak, per lb|1499', 'Sirloin Steak, per lb|999', 'Pork Chops, per lb|449',
    'Pork Tenderloin, per lb|499', 'Bacon, 12 oz|699', 'Breakfast Sausage, 12 oz|499', 'Smoked Ham Slices, 9 oz|549',
    'Turkey Breast Slices, 9 oz|599', 'Beef Hot Dogs, 8 pack|499', 'Atlantic Salmon Fillet, per lb|1199', 'Cod Fillet, per lb|999',
    'Raw Shrimp, 1 lb|1099', 'Ground Turkey, 1 lb|529',
  ],
  frozen: [
    'Frozen Pepperoni Pizza|649', 'Frozen Margherita Pizza|699', 'Frozen Peas, 12 oz|199', 'Frozen Sweet Corn, 12 oz|199',
    'Frozen Mixed Vegetables, 16 oz|249', 'Frozen Broccoli Florets, 12 oz|229', 'French Fries, 32 oz|399', 'Chicken Nuggets, 2 lb|899',
    'Fish Sticks, 24 count|599', 'Frozen Waffles, 10 count|349', 'Vanilla Ice Cream, 1.5 qt|549', 'Chocolate Ice Cream, 1.5 qt|549',
    'Frozen Strawberries, 16 oz|449', 'Frozen Blueberries, 16 oz|479', 'Beef Lasagna, family size|1199', 'Chicken Burritos, 8 pack|799',
    'Vegetable Dumplings, 24 oz|699', 'Ice Pops, 12 pack|399',
  ],
  pantry: [
    'Spaghetti, 16 oz|179', 'Penne Rigate, 16 oz|179', 'Elbow Macaroni, 16 oz|159', 'Long Grain White Rice, 5 lb|599',
    'Brown Rice, 2 lb|329', 'Basmati Rice, 2 lb|499', 'Marinara Sauce, 24 oz|349', 'Tomato Paste, 6 oz|109',
    'Diced Tomatoes, 14.5 oz|139', 'Black Beans, 15 oz|119', 'Chickpeas, 15 oz|129', 'Kidney Beans, 15 oz|119',
    'Chunk Light Tuna, 5 oz|149', 'Chicken Noodle Soup, 10.5 oz|179', 'Tomato Soup, 10.5 oz|159', 'Chicken Broth, 32 oz|279',
    'Creamy Peanut Butter, 16 oz|329', 'Strawberry Jam, 18 oz|369', 'Clover Honey, 12 oz|549', 'Maple Syrup, 12 oz|899',
    'Rolled Oats, 42 oz|529', 'Corn Flakes Cereal, 18 oz|399', 'Honey Nut Oat Cereal, 15 oz|469', 'Granola, 12 oz|499',
    'All-Purpose Flour, 5 lb|429', 'Granulated Sugar, 4 lb|399', 'Brown Sugar, 2 lb|299', 'Extra Virgin Olive Oil, 500 ml|899',
    'Canola Oil, 48 oz|549', 'Apple Cider Vinegar, 32 oz|349', 'Tomato Ketchup, 32 oz|349', 'Yellow Mustard, 14 oz|189',
    'Mayonnaise, 30 oz|549', 'Sea Salt, 26 oz|219', 'Black Peppercorns, 4 oz|449', 'Ground Cinnamon, 2.5 oz|349',
  ],
  beverages: [
    'Spring Water, 24 pack|549', 'Sparkling Water Lime, 8 pack|499', 'Cola, 12 pack cans|799', 'Diet Cola, 12 pack cans|799',
    'Lemon-Lime Soda, 2 L|249', 'Ginger Ale, 2 L|249', 'Root Beer, 12 pack cans|749', 'Apple Juice, 64 oz|399',
    'Cranberry Juice Cocktail, 64 oz|429', 'Lemonade, 52 oz|329', 'Iced Tea Unsweetened, 64 oz|349', 'Sports Drink Fruit Punch, 28 oz|169',
    'Energy Drink, 16 oz|299', 'Cold Brew Coffee, 32 oz|599', 'Ground Coffee Medium Roast, 12 oz|899', 'Whole Bean Coffee Dark Roast, 12 oz|1099',
    'Black Tea Bags, 100 count|549', 'Green Tea Bags, 40 count|399', 'Herbal Tea Chamomile, 20 count|349', 'Hot Cocoa Mix, 8 pack|379',
    'Coconut Water, 33 oz|449', 'Kombucha Ginger, 16 oz|349',
  ],
  snacks: [
    'Sea Salt Potato Chips, 8 oz|429', 'Barbecue Potato Chips, 8 oz|429', 'Tortilla Chips, 13 oz|449', 'Salsa Medium, 16 oz|349',
    'Pretzel Twists, 16 oz|379', 'Butter Microwave Popcorn, 3 pack|399', 'Cheese Crackers, 12 oz|449', 'Saltine Crackers, 16 oz|299',
    'Graham Crackers, 14 oz|399', 'Sandwich Cookies, 14 oz|449', 'Roasted Almonds, 16 oz|899', 'Salted Peanuts, 16 oz|399',
    'Trail Mix, 26 oz|899', 'Granola Bars, 12 count|549', 'Protein Bars, 6 count|899', 'Milk Chocolate Bar, 3.5 oz|299',
    'Dark Chocolate Bar, 3.5 oz|349', 'Gummy Bears, 12 oz|299', 'Rice Cakes, 4.5 oz|279', 'Beef Jerky, 3 oz|749',
  ],
  household: [
    'Paper Towels, 6 rolls|1199', 'Toilet Paper, 12 rolls|1399', 'Facial Tissues, 3 boxes|549', 'Dish Soap, 24 oz|329',
    'Dishwasher Pods, 32 count|1099', 'Laundry Detergent, 64 loads|1399', 'Fabric Softener, 64 oz|699', 'All-Purpose Cleaner, 32 oz|399',
    'Glass Cleaner, 26 oz|399', 'Trash Bags 13 gal, 40 count|1049', 'Aluminum Foil, 75 sq ft|599', 'Plastic Wrap, 200 sq ft|449',
    'Zipper Storage Bags, 50 count|499', 'Sponges, 6 pack|449', 'AA Batteries, 8 pack|999', 'LED Light Bulbs, 4 pack|899',
  ],
  'personal care': [
    'Toothpaste Mint, 4 oz|349', 'Soft Toothbrush, 2 pack|399', 'Dental Floss, 50 m|299', 'Mouthwash, 1 L|599',
    'Shampoo, 12 oz|599', 'Conditioner, 12 oz|599', 'Body Wash, 18 oz|649', 'Bar Soap, 4 pack|499',
    'Deodorant, 2.6 oz|549', 'Hand Soap Refill, 56 oz|699', 'Moisturizing Lotion, 16 oz|799', 'Sunscreen SPF 50, 8 oz|1099',
    'Disposable Razors, 4 pack|899', 'Cotton Swabs, 500 count|399', 'Pain Reliever, 100 tablets|899', 'Adhesive Bandages, 30 count|449',
  ],
};

export function makeCatalog(): Product[] {
  const catalog: Product[] = [];
  for (const [category, rows] of Object.entries(PRODUCTS)) {
    for (const row of rows) {
      const [name = '', price = ''] = row.split('|');
      catalog.push({ item_id: `SKU-${String(catalog.length + 1).padStart(4, '0')}`, name, category, price_cents: Number(price) });
    }
  }
  return catalog;
}

// ---------------------------------------------------------------------------------------------
// Weekly discounts: about 15 % of the catalog each ISO week, rates 5..30 % (10 % the most common).

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RATE_PERCENTS = [5, 10, 10, 10, 15, 15, 20, 20, 25, 30];

export function isoWeeks(years: readonly number[]): string[] {
  return years.flatMap((y) => Array.from({ length: isoWeeksInYear(y) }, (_, i) => `${y}-W${String(i + 1).padStart(2, '0')}`));
}

export function makeDiscounts(catalog: readonly Product[]): { weeks: Record<string, Record<string, number>> } {
  const random = mulberry32(FIXTURE_SEED);
  const weeks: Record<string, Record<string, number>> = {};
  for (const week of isoWeeks(DISCOUNT_YEARS)) {
    const count = Math.round(catalog.length * (0.13 + 0.04 * random()));
    const pool = catalog.map((p) => p.item_id);
    // Partial Fisher-Yates: the first `count` entries become this week's promotions.
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j] as string, pool[i] as string];
    }
    const byItem: Record<string, number> = {};
    for (const item of pool.slice(0, count).sort()) {
      byItem[item] = (RATE_PERCENTS[Math.floor(random() * RATE_PERCENTS.length)] ?? 10) / 100;
    }
    weeks[week] = byItem;
  }
  return { weeks };
}

// ---------------------------------------------------------------------------------------------
// Customers

const SEGMENT_WEIGHTS: Record<(typeof SEGMENTS)[number], { weight: number; loyalty: number }> = {
  regular: { weight: 35, loyalty: 0.7 },
  occasional: { weight: 25, loyalty: 0.15 },
  bargain_hunter: { weight: 15, loyalty: 0.5 },
  premium: { weight: 10, loyalty: 0.8 },
  family: { weight: 15, loyalty: 0.6 },
};

export function makeCustomers(): Customer[] {
  const faker = new Faker({ locale: [en, base] });
  faker.seed(FIXTURE_SEED);
  const segments = SEGMENTS.map((value) => ({ value, weight: SEGMENT_WEIGHTS[value].weight }));
  const customers: Customer[] = [];
  const ids = new Set<string>();
  while (customers.length < CUSTOMER_COUNT) {
    const customer_id = faker.string.uuid();
    const name = `${faker.person.firstName()} ${faker.person.lastName()}`;
    const segment = faker.helpers.weightedArrayElement(segments);
    const loyalty = faker.datatype.boolean({ probability: SEGMENT_WEIGHTS[segment].loyalty });
    if (ids.has(customer_id)) continue;
    ids.add(customer_id);
    customers.push({ customer_id, name, segment, loyalty });
  }
  return customers;
}

// ---------------------------------------------------------------------------------------------
// Layouts, drawn as annotated maps: a lowercase letter is a shelf cell stocked with the categories
// `stock` gives that letter; each 4-connected group of one letter is one shelf. Everything else is
// already a plan character. Shelves are numbered S1.. and doors D1.. in reading order, lanes 1..
// left to right; a lane's queue is the chain of Q cells starting next to its L.

interface LayoutSpec {
  name: string;
  store_id: string;
  title: string;
  map: string[];
  stock: Record<string, string[]>;
  /** Fraction of each category's items this store sells (its first items). */
  share: number;
}

const CORNER_SHOP: LayoutSpec = {
  name: 'corner-shop',
  store_id: 'store-corner-001',
  title: 'Corner Shop',
  share: 0.5,
  stock: {
    p: ['produce'], b: ['bakery'], d: ['dairy', 'meat'], f: ['frozen'],
    a: ['pantry'], s: ['snacks'], v: ['beverages'], h: ['household', 'personal care'],
  },
  map: [
    '######################################',
    '#ppppppppppp#bbbbbbbbbbb#dddddddddddd#',
    '#....................................#',
    '#..aaaaaaaaaaaaa....sssssssssssss...f#',
    '#..aaaaaaaaaaaaa....sssssssssssss...f#',
    '#...................................f#',
    '#..vvvvvvvvvvvvv....hhhhhhhhhhhhh...f#',
    '#...................................f#',
    '#.LQQQQQ...LQQQQQ....................#',
    '#....................................#',
    '###########################D##########',
  ],
};

function supermarketMap(): string[] {
  const W = 76;
  const H = 20;
  const grid = Array.from({ length: H }, (_, y) => Array.from({ length: W }, (_, x) => (x === 0 || y === 0 || x === W - 1 || y === H - 1 ? '#' : '.')));
  const fill = (x0: number, y0: number, w: number, h: number, ch: string): void => {
    for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) (grid[y] as string[])[x] = ch;
  };
  // Back wall: bakery, meat, meat, dairy, dairy, split by pillars.
  ['b', 'm', 'm', 'd', 'd'].forEach((ch, i) => {
    fill(1 + i * 15, 1, 14, 1, ch);
    if (i > 0) fill(i * 15, 1, 1, 1, '#');
  });
  // Side walls: produce on the left, freezers on the right, split by the cross aisle (row 7).
  for (const y of [3, 8]) {
    fill(1, y, 1, 4, 'p');
    fill(W - 2, y, 1, 4, 'f');
  }
  // Eleven two-sided gondolas, cut in two by the cross aisle.
  const gondolas = 'aaavvsshhcc';
  [...gondolas].forEach((ch, k) => {
    fill(7 + 6 * k, 3, 2, 4, ch);
    fill(7 + 6 * k, 8, 2, 4, ch);
  });
  // Six checkouts: counter belt (#), till (L), queue (Q) alongside, leading back into the store.
  for (let k = 0; k < 6; k++) {
    const x = 7 + 8 * k;
    fill(x, 14, 1, 2, '#');
    fill(x, 16, 1, 1, 'L');
    fill(x + 1, 13, 1, 4, 'Q');
  }
  // Tables by the entrance: fresh produce and the bakery's bread.
  fill(55, 14, 5, 2, 'p');
  fill(63, 14, 5, 2, 'b');
  fill(59, H - 1, 1, 1, 'D');
  fill(69, H - 1, 1, 1, 'D');
  return grid.map((row) => row.join(''));
}

const SUPERMARKET: LayoutSpec = {
  name: 'supermarket',
  store_id: 'store-super-001',
  title: 'Supermarket',
  share: 1,
  stock: {
    p: ['produce'], b: ['bakery'], m: ['meat'], d: ['dairy'], f: ['frozen'],
    a: ['pantry'], v: ['beverages'], s: ['snacks'], h: ['household'], c: ['personal care'],
  },
  map: supermarketMap(),
};

const byReading = (a: GridPoint, b: GridPoint): number => a.y - b.y || a.x - b.x;
const neighbours = (p: GridPoint): GridPoint[] => [
  { x: p.x, y: p.y - 1 }, { x: p.x - 1, y: p.y }, { x: p.x + 1, y: p.y }, { x: p.x, y: p.y + 1 },
];

export function buildLayout(spec: LayoutSpec, catalog: readonly Product[]): Layout {
  const height = spec.map.length;
  const width = spec.map[0]?.length ?? 0;
  const charAt = (p: GridPoint): string => spec.map[p.y]?.[p.x] ?? '#';
  const cellsOf = (test: (ch: string) => boolean): GridPoint[] =>
    spec.map.flatMap((row, y) => [...row].flatMap((ch, x) => (test(ch) ? [{ x, y }] : [])));
  for (const row of spec.map) if (row.length !== width) throw new Error(`${spec.name}: ragged map row "${row}"`);

  const doors: Door[] = cellsOf((ch) => ch === 'D').map((at, i) => ({ door_id: `D${i + 1}`, at }));

  // Shelves: connected groups of one letter.
  const seen = new Set<string>();
  const groups: { letter: string; cells: GridPoint[] }[] = [];
  for (const start of cellsOf((ch) => /[a-z]/.test(ch))) {
    if (seen.has(`${start.x},${start.y}`)) continue;
    const letter = charAt(start);
    const cells: GridPoint[] = [];
    const todo = [start];
    seen.add(`${start.x},${start.y}`);
    for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
      cells.push(p);
      for (const n of neighbours(p)) {
        if (charAt(n) === letter && !seen.has(`${n.x},${n.y}`)) {
          seen.add(`${n.x},${n.y}`);
          todo.push(n);
        }
      }
    }
    groups.push({ letter, cells: cells.sort(byReading) });
  }

  // Access: the free floor cell beside the shelf nearest its middle.
  const used = new Set<string>();
  const accessOf = (cells: GridPoint[]): GridPoint => {
    const cx = cells.reduce((s, c) => s + c.x, 0) / cells.length;
    const cy = cells.reduce((s, c) => s + c.y, 0) / cells.length;
    const options = cells.flatMap(neighbours).filter((n) => charAt(n) === '.' && !used.has(`${n.x},${n.y}`));
    options.sort((a, b) => (a.x - cx) ** 2 + (a.y - cy) ** 2 - ((b.x - cx) ** 2 + (b.y - cy) ** 2) || byReading(a, b));
    const best = options[0];
    if (best === undefined) throw new Error(`${spec.name}: a shelf at (${cells[0]?.x},${cells[0]?.y}) has no free floor beside it`);
    used.add(`${best.x},${best.y}`);
    return best;
  };

  // Stock: each category's (first `share` of) items split in runs across the shelves holding it.
  const itemsOn = groups.map(() => [] as string[]);
  const categories = [...new Set(catalog.map((p) => p.category))];
  for (const category of categories) {
    const items = catalog.filter((p) => p.category === category).map((p) => p.item_id);
    const stocked = items.slice(0, Math.ceil(items.length * spec.share));
    const holders = groups.flatMap((g, i) => (spec.stock[g.letter]?.includes(category) ? [i] : []));
    if (holders.length === 0) throw new Error(`${spec.name}: no shelf holds ${category}`);
    holders.forEach((g, k) => {
      const from = Math.floor((k * stocked.length) / holders.length);
      const to = Math.floor(((k + 1) * stocked.length) / holders.length);
      itemsOn[g]?.push(...stocked.slice(from, to));
    });
  }
  const shelves: Shelf[] = groups.map((g, i) => ({ shelf_id: `S${i + 1}`, access: accessOf(g.cells), cells: g.cells, item_ids: itemsOn[i] ?? [] }));

  const lanes: LaneFixture[] = cellsOf((ch) => ch === 'L')
    .sort((a, b) => a.x - b.x || a.y - b.y)
    .map((at, i) => {
      const queue: GridPoint[] = [];
      const inQueue = new Set<string>();
      for (let p: GridPoint | undefined = at; p !== undefined; ) {
        const next: GridPoint[] = neighbours(p).filter((n) => charAt(n) === 'Q' && !inQueue.has(`${n.x},${n.y}`));
        if (next.length > 1) throw new Error(`${spec.name}: lane ${i + 1}'s queue forks at (${p.x},${p.y})`);
        p = next[0];
        if (p !== undefined) {
          queue.push(p);
          inQueue.add(`${p.x},${p.y}`);
        }
      }
      return { lane: i + 1, at, queue };
    });

  return {
    name: spec.name,
    store_id: spec.store_id,
    title: spec.title,
    width,
    height,
    plan: spec.map.map((row) => row.replace(/[a-z]/g, 'S')),
    doors,
    shelves,
    lanes,
  };
}

export const LAYOUTS: readonly LayoutSpec[] = [CORNER_SHOP, SUPERMARKET];

// ---------------------------------------------------------------------------------------------
// Output

/**
 * JSON that diffs well and stays small: a value goes on one line when it fits in `maxWidth`;
 * otherwise its children go one per line, and short scalar-ish children are packed several a line.
 */
export function formatJson(value: unknown, maxWidth = 120, indent = ''): string {
  const flat = JSON.stringify(value);
  if (value === null || typeof value !== 'object' || indent.length + flat.length <= maxWidth) return flat;
  const inner = `${indent}  `;
  const parts = Array.isArray(value)
    ? value.map((v) => formatJson(v, maxWidth, inner))
    : Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${formatJson(v, maxWidth, inner)}`);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  const packable = parts.every((p) => !p.includes('\n') && p.length <= 24);
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (packable && last >= 0 && inner.length + (lines[last] as string).length + part.length + 2 <= maxWidth) {
      lines[last] += ` ${part},`;
    } else {
      lines.push(`${part},`);
    }
  }
  const body = lines.map((line, i) => inner + (i === lines.length - 1 ? line.slice(0, -1) : line)).join('\n');
  return `${open}\n${body}\n${indent}${close}`;
}

/** Every fixture file this script owns: path relative to fixtures/ → exact contents. */
export function makeFixtureFiles(): Record<string, string> {
  const catalog = makeCatalog();
  const files: Record<string, string> = {
    'catalog.json': formatJson(catalog),
    'discounts.json': formatJson(makeDiscounts(catalog)),
    'customers.json': formatJson(makeCustomers(), 140),
  };
  for (const spec of LAYOUTS) files[`layouts/${spec.name}.json`] = formatJson(buildLayout(spec, catalog));
  for (const name of Object.keys(files)) files[name] += '\n';
  return files;
}

function main(): void {
  const dir = fileURLToPath(new URL('../fixtures/', import.meta.url));
  for (const [name, contents] of Object.entries(makeFixtureFiles())) {
    const file = join(dir, name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, contents);
    console.log(`wrote fixtures/${name} (${contents.length} bytes)`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
