import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from './engine.js';
import { judge } from './reference-judge.test-helper.js';
import type { EngineEvent, EngineMessage, Fixtures } from './types.js';

const present = existsSync(new URL('../../fixtures/catalog.json', import.meta.url)) && existsSync(new URL('../cli/load-fixtures.ts', import.meta.url));

describe.runIf(present)('with the bundled fixtures', () => {
  it('every layout runs, with verdicts a DESIGN.md processor agrees with', async () => {
    const { loadFixtures } = await import('../cli/load-fixtures.js');
    const fixtures: Fixtures = loadFixtures();
    const catalog = new Set(fixtures.catalog.map((p) => p.item_id));
    for (const layout of Object.keys(fixtures.layouts)) {
      const e = createEngine({
        fixtures,
        config: defaultEngineConfig({ seed: 31, layout, faults: { schema: 0.01, unparseable: 0.01, unknown_item: 0.01, quantity: 0.01, unknown_customer: 0.01, late: 0.01, duplicate: 0.01 } }),
        recordLedger: true,
      });
      const ms: EngineMessage[] = [];
      e.run(Infinity, 30_000, (m) => ms.push(m));
      const evs = ms.filter((m): m is EngineEvent => m.kind === 'event');
      expect(evs).toHaveLength(30_000);
      const j = judge(ms, { partitions: 6, graceMs: 30_000, dedupWindowMs: 120_000, catalog, interleaveSeed: 2 });
      const wrong = evs.filter((x) => j.verdicts.get(x.seq) !== x.verdict).map((x) => `${x.verdict} vs ${String(j.verdicts.get(x.seq))}`);
      expect(wrong.slice(0, 5), layout).toEqual([]);
      for (const v of e.ledger().visits) expect({ status: v.status, lines: v.lines }).toEqual(j.visits.get(v.visit_id));
      const plan = fixtures.layouts[layout]!.plan;
      for (const c of e.snapshot().customers) expect(plan[c.y]?.[c.x], `${layout} ${JSON.stringify(c)}`).toMatch(/[.QD]/);
    }
  });
});
