/**
 * Replays an engine from its seed, configuration and command log (DESIGN.md, Determinism): the same
 * inputs give the same messages. Used by `simulate`, `verify` and `run --resume`.
 * Pause and resume never change the stream (the simulated clock stops with the engine), so a replay
 * skips them; every other command is applied at the engine step where it took effect.
 */
import type { Engine, EngineCommand, EngineMessage } from '../engine/types.js';
import type { CommandLogEntry } from '../db/types.js';

export interface ReplayOptions {
  commands: readonly CommandLogEntry[];
  /** Stop after this many raw events in all (engine.produced). */
  maxEvents: number;
  /** Stop at this simulated time. */
  untilMs: number;
  emit: (m: EngineMessage) => void;
  /** Called between chunks (e.g. to flush output); may be async. */
  afterChunk?: () => Promise<void> | void;
  /** Raw events per chunk (default 50 000). */
  chunk?: number;
}

const STREAM_COMMANDS = new Set(['set_rate', 'set_fault']);

export function isStreamCommand(c: Record<string, unknown>): boolean {
  return typeof c.type === 'string' && STREAM_COMMANDS.has(c.type);
}

/** The commands of a log that change the stream, in the order of the steps where they took effect. */
export function streamCommandsInOrder(log: readonly CommandLogEntry[]): CommandLogEntry[] {
  return log.filter((c) => isStreamCommand(c.command)).sort((a, b) => a.step - b.step);
}

export async function replayEngine(engine: Engine, opts: ReplayOptions): Promise<void> {
  const chunk = opts.chunk ?? 50_000;
  const commands = streamCommandsInOrder(opts.commands);
  let next = 0;
  for (;;) {
    const remaining = opts.maxEvents - engine.produced;
    if (remaining <= 0) break;
    const cmd = commands[next];
    const stopAtStep = cmd ? cmd.step : Number.POSITIVE_INFINITY;
    if (cmd && engine.step >= stopAtStep) {
      engine.apply(cmd.command as unknown as EngineCommand);
      next++;
      continue;
    }
    const before = engine.step;
    // Stop where the command was logged: at its step, with the clock where the live run had it.
    const until = cmd ? Math.min(cmd.sim_ms, opts.untilMs) : opts.untilMs;
    engine.run(until, Math.min(remaining, chunk), opts.emit, stopAtStep);
    if (opts.afterChunk) await opts.afterChunk();
    if (engine.step === before) break; // nothing left before untilMs
  }
}
