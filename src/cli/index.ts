#!/usr/bin/env node
/**
 * The storesim command line. Parses flags (yargs), hands a checked configuration to the composition
 * root (src/main.ts), and maps every failure to one line and a documented exit code (errors.ts).
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import type { Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { EXIT, UserError, reportError } from './errors.js';
import { loadFixtures } from './load-fixtures.js';
import { resolveDb, resolveEngineConfig, resolveRunConfig } from './config.js';
import { checkNumber, parseDuration } from './parse.js';
import { simulate } from './simulate.js';
import { readCommandLog } from './command-log.js';
import { scenarioCommand } from './commands/scenario.js';
import { loadScenario } from './scenario.js';
import { reportCommand } from './commands/report.js';
import { runsCommand } from './commands/runs.js';
import { exportCommand } from './commands/export.js';
import { warehouseCommand } from './commands/warehouse.js';
import { kafkaCommand } from './commands/kafka.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function engineOptions<T>(y: Argv<T>) {
  return y
    .option('seed', { type: 'number', describe: 'Random seed (default: picked and printed on stderr)' })
    .option('layout', { type: 'string', describe: 'Store layout from fixtures/layouts', defaultDescription: 'corner-shop' })
    .option('rate', { type: 'number', describe: 'Customer arrivals per simulated minute at peak' })
    .option('faults', { type: 'string', describe: 'Data-fault rates, e.g. schema=0.01,late=0.005,duplicate=0.01 (all=R sets every one)' })
    .option('start', { type: 'string', describe: 'Simulated start (ISO-8601) or "now"', defaultDescription: '2026-11-23T08:00:00Z' })
    .option('traffic-curve', { choices: ['flat', 'opening-hours'] as const, describe: 'Arrival-rate curve over the day' })
    .option('queue', { choices: ['shortest', 'shared'] as const, describe: 'Checkout queue discipline' })
    .option('grace', { type: 'string', describe: 'Event-time grace window (e.g. 30s)' })
    .option('max-session-age-sec', { type: 'number', describe: 'Longest a visit may last, simulated seconds (MAX_SESSION_AGE_SEC)' })
    .option('force-checkout-if-empty', { type: 'boolean', describe: 'A visit that leaves empty still yields an empty transaction (FORCE_CHECKOUT_IF_EMPTY)' });
}

function dbOptions<T>(y: Argv<T>) {
  return y
    .option('sqlite', { type: 'string', describe: 'SQLite database file', defaultDescription: './storesim.db' })
    .option('database-url', { type: 'string', describe: 'postgres://user:pass@host:5432/db (DATABASE_URL)' });
}

function kafkaOptions<T>(y: Argv<T>) {
  return y
    .option('kafka', { type: 'string', describe: 'Kafka bootstrap servers HOST:PORT[,…] (KAFKA_BROKERS); none = in-process bus' })
    .option('topic-prefix', { type: 'string', describe: 'Prefix for every topic and consumer group id' })
    .option('partitions', { type: 'number', describe: 'Partitions per topic', default: 6 })
    .option('replication-factor', { type: 'number', describe: 'Replication factor of created topics', default: 1 })
    .option('create-topics', { type: 'boolean', describe: 'Create missing topics (--no-create-topics when you manage them)', default: true })
    .option('compression', { type: 'string', describe: 'Compression of produced batches: none | gzip (KAFKA_COMPRESSION)', defaultDescription: 'none' })
    .option('ssl', { type: 'boolean', describe: 'TLS to the brokers' })
    .option('sasl-mechanism', { type: 'string', describe: 'plain | scram-sha-256 | scram-sha-512' })
    .option('sasl-username', { type: 'string', describe: 'SASL user (KAFKA_SASL_USERNAME)' })
    .option('sasl-password', { type: 'string', describe: 'SASL password (prefer KAFKA_SASL_PASSWORD; never printed)' });
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = EXIT.ok;
  const cli = yargs(argv)
    .scriptName('storesim')
    .usage('$0 <command> [options]\n\nA simulated retail store streaming through Kafka into PostgreSQL or SQLite.')
    .version(pkg.version)
    .strict()
    .recommendCommands()
    .demandCommand(1, 'Name a command: run, simulate, verify, report, runs, export, warehouse, scenario, kafka or db (see storesim --help).')
    .wrap(Math.min(100, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new UserError(`${msg} (see storesim --help)`);
    })
    .command('simulate', 'Write the raw event stream as JSON lines, with no bus, as fast as possible', (y) =>
      engineOptions(y)
        .option('events', { type: 'number', describe: 'Stop after N raw messages' })
        .option('sim-hours', { type: 'number', describe: 'Stop after H simulated hours' })
        .option('out', { type: 'string', describe: 'Write to FILE instead of stdout' })
        .option('stats', { type: 'boolean', describe: 'Print one JSON object of statistics instead of the events' })
        .option('commands', { type: 'string', describe: 'Replay a command log (JSON array, as recorded in runs)' }),
    async (a) => {
      const fixtures = loadFixtures(process.env.STORESIM_FIXTURES || undefined);
      const config = resolveEngineConfig(a as Record<string, unknown>, process.env, fixtures);
      if (a.seed === undefined) process.stderr.write(`storesim: seed ${config.seed}\n`);
      if (a.events === undefined && a['sim-hours'] === undefined) {
        throw new UserError('simulate needs an end: --events N or --sim-hours H');
      }
      const events = a.events === undefined ? undefined : checkNumber(a.events, '--events', { min: 1, integer: true });
      const hours = a['sim-hours'] === undefined ? undefined : checkNumber(a['sim-hours'], '--sim-hours', { min: 0 });
      await simulate({
        config, fixtures, events,
        untilMs: hours === undefined ? undefined : config.startMs + hours * 3_600_000,
        commands: a.commands ? readCommandLog(a.commands) : [],
        out: a.out, stats: a.stats,
      });
    })
    .command('run', 'Run the store and its pipeline (dashboard in a terminal, JSON lines otherwise)', (y) =>
      kafkaOptions(dbOptions(engineOptions(y)))
        .option('events', { type: 'number', describe: 'Stop the engine after N raw messages, drain, verify, exit' })
        .option('duration', { type: 'string', describe: 'Stop after this wall-clock time (e.g. 30s, 5m)' })
        .option('warp', { type: 'string', describe: 'Simulated time per wall time (e.g. 20) or max' })
        .option('eps', { type: 'number', describe: 'Pace the engine at N raw messages per wall second' })
        .option('headless', { type: 'boolean', describe: 'No dashboard: JSON lines and a summary' })
        .option('tui', { choices: ['auto', 'on', 'off'] as const, default: 'auto', describe: 'Dashboard: auto = on for a terminal' })
        .option('interval', { type: 'string', describe: 'Headless progress line interval', default: '1s' })
        .option('role', { type: 'string', array: true, describe: 'Run only these roles: engine, processor, sink, ui (repeatable)' })
        .option('resume', { type: 'string', describe: 'Resume a run that crashed, by run id' })
        .option('drain-timeout', { type: 'string', describe: 'Give up draining after this long without progress', default: '30s' })
        .option('scenario', { type: 'string', describe: 'Play a scenario: a bundled name (storesim scenario list) or a JSON file' })
        .option('time-scale', { type: 'number', describe: 'Multiply every wall-clock duration of the scenario (infrastructure faults), e.g. 0.1', default: 1 }),
    async (a) => {
      const fixtures = loadFixtures(process.env.STORESIM_FIXTURES || undefined);
      // Checked before anything starts: every problem on one line, exit 2.
      const scenario = a.scenario === undefined ? undefined : loadScenario(a.scenario);
      const config = resolveRunConfig({ ...(a as Record<string, unknown>), scenario, stdoutIsTTY: Boolean(process.stdout.isTTY) }, process.env, fixtures);
      const { startRun } = await import('../main.js');
      exitCode = await startRun(config, fixtures);
    })
    .command('verify', 'Check a run against a replay of its engine: lost, duplicated, mismatched', (y) =>
      dbOptions(y)
        .option('run', { type: 'string', demandOption: true, describe: 'Run id' })
        .option('json', { type: 'boolean', describe: 'Print JSON' }),
    async (a) => {
      const fixtures = loadFixtures(process.env.STORESIM_FIXTURES || undefined);
      const { verifyCommand } = await import('../main.js');
      exitCode = await verifyCommand({ runId: a.run, json: Boolean(a.json), db: resolveDb(a, process.env), fixtures });
    })
    .command('db <action>', 'Database maintenance: reset (drop every storesim table and migrate)', (y) =>
      dbOptions(y).positional('action', { choices: ['reset', 'migrate'] as const, describe: 'reset | migrate' }),
    async (a) => {
      const { dbCommand } = await import('../main.js');
      await dbCommand(a.action as 'reset' | 'migrate', resolveDb(a, process.env));
    })
    .command(scenarioCommand({ setExitCode: (code) => { exitCode = code; } }))
    .command(reportCommand.command, reportCommand.describe, (y) => dbOptions(reportCommand.builder(y)), async (a) => { exitCode = await reportCommand.handler(a); })
    .command(runsCommand.command, runsCommand.describe, (y) => dbOptions(runsCommand.builder(y)), async (a) => { exitCode = await runsCommand.handler(a); })
    .command(exportCommand.command, exportCommand.describe, (y) => dbOptions(exportCommand.builder(y)), async (a) => { exitCode = await exportCommand.handler(a); })
    .command(warehouseCommand.command, warehouseCommand.describe, (y) => dbOptions(warehouseCommand.builder(y)), async (a) => { exitCode = await warehouseCommand.handler(a); })
    .command(kafkaCommand.command, kafkaCommand.describe, kafkaCommand.builder, async (a) => { exitCode = await kafkaCommand.handler(a); })
    .epilogue('Exit codes: 0 ok, 1 verification failed, 2 usage or configuration error, 3 a service unreachable, 4 a service refused, 70 internal error, 130 forced stop.');
  await cli.parseAsync();
  return exitCode;
}

export function durationFlag(v: string): number {
  return parseDuration(v, '--duration');
}

// React and Ink ship development builds that check every render: the dashboard runs the production ones.
process.env.NODE_ENV ??= 'production';

const isEntry = process.argv[1] !== undefined && /(?:^|[/\\])(?:index\.(?:ts|js)|storesim(?:\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  main(hideBin(process.argv)).then(
    (code) => { process.exitCode = code; },
    (err: unknown) => { process.exitCode = reportError(err); },
  );
}
