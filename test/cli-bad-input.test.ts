/**
 * Bad input at the CLI (DESIGN.md, Promises: "Bad input … gets a clear one-line error that names the
 * problem and what to do"; exit codes): unusable SQLite paths, unknown runs, bad flags, and a second
 * run on a prefix whose run is still live (CONTRACT-CASES 20). None of them leaves anything
 * half-written: no `runs` row, no file where there was none, a corrupt file left as it was.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startCli, stderrLines, summaryOf, tempDir, waitFor, withSqlite } from './cli-helpers.js';

const dir = tempDir('bad-input');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const runCount = (path: string): number => withSqlite(path, (db) => Number(db.prepare('SELECT count(*) FROM runs').pluck().get()));

describe('storesim with bad input', () => {
  it('refuses unusable SQLite files with exit 2 and one line naming the path, writing nothing', async () => {
    const missingDir = join(dir, 'no-such-dir', 'x.db');
    const corrupt = join(dir, 'corrupt.db');
    const garbage = Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919 + 13) % 256));
    writeFileSync(corrupt, garbage);

    const [unwritable, corruptRun, corruptVerify] = await Promise.all([
      runCli(['run', '--headless', '--seed', '1', '--events', '100', '--sqlite', missingDir]),
      runCli(['run', '--headless', '--seed', '1', '--events', '100', '--sqlite', corrupt]),
      runCli(['verify', '--run', '01a20000-0000-7000-8000-000000000000', '--sqlite', corrupt]),
    ]);

    expect(unwritable.code, unwritable.stderr).toBe(2);
    expect(stderrLines(unwritable)).toHaveLength(1);
    expect(stderrLines(unwritable)[0]).toContain(missingDir);
    expect(existsSync(join(dir, 'no-such-dir'))).toBe(false);

    for (const r of [corruptRun, corruptVerify]) {
      expect(r.code, r.stderr).toBe(2);
      expect(stderrLines(r)).toHaveLength(1);
      expect(stderrLines(r)[0]).toContain(corrupt);
      expect(r.stdout).toBe('');
    }
    expect(readFileSync(corrupt).equals(garbage)).toBe(true);
  });

  it('refuses bad flags and an unknown run with exit 2 and one line, leaving no runs row', async () => {
    // Given a migrated database with no runs
    const path = join(dir, 'flags.db');
    const migrate = await runCli(['db', 'migrate', '--sqlite', path]);
    expect(migrate.code, migrate.stderr).toBe(0);

    const base = ['run', '--headless', '--seed', '1', '--events', '100', '--sqlite', path];
    const cases: { args: string[]; mentions: string }[] = [
      { args: [...base, '--rate', '-1'], mentions: '--rate' },
      { args: [...base, '--faults', 'bogus=0.1'], mentions: 'bogus' },
      { args: [...base, '--layout', 'nope'], mentions: 'nope' },
      { args: [...base, '--bogus-flag'], mentions: 'bogus-flag' },
      { args: [...base, '--kafka', '127.0.0.1:9092', '--compression', 'snappy'], mentions: '--compression: "snappy" is not none or gzip' },
      { args: [...base, '--role', 'nope'], mentions: '--role: unknown role "nope"' },
      // The dashboard draws the engine's store: alone or beside a processor it would show nothing
      { args: [...base, '--role', 'processor', '--role', 'ui'], mentions: '--role ui: the dashboard draws the engine\'s store, so it runs beside the engine: add --role engine' },
      { args: ['verify', '--run', '01a20000-0000-7000-8000-000000000000', '--sqlite', path], mentions: '01a20000-0000-7000-8000-000000000000' },
    ];
    // When each runs
    const results = await Promise.all(cases.map((c) => runCli(c.args)));
    // Then each exits 2 with one line naming the problem, and nothing was written
    results.forEach((r, i) => {
      const c = cases[i]!;
      expect(r.code, `${c.args.join(' ')}: ${r.stderr}`).toBe(2);
      const lines = stderrLines(r);
      expect(lines, c.args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(/^storesim: /);
      expect(lines[0]).toContain(c.mentions);
      expect(r.stdout).toBe('');
    });
    expect(runCount(path)).toBe(0);
  });

  it('refuses a second run on a prefix whose run is live (case 20), and the first still ends cleanly', async () => {
    const path = join(dir, 'lease.db');
    // Given a run in progress (paced, so it is still live while we look)
    const first = startCli(['run', '--headless', '--seed', '3', '--duration', '20s', '--warp', '20', '--interval', '200ms', '--sqlite', path]);
    try {
      const liveId = await waitFor(() => {
        if (!existsSync(path)) return null;
        try {
          return withSqlite(path, (db) => db.prepare("SELECT run_id FROM runs WHERE status = 'live'").pluck().get() as string | undefined) ?? null;
        } catch {
          return null; // created but not migrated yet
        }
      }, 'the first run to claim the prefix');
      // progress lines mean the pipeline is running
      await waitFor(() => first.stdout().includes('"type":"progress"'), 'a progress line');

      // When a second run starts on the same prefix and database
      const second = await runCli(['run', '--headless', '--seed', '4', '--events', '100', '--sqlite', path]);

      // Then it is refused with one line naming the live run, and it wrote no runs row
      expect(second.code, second.stderr).toBe(2);
      const lines = stderrLines(second);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(liveId);
      expect(second.stdout).toBe('');
      expect(runCount(path)).toBe(1);

      // And the first run, stopped gracefully, drains, verifies and exits 0
      first.child.kill('SIGINT');
      const r = await first.done;
      expect(r.code, r.stderr).toBe(0);
      const s = summaryOf(r);
      expect(s.run_id).toBe(liveId);
      expect(s.verify).toEqual({ ok: true, lost: 0, duplicated: 0, mismatched: 0 });
      expect(s.accepted + s.rejected).toBe(s.produced);
      const verify = await runCli(['verify', '--run', liveId, '--sqlite', path]);
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    } finally {
      if (first.child.exitCode === null) first.child.kill('SIGKILL');
    }
  }, 60_000);
});
