/**
 * `storesim kafka topics | reset`: what a topic prefix holds on a broker, and clearing it
 * (docs/kafka.md, Topics and consumer groups).
 *
 * - `topics [--prefix P]`: the prefix's topics (every non-internal topic without one), partitions,
 *   end offsets, and the lag of every consumer group that reads them (high watermark − committed).
 *   No topic with the prefix: one line saying so, exit 0 (an empty listing is an answer).
 * - `reset --prefix P [--yes]`: deletes the prefix's consumer groups, then its topics, after a
 *   confirmation on a terminal. No terminal and no --yes, an empty prefix without `--all --yes`, a
 *   prefix that matches nothing, a group with members (a run still uses the prefix): one line,
 *   exit 2, nothing deleted.
 * - No broker within 5 s: exit 3; the broker refuses (authorization, topic deletion disabled): 4.
 */
import type { Argv } from 'yargs';
import { resolveKafka } from '../config.js';
import { EXIT, UserError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import { count, table, WIDTH } from '../../report/render.js';
import {
  KafkaGroupsInUseError, connectKafkaAdmin, describeTopics, executeReset, isTopicVanished, planReset,
  type GroupState, type KafkaAdminSession, type ResetPlan, type Selection, type TopicsView,
} from '../../kafka/admin.js';
import { processIo } from './shared.js';
import type { CommandIo } from './shared.js';

export interface KafkaArgs {
  action?: string;
  prefix?: string;
  all?: boolean;
  yes?: boolean;
  format?: string;
  kafka?: string;
  ssl?: boolean;
  'sasl-mechanism'?: string;
  'sasl-username'?: string;
  'sasl-password'?: string;
}

const ACTIONS = ['topics', 'reset'] as const;

export function kafkaBuilder<T>(y: Argv<T>) {
  return y
    .positional('action', { type: 'string', describe: 'topics | reset' })
    .option('prefix', { type: 'string', alias: 'topic-prefix', describe: 'Topic prefix (as run --topic-prefix; STORESIM_TOPIC_PREFIX)' })
    .option('all', { type: 'boolean', describe: 'reset: every non-internal topic and every consumer group (needs --yes)' })
    .option('yes', { type: 'boolean', describe: 'reset without asking' })
    .option('format', { choices: ['table', 'json'] as const, default: 'table', describe: 'Output' })
    .option('kafka', { type: 'string', describe: 'Kafka bootstrap servers HOST:PORT[,…] (KAFKA_BROKERS)' })
    .option('ssl', { type: 'boolean', describe: 'TLS to the brokers' })
    .option('sasl-mechanism', { type: 'string', describe: 'plain | scram-sha-256 | scram-sha-512' })
    .option('sasl-username', { type: 'string', describe: 'SASL user (KAFKA_SASL_USERNAME)' })
    .option('sasl-password', { type: 'string', describe: 'SASL password (prefer KAFKA_SASL_PASSWORD; never printed)' });
}

/** How to list what a broker holds, for the lines that point there. */
function listHint(brokers: string, prefix?: string): string {
  return `storesim kafka topics --kafka ${brokers}${prefix ? ` --prefix ${prefix}` : ''}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** Shortens `s` to `width` with an ellipsis in the middle (both ends of a topic name say something). */
export function fit(s: string, width: number): string {
  if (s.length <= width) return s;
  if (width <= 1) return s.slice(0, width);
  const head = Math.ceil((width - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - (width - 1 - head))}`;
}

const plain = { bold: (s: string) => s, dim: (s: string) => s, bar: (s: string) => s };

/**
 * The topics as an aligned table that fits `width` columns: a row per topic, and under it an
 * indented row per consumer group that reads it, with the group's lag. With a prefix, names are
 * shown without it (the title says which); a name still too long loses its middle.
 */
export function renderTopicsTable(view: TopicsView, opts: { brokers: string; prefix: string | null; width?: number }): string {
  const width = opts.width ?? WIDTH;
  const strip = (name: string): string => (opts.prefix && name.startsWith(opts.prefix) && name.length > opts.prefix.length ? name.slice(opts.prefix.length) : name);
  const rows: string[][] = [];
  for (const t of view.topics) {
    rows.push([strip(t.topic), String(t.partitions.length), count(t.endOffset), '']);
    for (const g of t.groups) rows.push([`  ${strip(g.group)}`, '', '', g.lag === null ? '-' : count(g.lag)]);
  }
  const headers = ['topic / consumer group', 'partitions', 'end offset', 'lag'];
  const need = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const nameW = Math.max(headers[0]!.length, width - 2 * (headers.length - 1) - need[1]! - need[2]! - need[3]!);
  const cut = rows.map((r) => [r[0]!.startsWith('  ') ? `  ${fit(r[0]!.slice(2), nameW - 2)}` : fit(r[0]!, nameW), r[1]!, r[2]!, r[3]!]);
  let title = `${plural(view.topics.length, 'topic')}${opts.prefix ? ` with prefix ${opts.prefix}` : ''} on kafka ${opts.brokers}`;
  if (opts.prefix && title.length + 25 <= width) title += ' (names below without it)';
  const lines = [fit(title, width), ...table(headers, cut, [false, true, true, true], plain)];
  return lines.join('\n') + '\n';
}

/** The JSON document of `kafka topics --format json` (snake_case, as the summary). */
export function topicsJson(view: TopicsView, opts: { brokers: string; prefix: string | null }): unknown {
  return {
    brokers: opts.brokers,
    prefix: opts.prefix,
    topics: view.topics.map((t) => ({
      topic: t.topic,
      partitions: t.partitions.length,
      end_offset: t.endOffset,
      messages: t.messages,
      offsets: t.partitions,
      groups: t.groups.map((g) => ({ group: g.group, state: g.state, members: g.members, lag: g.lag, partitions: g.partitions })),
    })),
    groups: view.groups,
  };
}

function inUseLine(groups: GroupState[], sel: Selection): string {
  const what = groups.map((g) => `${g.group} (${plural(g.members, 'member')})`).join(', ');
  const whose = 'all' in sel ? 'a run is still using them' : `a run is still using prefix ${sel.prefix}`;
  return `kafka reset: consumer ${groups.length === 1 ? 'group' : 'groups'} ${what} still ${groups.length === 1 ? 'has' : 'have'} members: ${whose} (stop it first: q or Ctrl-C, SIGTERM for --role processes); nothing deleted`;
}

function planLines(plan: ResetPlan): string {
  const lines = [`${plural(plan.topics.length, 'topic')}:`, ...plan.topics.map((t) => `  ${t}`)];
  lines.push(`${plural(plan.groups.length, 'consumer group')}:`, ...plan.groups.map((g) => `  ${g.group}`));
  return lines.join('\n') + '\n';
}

async function withAdmin<T>(argv: KafkaArgs, io: CommandIo, fn: (s: KafkaAdminSession) => Promise<T>): Promise<T> {
  const kafka = resolveKafka(argv as Record<string, unknown>, io.env);
  if (!kafka) throw new UserError(`kafka ${argv.action ?? 'topics'} needs a broker: pass --kafka HOST:PORT (e.g. --kafka 127.0.0.1:9092) or set KAFKA_BROKERS`);
  // 5 s: the one-line error comes well within 10 s of the command's start.
  const session = await connectKafkaAdmin({ brokers: kafka.brokers, ssl: kafka.ssl, sasl: kafka.sasl, connectionTimeout: 5_000 });
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

/** Runs one admin step, its kafkajs failures mapped to the exit codes (3 unreachable, 4 refused). */
async function step<T>(s: KafkaAdminSession, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw s.mapError(err, what);
  }
}

class TopicVanished extends Error {}

async function showTopics(s: KafkaAdminSession, sel: Selection, json: boolean, io: CommandIo, mayRetry: boolean): Promise<ExitCode> {
  let view: TopicsView;
  try {
    view = await describeTopics(s.admin, sel);
  } catch (err) {
    if (mayRetry && isTopicVanished(err)) throw new TopicVanished();
    throw s.mapError(err, 'listing topics');
  }
  const prefix = 'prefix' in sel ? sel.prefix : null;
  const opts = { brokers: s.brokers, prefix };
  if (json) io.out(JSON.stringify(topicsJson(view, opts)) + '\n');
  else if (view.topics.length > 0) io.out(renderTopicsTable(view, opts));
  else if (prefix === null) io.out(`no topics on kafka ${s.brokers}\n`);
  else io.out(`no topics with prefix ${prefix} on kafka ${s.brokers} (list every topic with: ${listHint(s.brokers)})\n`);
  return EXIT.ok;
}

export async function kafkaHandler(argv: KafkaArgs, io: CommandIo = processIo()): Promise<ExitCode> {
  const action = argv.action ?? 'topics';
  if (!(ACTIONS as readonly string[]).includes(action)) throw new UserError(`kafka: unknown action "${action}" (known: ${ACTIONS.join(', ')})`);
  const prefix = argv.prefix ?? io.env.STORESIM_TOPIC_PREFIX ?? '';
  const json = argv.format === 'json';

  if (action === 'topics') {
    if (argv.all && prefix !== '') throw new UserError(`kafka topics: --all and --prefix ${prefix} contradict each other (pass one)`);
    const sel: Selection = prefix === '' ? { all: true } : { prefix };
    // A topic deleted while it is being listed leaves kafkajs's metadata broken for that client:
    // list again with a new one.
    for (let attempt = 1; ; attempt++) {
      try {
        return await withAdmin(argv, io, (s) => showTopics(s, sel, json, io, attempt < 3));
      } catch (err) {
        if (!(err instanceof TopicVanished)) throw err;
      }
    }
  }

  // reset: refuse what would delete too much or without consent before connecting.
  if (argv.all) {
    if (prefix !== '') throw new UserError(`kafka reset: --all and --prefix ${prefix} contradict each other (pass one)`);
    if (!argv.yes) throw new UserError('kafka reset --all deletes every topic and consumer group on the broker: pass --all --yes (there is no prompt for it)');
  } else if (prefix === '') {
    throw new UserError('kafka reset needs --prefix P, the topic prefix to clear (list topics with: storesim kafka topics); to delete every topic and consumer group, pass --all --yes');
  }
  if (!argv.yes && !io.confirm) throw new UserError(`kafka reset --prefix ${prefix}: no terminal to confirm on (pass --yes to delete without asking)`);
  const sel: Selection = argv.all ? { all: true } : { prefix };

  return withAdmin(argv, io, async (s) => {
    const plan = await step(s, 'listing topics and consumer groups', () => planReset(s.admin, sel));
    const what = 'all' in sel ? `on kafka ${s.brokers}` : `with prefix ${sel.prefix} on kafka ${s.brokers}`;
    if (plan.topics.length === 0 && plan.groups.length === 0) {
      if ('all' in sel) {
        io.out(json ? JSON.stringify({ brokers: s.brokers, prefix: null, deleted: { topics: [], groups: [] } }) + '\n' : `nothing to delete on kafka ${s.brokers}\n`);
        return EXIT.ok;
      }
      throw new UserError(`kafka reset: no topics or consumer groups with prefix ${sel.prefix} on kafka ${s.brokers} (list them with: ${listHint(s.brokers)})`);
    }
    const busy = plan.groups.filter((g) => g.members > 0);
    if (busy.length > 0) throw new UserError(inUseLine(busy, sel));
    if (!argv.yes) {
      io.out(planLines(plan));
      if (!(await io.confirm!(`Delete ${plural(plan.topics.length, 'topic')} and ${plural(plan.groups.length, 'consumer group')} ${what}?`))) {
        io.out('nothing deleted\n');
        return EXIT.ok;
      }
    }
    try {
      await step(s, 'deleting topics and consumer groups', () => executeReset(s.admin, plan));
    } catch (err) {
      if (err instanceof KafkaGroupsInUseError) throw new UserError(inUseLine(err.groups, sel));
      throw err;
    }
    if (json) {
      io.out(JSON.stringify({ brokers: s.brokers, prefix: 'all' in sel ? null : sel.prefix, deleted: { topics: plan.topics, groups: plan.groups.map((g) => g.group) } }) + '\n');
    } else {
      io.out(`deleted ${plural(plan.topics.length, 'topic')} and ${plural(plan.groups.length, 'consumer group')} ${what}\n`);
    }
    return EXIT.ok;
  });
}

export const kafkaCommand = {
  command: 'kafka <action>',
  describe: 'Topics and consumer groups on the broker: topics (offsets, lag), reset (delete a prefix)',
  builder: kafkaBuilder,
  handler: kafkaHandler,
};
