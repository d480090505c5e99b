/**
 * npm run bench:kafka — the production path on this machine's real broker and PostgreSQL:
 *   (1) end-to-end raw events/s through Kafka into PostgreSQL, verify ok, with the CPU the run's
 *       process, the broker and PostgreSQL (when on this machine) spent per raw event, and the most
 *       this machine's cores allow at that cost (the design's ceiling here, however well it overlaps);
 *   (2) latency from publish to database commit, p50/p99, with the engine paced at 5,000 raw events/s:
 *       over the whole run, and over the last 10 s at each 5-s progress line once the run is 10 s old
 *       (the steady state, after the start's JIT compilation and first writes);
 *   (3) in the same run, the broker's own ceiling from Kafka's ProducerPerformance (300-byte records,
 *       acks=all) and our publisher's produce rate of 300-byte records as a ratio of it;
 *   (4) the floor under (1): the CPU a raw event costs at the least on this path. The pipeline
 *       produces every raw event at least twice (the raw event, its clean copy) and consumes it at
 *       least twice (the processor, the sink), so it costs at least twice what producing and
 *       consuming one 300-byte message costs storesim and the broker (measured on (3)'s messages),
 *       with the engine, the processor and the database free. This machine's cores over that floor
 *       bound (1) from above;
 *   (5) the floor under (2): the latency of 300-byte messages at 5,000/s through the same two Kafka hops
 *       and a one-statement PostgreSQL write per batch, with nothing else to do (scripts/latency-floor.ts).
 * PostgreSQL is checkpointed before (1), (2) and (5) when the user may (see checkpointPostgres).
 * Env: KAFKA_BROKERS (127.0.0.1:9092), DATABASE_URL (postgres://postgres@127.0.0.1:5432/storesim_bench,
 *      created when missing: the benchmark keeps out of databases tests use), BENCH_EVENTS (100000),
 *      BENCH_PERF_RECORDS (1000000).
 * The machine is shared: its load average is printed first, and CPU per event is the figure that
 * least depends on it. At the end the benchmark deletes its runs from the database and its topics
 * and groups from the broker, so one run does not slow the next (a database and a broker that keep
 * every earlier run's rows and topics made the sink's writes and the latency worse run after run).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { maskUrl } from '../src/db/errors.js';
import { createKafkaBus } from '../src/kafka/kafka-bus.js';
import { partitionForKey } from '../src/kafka/murmur2.js';
import { createPublisher } from '../src/kafka/publisher.js';
import { checkpointPostgres, ensureBenchDatabase, fmt, ROOT, runHeadless } from './bench-run.js';
import { measureLatencyFloor } from './latency-floor.js';

const brokers = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';
const dbUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/storesim_bench';
const EVENTS = Number(process.env.BENCH_EVENTS ?? 100_000);
const PERF_RECORDS = Number(process.env.BENCH_PERF_RECORDS ?? 1_000_000);
const tag = `${Date.now()}-${randomBytes(2).toString('hex')}`;
const t0 = performance.now();

execFileSync('bash', [join(ROOT, 'scripts/kafka-start.sh')], { stdio: 'inherit' });
await ensureBenchDatabase(dbUrl);
const ageS = brokerAgeS();
console.log(`bench:kafka — broker ${brokers}${Number.isFinite(ageS) ? ` (started ${ageS < 120 ? `${Math.round(ageS)} s` : `${fmt(ageS / 60)} min`} ago)` : ''}, database ${maskUrl(dbUrl)};` +
  ` ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

/**
 * A process's CPU seconds from its /proc/PID/stat line: utime + stime, with `reaped` also what it
 * collected from children that exited (cutime + cstime). Clock ticks are 100 a second.
 */
/** The fields of a /proc/PID/stat line after the command name: f[0] is the state, f[19] the start time in ticks. */
const statFields = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

function statCpuS(stat: string, reaped = false): number {
  const f = statFields(stat);
  return (Number(f[11]) + Number(f[12]) + (reaped ? Number(f[13]) + Number(f[14]) : 0)) / 100;
}
const statName = (stat: string): string => stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));

/** The pid of the local broker started by kafka-start.sh, or null when it is not ours. */
function brokerPid(): string | null {
  const pidFile = join(ROOT, '.cache/kafka/kafka.pid');
  if (!existsSync(pidFile)) return null;
  const pid = readFileSync(pidFile, 'utf8').trim();
  return existsSync(`/proc/${pid}/stat`) ? pid : null;
}

/** CPU seconds of the local broker started by kafka-start.sh (NaN when it is not ours). */
function brokerCpuS(): number {
  const pid = brokerPid();
  if (pid === null) return NaN;
  try {
    return statCpuS(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds the local broker's JIT compiler threads (HotSpot's "C1/C2 CompilerThread") have spent:
 * a broker minutes old spends a large share of its CPU compiling, which falls run after run.
 */
function brokerCompileCpuS(): number {
  const pid = brokerPid();
  if (pid === null) return NaN;
  let cpuS = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (!readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').includes('Compiler')) continue;
      cpuS += statCpuS(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
    } catch {
      // the thread ended meanwhile
    }
  }
  return cpuS;
}

/** How long ago the local broker started, in seconds (NaN when it is not ours). */
function brokerAgeS(): number {
  const pid = brokerPid();
  if (pid === null) return NaN;
  try {
    const startTicks = Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[19]);
    const uptimeS = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    return uptimeS - startTicks / 100;
  } catch {
    return NaN;
  }
}

/**
 * CPU seconds of the local PostgreSQL server (NaN when the database is not on this machine): every
 * `postgres` process's own, plus what the postmaster reaped from backends that have exited (a run's
 * connections close before this is read again).
 */
function postgresCpuS(): number {
  if (!/^(127\.0\.0\.1|localhost|\[::1\])$/.test(new URL(dbUrl).hostname)) return NaN;
  let cpuS = 0;
  let found = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (statName(stat) !== 'postgres') continue;
    found = true;
    cpuS += statCpuS(stat, true);
  }
  return found ? cpuS : NaN;
}
/** ` (N % of it compiling)`: the broker's JIT compiler threads' share of its CPU, when known. */
const jitShare = (jitS: number, brokerS: number): string =>
  (Number.isFinite(jitS) && brokerS > 0 ? ` (${Math.round((100 * jitS) / brokerS)} % of it JIT compiling)` : '');
const perEventUs = (cpuS: number, events: number): string => (Number.isFinite(cpuS) ? `${fmt((cpuS * 1e6) / events)} µs` : 'n/a');
const pipelineArgs = ['--layout', 'supermarket', '--rate', '60', '--kafka', brokers, '--database-url', dbUrl];

// A PostgreSQL server that has not checkpointed since its WAL grew creates each new 16 MB WAL segment
// (zero-filled, then synced) while a commit waits: ~80-100 ms every ~3 s at 5,000 events/s here.
// After a checkpoint it renames old segments instead, as a server that has been busy for a while does.
const checkpointRefused = await checkpointPostgres(dbUrl);
console.log(checkpointRefused === null
  ? 'PostgreSQL: CHECKPOINT before (1), (2) and (5), so that no commit waits for a new WAL segment (docs/kafka.md)'
  : `PostgreSQL: CHECKPOINT refused (${checkpointRefused}): commits may wait for new WAL segments (docs/kafka.md)`);

// (1) end to end, as fast as the pipeline goes
let b0 = brokerCpuS();
let jit0 = brokerCompileCpuS();
const pg0 = postgresCpuS();
const e2e = await runHeadless(['--seed', '42', '--events', String(EVENTS), ...pipelineArgs, '--topic-prefix', `bench-e2e-${tag}-`]);
let brokerS = brokerCpuS() - b0;
let jitS = brokerCompileCpuS() - jit0;
const pgS = postgresCpuS() - pg0;
// All three on these cores: the most this design reaches here, whatever the overlap.
const e2eUs = ((e2e.cpuS + brokerS + pgS) * 1e6) / EVENTS;
console.log(`(1) end to end, ${fmt(EVENTS)} events: ${fmt(e2e.summary.events_per_sec)} raw events/s, verify ${e2e.summary.verify.ok ? 'ok' : 'FAILED'}` +
  ` (latency at full speed p50 ${e2e.summary.latency_ms.p50} ms, p99 ${e2e.summary.latency_ms.p99} ms);` +
  ` CPU per raw event: storesim ${perEventUs(e2e.cpuS, EVENTS)} (${Math.round((100 * e2e.cpuS) / e2e.wallS)}% of a core), broker ${perEventUs(brokerS, EVENTS)}${jitShare(jitS, brokerS)},` +
  ` PostgreSQL ${perEventUs(pgS, EVENTS)}` +
  (Number.isFinite(e2eUs) ? `: ${fmt(e2eUs)} µs in all, at most ${fmt((cpus().length * 1e6) / e2eUs)} raw events/s on these ${cpus().length} cores` : ''));

// (2) latency at a fixed 5,000 raw events/s
const pacedEvents = Math.min(EVENTS, 100_000);
if (checkpointRefused === null) await checkpointPostgres(dbUrl);
b0 = brokerCpuS();
jit0 = brokerCompileCpuS();
const paced = await runHeadless(['--seed', '43', '--events', String(pacedEvents), '--eps', '5000', '--interval', '5s', ...pipelineArgs, '--topic-prefix', `bench-lat-${tag}-`]);
brokerS = brokerCpuS() - b0;
const pacedJitS = brokerCompileCpuS() - jit0;
jitS += pacedJitS;
const steady = paced.progress.filter((p) => p.elapsed_s >= 14.5 && p.latency_recent_ms.p99 !== null);
const steadyText = steady.length > 0
  ? `; over the last 10 s at ${steady.map((p) => `${Math.round(p.elapsed_s)} s`).join(', ')}: p50 ${steady.map((p) => p.latency_recent_ms.p50).join(', ')} ms, p99 ${steady.map((p) => p.latency_recent_ms.p99).join(', ')} ms`
  : '';
console.log(`(2) at 5,000 events/s: latency p50 ${paced.summary.latency_ms.p50} ms, p99 ${paced.summary.latency_ms.p99} ms over the run${steadyText}, verify ${paced.summary.verify.ok ? 'ok' : 'FAILED'}` +
  ` (${fmt(paced.summary.events_per_sec)} raw events/s to the last commit; storesim ${Math.round((100 * paced.cpuS) / paced.wallS)}% of a core, CPU per raw event: storesim ${perEventUs(paced.cpuS, pacedEvents)}, broker ${perEventUs(brokerS, pacedEvents)}${jitShare(pacedJitS, brokerS)})`);

// (3) the broker's ceiling vs our produce rate, same record size
const cp = readFileSync(join(ROOT, '.cache/kafka/classpath.txt'), 'utf8').trim();
const perfTopic = `bench-perf-${tag}`;
const bus = createKafkaBus({ brokers: brokers.split(','), clientId: 'storesim-bench' });
await bus.ensureTopics([{ topic: perfTopic, partitions: 6 }, { topic: `${perfTopic}-ours`, partitions: 6 }]);
const perf = spawnSync('java', ['-Xmx512m', '-cp', `${join(ROOT, 'kafka')}:${cp}`, 'org.apache.kafka.tools.ProducerPerformance',
  '--topic', perfTopic, '--num-records', String(PERF_RECORDS), '--record-size', '300', '--throughput', '-1',
  '--producer-props', `bootstrap.servers=${brokers}`, 'acks=all'], { encoding: 'utf8', timeout: 180_000 });
const m = /([\d.]+) records\/sec/.exec(perf.stdout.trim().split('\n').pop() ?? '');
const ceiling = m ? Number(m[1]) : NaN;
if (!m) console.log(`ProducerPerformance gave no figure (exit ${perf.status}): ${(perf.stderr || perf.stdout).trim().split('\n').slice(-3).join(' | ')}`);
const producer = bus.createProducer();
await producer.connect();
const pub = createPublisher({ producer });
const value = Buffer.alloc(300, 'x');
const N = 300_000;
const produceBroker0 = brokerCpuS();
const c0 = process.cpuUsage();
const p0 = performance.now();
for (let i = 0; i < N; i++) {
  // As the engine's messages: a customer key, an explicit partition and the three storesim headers.
  const key = `customer-${i % 1000}`;
  pub.enqueue(`${perfTopic}-ours`, { key, value, partition: partitionForKey(key, 6), headers: { 'storesim.run': tag, 'storesim.seq': String(i + 1), 'storesim.produced_at': String(Date.now()) } });
  if (pub.backlog >= 20_000) await pub.waitForRoom();
}
await pub.flush();
const ours = N / ((performance.now() - p0) / 1000);
const cpu = process.cpuUsage(c0);
const produceBrokerS = brokerCpuS() - produceBroker0;
await producer.disconnect();

// (4) the same messages consumed through the bus, as the processor and the sink consume
const consumer = bus.createConsumer({ groupId: `${perfTopic}-group`, topics: [`${perfTopic}-ours`], fromBeginning: true });
let consumed = 0;
let allConsumed!: () => void;
const whenAllConsumed = new Promise<void>((resolve) => { allConsumed = resolve; });
const consumeBroker0 = brokerCpuS();
const cc0 = process.cpuUsage();
await consumer.start(async (batch) => {
  consumed += batch.messages.length;
  if (consumed >= N) allConsumed();
});
let consumeTimer: NodeJS.Timeout | undefined;
await Promise.race([whenAllConsumed, new Promise((_, reject) => {
  consumeTimer = setTimeout(() => reject(new Error(`(4) consumed ${consumed} of ${N} messages in 120 s`)), 120_000);
})]);
clearTimeout(consumeTimer);
const ccpu = process.cpuUsage(cc0);
const consumeBrokerS = brokerCpuS() - consumeBroker0;
await consumer.stop();
await bus.close();
console.log(`(3) ProducerPerformance ${fmt(ceiling)} records/s (300 B, acks=all, no key or headers); storesim publisher ${fmt(ours)} msgs/s` +
  ` (300 B + key + 3 headers, acks=-1, ${fmt((cpu.user + cpu.system) / N)} µs CPU per message) = ${(ours / ceiling).toFixed(2)} of the broker's ceiling`);
const produceUs = (cpu.user + cpu.system) / N;
const consumeUs = (ccpu.user + ccpu.system) / N;
const brokerUs = ((produceBrokerS + consumeBrokerS) * 1e6) / N;
const floorUs = 2 * (produceUs + consumeUs + brokerUs);
console.log(`(4) floor per raw event: 2 × (produce ${fmt(produceUs)} µs + consume ${fmt(consumeUs)} µs in storesim + ${perEventUs(produceBrokerS + consumeBrokerS, N)} in the broker)` +
  ` = ${fmt(floorUs)} µs of CPU, engine, processor and database left out: at most ${fmt((cpus().length * 1e6) / floorUs)} raw events/s on these ${cpus().length} cores`);

// (5) the latency floor under (2): the same hops and a one-statement write, nothing else
if (checkpointRefused === null) await checkpointPostgres(dbUrl);
const FLOOR_MESSAGES = 60_000;
const floor = await measureLatencyFloor({ brokers, dbUrl, rate: 5_000, messages: FLOOR_MESSAGES, prefix: `bench-floor-${tag}-` });
console.log(`(5) latency floor at 5,000 messages/s (publish, consume, publish again, consume, one INSERT per batch; nothing else, in one process):` +
  ` p50 ${floor.p50} ms, p99 ${floor.p99} ms over the run, p99 ${floor.recentP99} ms over its last 10 s;` +
  ` ${Math.round((100 * floor.cpuS) / floor.wallS)}% of a core, ${fmt((floor.cpuS * 1e6) / FLOOR_MESSAGES)} µs CPU per message`);
const steadyMet = steady.length > 0 && steady.every((p) => (p.latency_recent_ms.p99 ?? Infinity) <= 50);
console.log(`goals: 50,000 raw events/s end to end: ${e2e.summary.events_per_sec >= 50_000 ? 'met' : 'not met'}; p99 ≤ 50 ms at 5,000 events/s:` +
  ` ${(paced.summary.latency_ms.p99 ?? Infinity) <= 50 ? 'met' : 'not met'} over the run, ${steadyMet ? 'met' : 'not met'} in the steady state` +
  ` (bench took ${Math.round((performance.now() - t0) / 1000)} s)`);

// A broker minutes old is still compiling its hot code: its CPU per event, and the latency of runs
// that share its cores, fall over the next runs (docs/kafka.md, "A young broker compiles").
if (Number.isFinite(jitS) && jitS > 1) {
  console.log(`note: the broker's JIT compiler threads took ${jitS.toFixed(1)} s of CPU during (1) and (2), on the cores the runs share:` +
    ' a broker that started minutes ago gives slower figures; run the benchmark again for settled ones');
}

// Leave the database and the broker as they were: the runs' rows, then the topics and groups.
const cli = (args: string[]): void => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/index.ts', ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, DATABASE_URL: dbUrl } });
  if (r.status !== 0) console.log(`cleanup: storesim ${args.slice(0, 2).join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').pop()}`);
};
for (const run of [e2e.summary.run_id, paced.summary.run_id]) cli(['runs', 'delete', run, '--yes', '--database-url', dbUrl]);
for (const prefix of [`bench-e2e-${tag}-`, `bench-lat-${tag}-`, `bench-floor-${tag}-`, perfTopic]) cli(['kafka', 'reset', '--prefix', prefix, '--yes', '--kafka', brokers]);
