import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DISCOUNT_YEARS, isoWeeks, makeFixtureFiles } from '../../scripts/make-fixtures.js';
import { FixtureError, defaultFixturesDir, loadFixtures } from './load-fixtures.js';

const bundled = loadFixtures();

describe('the bundled fixtures', () => {
  it('hold a realistic store', () => {
    expect(bundled.catalog.length).toBeGreaterThanOrEqual(150);
    expect(new Set(bundled.catalog.map((p) => p.category)).size).toBeGreaterThanOrEqual(8);
    expect(bundled.customers.length).toBeGreaterThanOrEqual(1000);
    expect(Object.keys(bundled.layouts).sort()).toEqual(expect.arrayContaining(['corner-shop', 'supermarket']));
    expect(bundled.hash).toMatch(/^[0-9a-f]{64}$/);
    for (const p of bundled.catalog) {
      expect(p.item_id).toMatch(/^SKU-\d{4}$/);
      expect(Number.isInteger(p.price_cents) && p.price_cents > 0).toBe(true);
    }
    for (const c of bundled.customers) expect(c.customer_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('draw a corner shop that fits a dashboard panel in 80x24, and a supermarket', () => {
    const corner = bundled.layouts['corner-shop'];
    const superm = bundled.layouts['supermarket'];
    if (!corner || !superm) throw new Error('missing layout');
    expect(corner.width).toBeLessThanOrEqual(38);
    expect(corner.height).toBeLessThanOrEqual(11);
    expect(corner.lanes).toHaveLength(2);
    expect(corner.doors).toHaveLength(1);
    expect(corner.shelves.length).toBeGreaterThanOrEqual(6);
    expect(corner.shelves.length).toBeLessThanOrEqual(8);
    expect(superm.width).toBeLessThanOrEqual(76);
    expect(superm.height).toBeLessThanOrEqual(20);
    expect(superm.lanes.length).toBeGreaterThanOrEqual(5);
    expect(superm.shelves.length).toBeGreaterThanOrEqual(20);
    expect(superm.doors).toHaveLength(2);
    expect(corner.store_id).not.toBe(superm.store_id);
  });

  it('stock every item in the supermarket and every category in the corner shop', () => {
    const stocked = (name: string): Set<string> => new Set(bundled.layouts[name]?.shelves.flatMap((s) => s.item_ids));
    const superItems = stocked('supermarket');
    expect(bundled.catalog.every((p) => superItems.has(p.item_id))).toBe(true);
    const cornerItems = stocked('corner-shop');
    const cornerCategories = new Set(bundled.catalog.filter((p) => cornerItems.has(p.item_id)).map((p) => p.category));
    expect(cornerCategories.size).toBe(new Set(bundled.catalog.map((p) => p.category)).size);
  });

  it('discount about 15 % of items in every ISO week of the covered years, including the default start week', () => {
    const byWeek = new Map<string, number>();
    for (const d of bundled.discounts) byWeek.set(d.week, (byWeek.get(d.week) ?? 0) + 1);
    const weeks = isoWeeks(DISCOUNT_YEARS);
    expect(weeks).toHaveLength(52 + 53 + 52);
    expect([...byWeek.keys()].sort()).toEqual(weeks);
    expect(byWeek.has('2026-W48')).toBe(true);
    for (const n of byWeek.values()) {
      expect(n / bundled.catalog.length).toBeGreaterThan(0.1);
      expect(n / bundled.catalog.length).toBeLessThan(0.2);
    }
    for (const d of bundled.discounts) {
      expect(d.rate).toBeGreaterThanOrEqual(0.05);
      expect(d.rate).toBeLessThanOrEqual(0.3);
      expect(Math.round(d.rate * 100) / 100).toBe(d.rate);
    }
  });

  it('are exactly what scripts/make-fixtures.ts generates, every time', () => {
    const first = makeFixtureFiles();
    const second = makeFixtureFiles();
    expect(second).toEqual(first);
    for (const [name, contents] of Object.entries(first)) {
      // If this fails after an intended change: npx tsx scripts/make-fixtures.ts, then commit fixtures/.
      expect(readFileSync(join(defaultFixturesDir(), name), 'utf8'), name).toBe(contents);
    }
  });

  it('hash the same bytes to the same hash', () => {
    expect(loadFixtures().hash).toBe(bundled.hash);
  });
});

describe('broken fixtures', () => {
  let dir = '';
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = '';
  });

  /** A copy of the bundled fixtures with one file changed by `edit`. */
  function brokenCopy(file: string, edit: (json: Record<string, unknown>) => unknown): string {
    dir = mkdtempSync(join(tmpdir(), 'storesim-fixtures-'));
    cpSync(defaultFixturesDir(), dir, { recursive: true });
    const path = join(dir, file);
    writeFileSync(path, JSON.stringify(edit(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>)));
    return path;
  }

  function loadError(): FixtureError {
    try {
      loadFixtures(dir);
    } catch (err) {
      expect(err).toBeInstanceOf(FixtureError);
      const e = err as FixtureError;
      expect(e.name).toBe('FixtureError');
      expect(e.message).not.toContain('\n');
      return e;
    }
    throw new Error('loadFixtures accepted broken fixtures');
  }

  type Json = Record<string, unknown> & { shelves: { item_ids: string[] }[]; plan: string[] };

  it('names the shelf and the missing item', () => {
    // Given a corner shop whose first shelf holds an item the catalog lacks
    const file = brokenCopy('layouts/corner-shop.json', (j) => {
      (j as Json).shelves[0]?.item_ids.push('SKU-9999');
      return j;
    });
    // Then the error names the file, the shelf, the item and the fix
    const e = loadError();
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/corner-shop\.json: shelf S1 holds item SKU-9999, which is not in \S*catalog\.json \(add it to the catalog or remove it from the shelf\)$/);
  });

  it('rejects an unknown JSON shape', () => {
    const file = brokenCopy('catalog.json', () => ({ products: [] }));
    const e = loadError();
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/catalog\.json: top level: .*expected array/);
  });

  it('rejects a misspelt field', () => {
    const file = brokenCopy('layouts/supermarket.json', (j) => {
      j['shelfs'] = j['shelves'];
      return j;
    });
    const e = loadError();
    expect(e.file).toBe(file);
    expect(e.message).toContain('unknown field "shelfs"');
  });

  it('rejects a missing field', () => {
    const file = brokenCopy('customers.json', (j) => {
      const list = j as unknown as Record<string, unknown>[];
      delete list[3]?.['segment'];
      return list;
    });
    const e = loadError();
    expect(e.file).toBe(file);
    expect(e.message).toContain('customers.json: [3].segment is missing');
  });

  it('finds a door walled off from the shelves', () => {
    // Given a corner shop whose door row is sealed off by a wall just inside it
    const file = brokenCopy('layouts/corner-shop.json', (j) => {
      const plan = (j as Json).plan;
      plan[9] = '#' + '#'.repeat(36) + '#';
      return j;
    });
    const e = loadError();
    expect(e.file).toBe(file);
    expect(e.message).toMatch(/cannot be reached from door D1 \(open a path of "\." floor to it\)$/);
  });

  it('checks plan widths, characters and where structured cells sit', () => {
    brokenCopy('layouts/corner-shop.json', (j) => {
      const plan = (j as Json).plan;
      plan[2] = `${plan[2] ?? ''}.`;
      return j;
    });
    expect(loadError().message).toContain('plan row 2 is 39 characters wide but width is 38');

    brokenCopy('layouts/corner-shop.json', (j) => {
      const plan = (j as Json).plan;
      plan[2] = `#x${(plan[2] ?? '').slice(2)}`;
      return j;
    });
    expect(loadError().message).toContain('plan row 2 has "x" at column 1');

    brokenCopy('layouts/corner-shop.json', (j) => {
      const plan = (j as Json).plan;
      plan[9] = `#S${(plan[9] ?? '').slice(2)}`;
      return j;
    });
    expect(loadError().message).toContain('plan has "S" at (1,9) that is not part of a shelf');
  });

  it('checks discount weeks and rates', () => {
    brokenCopy('discounts.json', (j) => ({ weeks: { ...(j['weeks'] as object), '2025-W53': { 'SKU-0001': 0.1 } } }));
    expect(loadError().message).toMatch(/discounts\.json: week "2025-W53" is not an ISO week .*2025 has 52 weeks/);

    brokenCopy('discounts.json', () => ({ weeks: { '2026-W48': { 'SKU-0001': 10 } } }));
    expect(loadError().message).toContain('rate 10 is not a discount rate (use a fraction in [0, 1) with at most 2 decimals: 0.10 = 10 %)');

    brokenCopy('discounts.json', () => ({ weeks: { '2026-W48': { 'SKU-9999': 0.1 } } }));
    expect(loadError().message).toMatch(/discounts item SKU-9999, which is not in \S*catalog\.json \(add it to the catalog or remove the discount\)$/);
  });

  it('reports invalid JSON and a missing file', () => {
    const file = brokenCopy('customers.json', (j) => j);
    writeFileSync(file, '[{"customer_id": ');
    expect(loadError().message).toMatch(/customers\.json: not valid JSON: .* \(fix the syntax\)$/);

    rmSync(join(dir, 'catalog.json'));
    const e = loadError();
    expect(e.file).toBe(join(dir, 'catalog.json'));
    expect(e.message).toContain('catalog.json: file not found');
  });
});
