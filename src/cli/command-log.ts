/** Reads a command log file (`simulate --commands FILE`): a JSON array of {step, sim_ms, command}. */
import { readFileSync } from 'node:fs';
import type { CommandLogEntry } from '../db/types.js';
import { UserError } from './errors.js';

export function readCommandLog(path: string): CommandLogEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`--commands: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UserError(`--commands: ${path} is not JSON (expected an array of {step, sim_ms, command})`);
  }
  const list = Array.isArray(data) ? data : (data as { command_log?: unknown }).command_log;
  if (!Array.isArray(list)) throw new UserError(`--commands: ${path} must hold a JSON array of {step, sim_ms, command}`);
  return list.map((e: unknown, i: number) => {
    const x = e as Partial<CommandLogEntry>;
    if (typeof x.step !== 'number' || typeof x.sim_ms !== 'number' || typeof x.command !== 'object' || x.command === null) {
      throw new UserError(`--commands: ${path}[${i}] needs numeric step and sim_ms and a command object`);
    }
    return { step: x.step, sim_ms: x.sim_ms, command: x.command };
  });
}
