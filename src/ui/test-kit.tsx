/**
 * Helpers for the UI tests: render at a given terminal size, wait by polling (never a fixed sleep),
 * and frames with ANSI stripped and digits normalised.
 */
import { EventEmitter } from 'node:events';
import { stripVTControlCharacters } from 'node:util';
import type { ReactElement } from 'react';
import { render } from 'ink';

export class FakeStdout extends EventEmitter {
  readonly frames: string[] = [];
  isTTY = true;
  constructor(public columns: number, public rows: number) {
    super();
  }
  write = (frame: string): boolean => {
    this.frames.push(frame);
    return true;
  };
  lastFrame = (): string => this.frames[this.frames.length - 1] ?? '';
  resize(columns: number, rows: number): void {
    this.columns = columns;
    this.rows = rows;
    this.emit('resize');
  }
}

export class FakeStdin extends EventEmitter {
  isTTY = true;
  data: string | null = null;
  write = (data: string): void => {
    this.data = data;
    this.emit('readable');
    this.emit('data', data);
  };
  read = (): string | null => {
    const { data } = this;
    this.data = null;
    return data;
  };
  setEncoding(): void {}
  setRawMode(): void {}
  resume(): void {}
  pause(): void {}
  ref(): void {}
  unref(): void {}
}

export interface Rendered {
  stdout: FakeStdout;
  stdin: FakeStdin;
  /** The last frame, ANSI stripped. */
  frame(): string;
  unmount(): void;
}

/** Renders `tree` as Ink would on a `columns` x `rows` terminal (every frame written in full). */
export function renderAt(tree: ReactElement, columns = 80, rows = 24): Rendered {
  const stdout = new FakeStdout(columns, rows);
  const stdin = new FakeStdin();
  const instance = render(tree, {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    debug: true,
    exitOnCtrlC: false,
    patchConsole: false,
  });
  return {
    stdout,
    stdin,
    frame: () => plain(stdout.lastFrame()),
    unmount: () => {
      instance.unmount();
      instance.cleanup();
    },
  };
}

export function plain(frame: string): string {
  return stripVTControlCharacters(frame);
}

/** Digits replaced by `#`, for asserts that do not depend on clocks and counts. */
export function normalise(frame: string): string {
  return plain(frame).replace(/\d/g, '#');
}

/** Polls `check` until it stops throwing (or returns true), up to `timeoutMs`. */
export async function waitFor(check: () => boolean | void, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (check() !== false) return;
      last = new Error('condition still false');
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw last;
    await new Promise((r) => setImmediate(r));
  }
}
