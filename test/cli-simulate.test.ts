/**
 * `storesim simulate` as a data generator: repeatable, and every bad input refused with one line
 * naming the flag or file and exit 2.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli } from './cli-helpers.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const stderrLines = (s: string): string[] => s.split('\n').filter((l) => l.trim() !== '' && !l.includes('nodedir'));

describe('storesim simulate', () => {
  it('writes the same bytes for the same seed, other bytes for another seed, and picks and prints a seed when none is given', async () => {
    const a = await runCli(['simulate', '--seed', '9', '--events', '2000', '--faults', 'all=0.02']);
    const b = await runCli(['simulate', '--seed', '9', '--events', '2000', '--faults', 'all=0.02']);
    const c = await runCli(['simulate', '--seed', '10', '--events', '2000', '--faults', 'all=0.02']);
    expect(a.code).toBe(0);
    expect(a.stdout.split('\n').filter(Boolean)).toHaveLength(2000);
    expect(b.stdoutBytes.equals(a.stdoutBytes)).toBe(true);
    expect(c.stdoutBytes.equals(a.stdoutBytes)).toBe(false);
    const picked = await runCli(['simulate', '--events', '10', '--stats']);
    expect(picked.code).toBe(0);
    const seed = /seed (\d+)/.exec(picked.stderr)?.[1];
    expect(seed).toBeDefined();
    expect((JSON.parse(picked.stdout) as { seed: number }).seed).toBe(Number(seed));
  });

  it.each([
    [['--layout', 'nope'], /--layout: unknown layout "nope"/],
    [['--faults', 'late'], /--faults: "late" is not NAME=RATE/],
    [['--faults', 'explode=0.1'], /--faults: unknown fault "explode"/],
    [['--faults', 'late=2'], /--faults: rate "2" for late must be a number between 0 and 1/],
    [['--rate', '-1'], /--rate: "-1" must be a number/],
    [['--no-such-flag'], /nknown argument/],
  ] as [string[], RegExp][])('refuses %j with one line and exit 2', async (args, message) => {
    const r = await runCli(['simulate', '--seed', '1', '--events', '5', ...args]);
    expect(r.code).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('refuses a fixture that references an item missing from the catalog, naming the file', async () => {
    // Given a copy of the fixtures whose corner shop holds an item the catalog lacks
    const dir = mkdtempSync(join(tmpdir(), 'storesim-fixtures-'));
    dirs.push(dir);
    cpSync(join(REPO_ROOT, 'fixtures'), dir, { recursive: true });
    const file = join(dir, 'layouts', 'corner-shop.json');
    const layout = JSON.parse(readFileSync(file, 'utf8')) as { shelves: { item_ids: string[] }[] };
    layout.shelves[0]!.item_ids.push('SKU-9999');
    writeFileSync(file, JSON.stringify(layout));
    // When simulate loads them
    const r = await runCli(['simulate', '--seed', '1', '--events', '5'], { env: { STORESIM_FIXTURES: dir } });
    // Then one line names the file and the missing item, exit 2
    expect(r.code).toBe(2);
    const lines = stderrLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/corner-shop\.json/);
    expect(lines[0]).toMatch(/SKU-9999/);
  });
});
