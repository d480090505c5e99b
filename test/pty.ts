/**
 * The CLI in a real pseudo-terminal (node-pty, as Ink tests its own raw-mode behaviour), for the
 * tests that meet the dashboard as a person does: type keys, read the screen, wait for what it shows.
 */
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import * as pty from 'node-pty';

const ROOT = join(import.meta.dirname, '..');

export interface Term {
  /** Everything written since `mark()`, escape sequences removed. */
  since(): string;
  mark(): void;
  /** Everything written, escape sequences removed. */
  all(): string;
  raw(): string;
  write(s: string): void;
  kill(): void;
  exited: Promise<number>;
}

/** Starts the CLI from source (as `npm start` runs it) at 80x24 unless told otherwise. */
export function spawnCli(args: string[], size = { cols: 80, rows: 24 }): Term {
  const p = pty.spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/index.ts'), ...args], {
    name: 'xterm-256color', ...size, cwd: ROOT,
    // Ink draws only the last frame when it thinks it runs in CI (is-in-ci reads CI): a person's terminal is not CI.
    env: { ...process.env, FORCE_COLOR: '1', CI: 'false' } as Record<string, string>,
  });
  let out = '';
  let markAt = 0;
  p.onData((d) => { out += d; });
  const exited = new Promise<number>((resolve) => p.onExit(({ exitCode }) => resolve(exitCode)));
  return {
    since: () => stripVTControlCharacters(out.slice(markAt)),
    mark: () => { markAt = out.length; },
    all: () => stripVTControlCharacters(out),
    raw: () => out,
    write: (s) => p.write(s),
    kill: () => p.kill(),
    exited,
  };
}

/** Waits until the screen satisfies `cond`; on timeout, fails with the screen's tail. */
export async function waitForScreen(cond: () => boolean, what: string, term: Term, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; ${term.raw().length} bytes written; screen tail:\n${term.all().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
