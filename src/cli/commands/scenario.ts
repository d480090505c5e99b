/**
 * `storesim scenario validate FILE…` and `storesim scenario list` (format: docs/scenarios.md).
 *
 * validate prints `ok FILE` for a good file and `FILE: path: message` for every problem of a bad
 * one, all on stdout, and ends with exit code 2 when any file has a problem (DESIGN.md: a bad
 * scenario is a usage error). The code is handed back through `setExitCode`: nothing is thrown
 * after the problems are printed, so the top-level handler does not print them a second time.
 */
import type { Argv, CommandModule } from 'yargs';
import { EXIT, UserError } from '../errors.js';
import { bundledScenariosDir, checkScenarioFile, listBundledScenarios, scenarioProblemLines, type BundledScenario } from '../scenario.js';

export interface ScenarioCommandOptions {
  /** Receives the command's exit code (0, or 2 when validate found problems). */
  setExitCode(code: number): void;
  /** Where output goes (default: stdout). */
  write?: (s: string) => void;
  /** Width for `list` (default: the terminal's, at most 80; 80 when not a terminal). */
  columns?: number;
  /** Folder of bundled scenarios (default: fixtures/scenarios). */
  dir?: string;
}

type ScenarioArgs = { action: string; files?: string[] };

export const SCENARIO_ACTIONS = ['validate', 'list'] as const;

/** The yargs command module: `.command(scenarioCommand({ setExitCode: (c) => { exitCode = c; } }))`. */
export function scenarioCommand(opts: ScenarioCommandOptions): CommandModule<object, ScenarioArgs> {
  return {
    command: 'scenario <action> [files..]',
    describe: 'Fault scenarios: validate FILE… (every problem, exit 2 on any) | list (the bundled ones)',
    builder: (y: Argv<object>) =>
      y
        .positional('action', { choices: SCENARIO_ACTIONS, describe: 'validate | list', demandOption: true })
        .positional('files', { type: 'string', array: true, describe: 'Scenario files or bundled names (validate)' })
        .example('$0 scenario validate my.json', 'Check a file; prints every problem with its JSON path')
        .example('$0 scenario list', 'The bundled scenarios and what each should show')
        .example('$0 run --scenario black-friday', 'Play one'),
    handler: (a) => {
      const write = opts.write ?? ((s: string) => { process.stdout.write(s); });
      const columns = opts.columns ?? Math.min(80, process.stdout.columns || 80);
      opts.setExitCode(runScenarioAction(a.action, a.files ?? [], { write, columns, dir: opts.dir ?? bundledScenariosDir() }));
    },
  };
}

/** Runs an action, writes its output, returns the exit code. Throws UserError for a misused command. */
export function runScenarioAction(action: string, files: readonly string[], io: { write: (s: string) => void; columns: number; dir: string }): number {
  if (action === 'list') {
    if (files.length > 0) throw new UserError(`scenario list takes no files (to check files: storesim scenario validate ${files.join(' ')})`);
    io.write(formatScenarioList(listBundledScenarios(io.dir), io.columns));
    return EXIT.ok;
  }
  if (action === 'validate') {
    if (files.length === 0) throw new UserError('scenario validate needs at least one FILE or bundled name (e.g. storesim scenario validate my-scenario.json)');
    let bad = false;
    for (const file of files) {
      const result = checkScenarioFile(file, io.dir);
      if ('scenario' in result) {
        io.write(`ok ${file}\n`);
      } else {
        bad = true;
        for (const line of scenarioProblemLines(file, result.problems)) io.write(`${line}\n`);
      }
    }
    return bad ? EXIT.usage : EXIT.ok;
  }
  throw new UserError(`scenario: unknown action "${action}" (known: ${SCENARIO_ACTIONS.join(', ')})`);
}

/** Greedy word wrap; a word longer than the width is cut. */
export function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/\s+/).filter(Boolean)) {
    while (word.length > width) {
      if (line) { lines.push(line); line = ''; }
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else { lines.push(line); line = word; }
  }
  if (line) lines.push(line);
  return lines.length > 0 ? lines : [''];
}

/** Names in one column, description and `expect:` wrapped beside them; no line wider than `columns`. */
export function formatScenarioList(scenarios: readonly BundledScenario[], columns = 80): string {
  if (scenarios.length === 0) return 'No bundled scenarios.\n';
  const nameWidth = Math.min(Math.max(...scenarios.map((s) => s.name.length)), Math.floor(columns / 3)) + 2;
  const textWidth = Math.max(20, columns - nameWidth);
  const out: string[] = [];
  for (const s of scenarios) {
    const body = [...wrapText(s.description, textWidth), ...(s.expect ? wrapText(`expect: ${s.expect}`, textWidth) : [])];
    const names = wrapText(s.name, nameWidth - 2);
    body.forEach((line, i) => out.push(`${(names[i] ?? '').padEnd(nameWidth)}${line}`.trimEnd()));
    for (let i = body.length; i < names.length; i++) out.push(names[i]!);
    out.push('');
  }
  out.push('Play one:     storesim run --scenario NAME (or a file path)', 'Check a file: storesim scenario validate FILE…');
  return `${out.map((l) => (l.length > columns ? wrapText(l, columns).join('\n') : l)).join('\n')}\n`;
}
