/**
 * The dashboard as a person meets it: the CLI in a real pseudo-terminal at 80x24, driven by
 * keys (node-pty, as Ink tests its own raw-mode behaviour). Waits for what the screen shows, never
 * for a fixed time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, waitForScreen } from './pty.js';
let dir = '';

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'storesim-pty-'));
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const waitFor = waitForScreen;

describe('dashboard in a real terminal (80x24)', () => {
  it('draws the panels, comes alive, answers keys, and q drains, prints the summary and exits 0', async () => {
    // Given the dashboard started on the offline default
    const t = spawnCli(['run', '--sqlite', join(dir, 'pty.db'), '--seed', '7']);
    // The first frame may take a while when other suites share the two cores.
    await waitFor(() => /Corner Shop/.test(t.all()) && /Topics/.test(t.all()) && /Rejected/.test(t.all()) && /KPIs/.test(t.all()), 'the panels', t, 120_000);
    expect(t.all()).toMatch(/storesim/);
    expect(t.all()).toMatch(/q quit/);
    // Then the screen changes: the simulated clock moves
    const clock = (s: string): string[] => [...s.matchAll(/\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d)/g)].map((m) => m[1]!);
    const first = clock(t.all()).pop();
    await waitFor(() => { const c = clock(t.all()).pop(); return c !== undefined && c !== first; }, 'the clock to move', t);

    // When + is pressed, the rate shown goes up
    const rate = (s: string): number[] => [...s.matchAll(/rate (\d+)\/min/g)].map((m) => Number(m[1]));
    const before = rate(t.all()).pop()!;
    t.mark();
    t.write('+');
    await waitFor(() => rate(t.since()).some((r) => r > before), `a rate above ${before}/min`, t);

    // When space is pressed, PAUSED shows
    t.mark();
    t.write(' ');
    await waitFor(() => /PAUSED/.test(t.since()), 'PAUSED', t);
    // Keys typed faster than a frame arrive as one chunk, which Ink reads as one string: like a
    // person, wait for the screen to answer each key before the next.
    t.mark();
    t.write(' ');
    const headers = (s: string): string[] => s.split(/\r?\n/).filter((l) => /^storesim {2}\d{4}-/.test(l));
    await waitFor(() => headers(t.since()).some((h) => !h.includes('PAUSED')), 'PAUSED to clear', t);

    // When f then 1 (schema) is pressed, the fault shows active
    t.mark();
    t.write('f');
    await waitFor(() => /data: extra bad messages/.test(t.since()), 'the faults menu', t);
    t.mark();
    t.write('1');
    await waitFor(() => /● schema/.test(t.since()), 'schema active', t);
    t.mark();
    t.write('\u001b'); // esc closes the menu
    await waitFor(() => /KPIs/.test(t.since()), 'the menu to close', t);

    // When q is pressed, the run drains, the summary is printed and the process exits 0
    t.mark();
    t.write('q');
    const code = await t.exited;
    // The summary is the last line; the terminal wraps it at 80 columns.
    const flat = t.since().replace(/\r?\n/g, '');
    const at = flat.lastIndexOf('{"type":"summary"');
    expect(at, t.since().slice(-2000)).toBeGreaterThanOrEqual(0);
    const s = JSON.parse(flat.slice(at, flat.lastIndexOf('}') + 1)) as { verify: { ok: boolean }; produced: number; rejected_by_code: Record<string, number> };
    expect(s.produced).toBeGreaterThan(0);
    expect(s.verify.ok).toBe(true);
    // Before it, the same in words for the person at the terminal, and where to see more.
    const words = flat.slice(0, at);
    expect(words).toMatch(/verify {4}ok: lost 0, duplicated 0, mismatched 0/);
    expect(words).toContain(`${s.produced.toLocaleString('en-US')} produced`);
    expect(words).toMatch(/more {6}storesim report --run [0-9a-f-]{36}/);
    expect(code).toBe(0);
  }, 300_000);
});
