/**
 * The faults menu toggles infrastructure faults, offline too (in-process bus, SQLite): the CLI in a
 * real pseudo-terminal at 80x24 (node-pty), driven by keys. An active fault shows with its time and
 * the backlog it causes; after it ends, its backlog is shown draining; q ends what is still on,
 * drains, and the summary lists every fault. Waits for what the screen shows, never a fixed time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { FaultRecord } from '../src/faults.js';
import { spawnCli, waitForScreen, type Term } from './pty.js';
const dir = mkdtempSync(join(tmpdir(), 'storesim-faults-pty-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const waitFor = waitForScreen;

/** Presses a key and waits for the screen to answer it (keys faster than a frame arrive as one string). */
async function press(t: Term, key: string, shows: RegExp, what: string): Promise<void> {
  t.mark();
  t.write(key);
  await waitFor(() => shows.test(t.since()), what, t);
}

describe('faults menu in a real terminal', () => {
  it('toggles broker_down, db_down and processor_crash on and off; q drains and the summary lists them', async () => {
    const t = spawnCli(['run', '--sqlite', join(dir, 'menu.db'), '--seed', '9', '--tui', 'on', '--warp', '50']);
    try {
      await waitFor(() => /KPIs/.test(t.all()) && /Faults/.test(t.all()), 'the panels', t, 120_000);

      // Given the menu, when a (broker_down) and c (db_down) are pressed, then both show on.
      await press(t, 'f', /infrastructure/, 'the faults menu');
      await press(t, 'a', /● broker_down\s+on/, 'broker_down on');
      await press(t, 'c', /● db_down\s+on/, 'db_down on');
      // Closed, the menu gives way to the active-faults panel: each with its time and backlog.
      await press(t, '\u001b', /KPIs/, 'the menu to close');
      // `● broker_down   00:02 1.2k backlog`: the time it has been on, then the backlog it causes.
      const row = (name: string): RegExp => new RegExp(`● ${name}\\s+00:0[2-9]\\s+[\\d.]+k?`);
      await waitFor(() => row('broker_down').test(t.since()) && row('db_down').test(t.since()), 'time and backlog shown for both', t);

      // When a is pressed again, broker_down ends and its backlog shows draining.
      await press(t, 'f', /infrastructure/, 'the faults menu again');
      await press(t, 'a', /○ broker_down\s+off/, 'broker_down off');
      // e (processor_crash): crashed and restarted at once.
      await press(t, 'e', /processor_crash/, 'processor_crash');
      await press(t, '\u001b', /KPIs/, 'the menu to close again');
      await waitFor(() => /broker_down↓\s+\d\d:\d\d\s+[\d.]+k?/.test(t.since()) || /broker_down: backlog drained/.test(t.since()), 'broker_down draining or drained', t);

      // When q is pressed with db_down still on, the fault ends first, the run drains and verifies.
      t.mark();
      t.write('q');
      const code = await t.exited;
      const flat = t.since().replace(/\r?\n/g, '');
      const at = flat.lastIndexOf('{"type":"summary"');
      expect(at, t.since().slice(-2000)).toBeGreaterThanOrEqual(0);
      const s = JSON.parse(flat.slice(at, flat.lastIndexOf('}') + 1)) as { verify: { ok: boolean }; rejected: number; faults: FaultRecord[] };
      expect(s.verify.ok).toBe(true);
      expect(s.rejected).toBe(0);
      expect(s.faults.map((f) => f.name)).toEqual(['broker_down', 'db_down', 'processor_crash']);
      expect(s.faults.every((f) => f.duration_s !== null)).toBe(true);
      expect(s.faults[0]!.duration_s!).toBeGreaterThan(1.5);
      expect(code).toBe(0);
    } finally {
      t.kill();
    }
  }, 240_000);
});
