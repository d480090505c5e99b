/**
 * Acceptance ("Real Kafka and PostgreSQL"), bad input: an unreachable broker, bad database URLs and
 * a topic creation the broker refuses each get one clear line that names the problem and the fix,
 * and the documented exit code (DESIGN.md, Headless, clocks and exit codes: 2 usage or
 * configuration, 3 a service unreachable, 4 a service refused: authentication, permission, topic
 * creation). Nothing is written for a run that could not start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, stderrLines, type CliResult } from './cli-helpers.js';
import { KAFKA_BROKERS, PG_ADMIN_URL, createTestDatabase, kafkaClient, uniquePrefix, type TestPgDatabase } from './kafka-helpers.js';

const RUN = ['run', '--headless', '--seed', '1', '--events', '100'];

/** The PostgreSQL server of the tests, with another user, port or database. */
function pgUrl(change: (u: URL) => void): string {
  const u = new URL(PG_ADMIN_URL);
  change(u);
  return u.toString();
}

function expectOneLine(r: CliResult, code: number, pattern: RegExp): string {
  const lines = stderrLines(r);
  expect({ code: r.code, lines }).toMatchObject({ code, lines: [expect.stringMatching(pattern)] });
  expect(lines[0]).toMatch(/^storesim: /);
  expect(r.stdout).toBe(''); // no summary, no progress: the run never started
  return lines[0]!;
}

describe('bad input through Kafka and PostgreSQL', () => {
  let db: TestPgDatabase;
  /** `storesim run --help`: a fix that names a flag names one of these. */
  let runHelp = '';

  beforeAll(async () => {
    db = await createTestDatabase('badinput');
    runHelp = (await runCli(['run', '--help'])).stdout;
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function runsOn(prefix: string): Promise<number> {
    const has = await db.query<{ t: string | null }>(`SELECT to_regclass('runs')::text AS t`);
    if (!has[0]?.t) return 0;
    return Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM runs WHERE topic_prefix = $1', [prefix]))[0]!.n);
  }

  it('broker unreachable at start: one line within 10 s, exit 3', async () => {
    const prefix = uniquePrefix('nobroker');
    const t0 = Date.now();
    const r = await runCli([...RUN, '--kafka', '127.0.0.1:1', '--topic-prefix', prefix, '--database-url', db.url], { timeoutMs: 60_000 });
    const elapsed = Date.now() - t0;
    const line = expectOneLine(r, 3, /Kafka at 127\.0\.0\.1:1 .*(unreachable|did not answer).*npm run kafka:start.*KAFKA_BROKERS/);
    expect(elapsed, `exited after ${elapsed} ms: ${line}`).toBeLessThan(10_000);
    expect(await runsOn(prefix)).toBe(0);
    console.log(`unreachable broker: exit 3 after ${elapsed} ms: ${line}`);
  }, 70_000);

  it('a process without the engine role fails the same way (it does not wait for a signal)', async () => {
    const t0 = Date.now();
    const r = await runCli(['run', '--headless', '--role', 'processor', '--role', 'sink', '--kafka', '127.0.0.1:1', '--topic-prefix', uniquePrefix('nobroker'), '--database-url', db.url], { timeoutMs: 60_000 });
    expectOneLine(r, 3, /Kafka at 127\.0\.0\.1:1 .*(unreachable|did not answer)/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 70_000);

  describe('bad DATABASE_URL', () => {
    const cases: Array<{ what: string; url: () => string; code: number; line: RegExp; env?: boolean }> = [
      {
        what: 'malformed (a port that is not a number) → 2',
        url: () => 'postgres://postgres@127.0.0.1:notaport/test',
        code: 2,
        line: /malformed database URL postgres:\/\/postgres@127\.0\.0\.1:notaport\/test \(expected postgres:\/\/user:password@host:5432\/database\)/,
      },
      {
        what: 'unreachable (nothing listens on the port) → 3',
        url: () => pgUrl((u) => { u.port = '1'; u.pathname = `/${db.name}`; }),
        code: 3,
        line: /cannot reach PostgreSQL at .*:1\/.*connection refused.*(start PostgreSQL|DATABASE_URL)/,
      },
      {
        what: 'unknown database → 2, with the fix (createdb)',
        url: () => pgUrl((u) => { u.pathname = '/storesim_it_no_such_database'; }),
        code: 2,
        line: /database "storesim_it_no_such_database" does not exist \(create it with createdb, or fix the database name in DATABASE_URL/,
      },
      {
        // A trust-auth server still refuses a role that does not exist (SQLSTATE 28000): an authentication failure.
        what: 'failed authentication (a role that does not exist) → 4',
        url: () => pgUrl((u) => { u.username = 'storesim_it_no_such_role'; u.password = 's3cret-pw'; u.pathname = `/${db.name}`; }),
        code: 4,
        line: /refused the connection: role "storesim_it_no_such_role" does not exist \(fix the user or password in DATABASE_URL/,
      },
      {
        what: 'failed authentication given as DATABASE_URL in the environment → 4, password masked',
        url: () => pgUrl((u) => { u.username = 'storesim_it_no_such_role'; u.password = 's3cret-pw'; u.pathname = `/${db.name}`; }),
        code: 4,
        line: /refused the connection: role "storesim_it_no_such_role" does not exist/,
        env: true,
      },
    ];

    it.each(cases)('$what', async ({ url, code, line, env }) => {
      const prefix = uniquePrefix('baddb');
      const args = [...RUN, '--kafka', KAFKA_BROKERS, '--topic-prefix', prefix];
      const r = env
        ? await runCli(args, { env: { DATABASE_URL: url() }, timeoutMs: 60_000 })
        : await runCli([...args, '--database-url', url()], { timeoutMs: 60_000 });
      const printed = expectOneLine(r, code, line);
      expect(printed).not.toContain('s3cret-pw');
      // The fix it names can be typed: every flag in the line is one `storesim run` takes.
      for (const flag of printed.match(/ --[a-z][a-z-]*/g) ?? []) expect(runHelp).toContain(`${flag.trim()} `);
      // the database is checked before Kafka: no topic was created for this prefix
      const admin = kafkaClient().admin();
      await admin.connect();
      try {
        expect((await admin.listTopics()).filter((t) => t.startsWith(prefix))).toEqual([]);
      } finally {
        await admin.disconnect();
      }
    }, 70_000);
  });

  it('topic creation refused (replication factor 3 on a 1-broker cluster) → 4, no topic created', async () => {
    const prefix = uniquePrefix('rf3');
    const r = await runCli([...RUN, '--kafka', KAFKA_BROKERS, '--topic-prefix', prefix, '--database-url', db.url, '--replication-factor', '3'], { timeoutMs: 60_000 });
    expectOneLine(r, 4, /Kafka at .* refused creating topics .*foot_traffic.*Replication-factor is invalid.*--no-create-topics/);
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      expect((await admin.listTopics()).filter((t) => t.startsWith(prefix))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
    expect(await runsOn(prefix)).toBe(0);
  }, 70_000);
});
