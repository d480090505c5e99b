import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from '../engine/engine.js';
import type { EngineMessage, RawTopic } from '../engine/types.js';
import type { OutgoingMessage } from '../kafka/bus.js';
import { partitionFor } from '../kafka/murmur2.js';
import type { CommandLogEntry } from '../db/types.js';
import { loadFixtures } from '../cli/load-fixtures.js';
import { createEngineDriver, type ResumePoint } from './engine-driver.js';
import { HEADERS, type RunSettings } from './types.js';

const fixtures = loadFixtures();
const PARTITIONS = 4;
const EVENTS = 6_000;
const TOPICS: Record<RawTopic, string> = { foot_traffic: 'foot', shelf_events: 'shelf' };
const settings = { run_id: 'run-1' } as RunSettings;
const config = defaultEngineConfig({ seed: 5, faults: { late: 0.02, duplicate: 0.02 } });

interface Sent { topic: string; msg: OutgoingMessage }

async function drive(opts: { resume?: ResumePoint; commands?: CommandLogEntry[] } = {}): Promise<{ sent: Sent[]; log: CommandLogEntry[] }> {
  const engine = createEngine({ fixtures, config });
  const sent: Sent[] = [];
  const log: CommandLogEntry[] = [];
  const driver = createEngineDriver({
    engine,
    publisher: { enqueue: (topic, msg) => { sent.push({ topic, msg }); }, backlog: 0, waitForRoom: async () => {}, flush: async () => {} },
    settings, topics: TOPICS, partitions: PARTITIONS, warp: 'max', eps: null, maxEvents: EVENTS, durationMs: null,
    onCommand: (e) => { log.push(e); },
    ...(opts.resume ? { resume: opts.resume } : {}),
  });
  for (const c of opts.commands ?? []) driver.command(c.command as never);
  await driver.done;
  return { sent, log };
}

/** Per partition, the partition time (highest watermark so far) each event arrives with: what its verdicts depend on. */
function timesAtEvents(sent: Sent[]): Map<string, string[]> {
  const time = new Map<string, number>();
  const out = new Map<string, string[]>();
  for (const { topic, msg } of sent) {
    const tp = `${topic}/${msg.partition}`;
    if (msg.headers[HEADERS.marker] === 'watermark') {
      time.set(tp, Math.max(time.get(tp) ?? 0, (JSON.parse(String(msg.value)) as { time: number }).time));
    } else if (msg.headers[HEADERS.seq] !== undefined) {
      out.set(tp, [...(out.get(tp) ?? []), `${msg.headers[HEADERS.seq]}@${time.get(tp) ?? 0}`]);
    }
  }
  return out;
}

/** The same engine with every watermark broadcast to every partition (DESIGN.md's plain reading). */
function broadcast(): Sent[] {
  const engine = createEngine({ fixtures, config });
  const sent: Sent[] = [];
  const emit = (m: EngineMessage): void => {
    if (m.kind === 'watermark') {
      for (const topic of Object.values(TOPICS)) {
        for (let p = 0; p < PARTITIONS; p++) sent.push({ topic, msg: { key: null, value: `{"time":${m.atMs}}`, partition: p, headers: { [HEADERS.marker]: 'watermark' } } });
      }
      return;
    }
    sent.push({ topic: TOPICS[m.topic], msg: { key: m.key, value: m.value, partition: partitionFor(m.key, PARTITIONS), headers: { [HEADERS.seq]: String(m.seq) } } });
  };
  engine.run(Number.POSITIVE_INFINITY, EVENTS, emit);
  return sent;
}

const isEvent = (s: Sent): boolean => s.msg.headers[HEADERS.seq] !== undefined;
const isWatermark = (s: Sent): boolean => s.msg.headers[HEADERS.marker] === 'watermark';

describe('engine driver', () => {
  it('coalesces watermarks per partition: each event meets the partition time a broadcast of every marker gives it', async () => {
    const { sent } = await drive();
    const reference = broadcast();
    expect(sent.filter(isEvent)).toHaveLength(EVENTS);
    expect(timesAtEvents(sent)).toEqual(timesAtEvents(reference));
    // And far fewer markers travel: at most one before each event, plus one per partition per chunk
    const marks = sent.filter(isWatermark).length;
    expect(marks).toBeLessThan(reference.filter(isWatermark).length / 4);
    expect(marks).toBeLessThanOrEqual(EVENTS + 2 * PARTITIONS * 200);
    // And every partition starts with run_start and ends with an end marker after its last event
    for (const topic of Object.values(TOPICS)) {
      for (let p = 0; p < PARTITIONS; p++) {
        const mine = sent.filter((s) => s.topic === topic && s.msg.partition === p);
        expect(mine[0]!.msg.headers[HEADERS.marker]).toBe('run_start');
        expect(mine.at(-1)!.msg.headers[HEADERS.marker]).toBe('end');
      }
    }
  });

  it('resumes: publishes only the events above each partition\'s last seq, and markers there only after it', async () => {
    // Given a full run, and a crash that left each partition at a different point
    const full = (await drive()).sent;
    const events = full.filter(isEvent);
    const lastSeq: Record<RawTopic, number[]> = { foot_traffic: [], shelf_events: [] };
    const cut = new Map<string, number>();
    for (const [t, topic] of Object.entries(TOPICS) as [RawTopic, string][]) {
      for (let p = 0; p < PARTITIONS; p++) {
        const seqs = events.filter((s) => s.topic === topic && s.msg.partition === p).map((s) => Number(s.msg.headers[HEADERS.seq]));
        // Partition 0 of each topic got nothing yet; the others stopped at 20 %, 50 %, 80 % of their events
        const at = p === 0 ? 0 : seqs[Math.floor((seqs.length * [0, 0.2, 0.5, 0.8][p]!))]!;
        lastSeq[t][p] = at;
        cut.set(`${topic}/${p}`, at);
      }
    }

    // When the run is resumed from there
    const { sent, log } = await drive({ resume: { lastSeq, commands: [] } });

    // Then exactly the missing events are published, in the same order per partition
    const missing = events.filter((s) => Number(s.msg.headers[HEADERS.seq]) > cut.get(`${s.topic}/${s.msg.partition}`)!);
    expect(sent.filter(isEvent).map((s) => `${s.topic}/${s.msg.partition}:${s.msg.headers[HEADERS.seq]}`))
      .toEqual(missing.map((s) => `${s.topic}/${s.msg.partition}:${s.msg.headers[HEADERS.seq]}`));
    expect(log).toEqual([]);
    // And run_start goes only where the partition had none; every partition ends with an end marker
    for (const [tp, at] of cut) {
      const [topic, p] = tp.split('/');
      const mine = sent.filter((s) => s.topic === topic && s.msg.partition === Number(p));
      expect(mine.some((s) => s.msg.headers[HEADERS.marker] === 'run_start')).toBe(at === 0);
      expect(mine.at(-1)!.msg.headers[HEADERS.marker]).toBe('end');
    }
    // And what the crashed run left on each partition followed by what the resume sent gives every
    // event the partition time of the uninterrupted run: no marker went ahead of the cut
    const left = full.filter((s) => {
      const at = cut.get(`${s.topic}/${s.msg.partition}`)!;
      const i = full.findIndex((x) => x.topic === s.topic && x.msg.partition === s.msg.partition && Number(x.msg.headers[HEADERS.seq]) === at);
      return at > 0 && full.indexOf(s) <= i;
    });
    expect(timesAtEvents([...left, ...sent])).toEqual(timesAtEvents(full));
  });

  it('resumes a run whose log holds commands: applied again at their steps, not logged again', async () => {
    // Given a run with two rate changes logged at known steps
    const engine = createEngine({ fixtures, config });
    const log: CommandLogEntry[] = [];
    const seqs: number[] = [];
    const emit = (m: EngineMessage): void => { if (m.kind === 'event') seqs.push(m.seq); };
    engine.run(Number.POSITIVE_INFINITY, 1_000, emit);
    log.push({ step: engine.step, sim_ms: engine.nowMs, command: { type: 'set_rate', perMin: 12 } });
    engine.apply({ type: 'set_rate', perMin: 12 });
    engine.run(Number.POSITIVE_INFINITY, 2_000, emit);
    log.push({ step: engine.step, sim_ms: engine.nowMs, command: { type: 'set_rate', perMin: 1 } });
    engine.apply({ type: 'set_rate', perMin: 1 });
    engine.run(Number.POSITIVE_INFINITY, EVENTS - 3_000, emit);
    expect(seqs).toHaveLength(EVENTS);

    // When it is resumed with nothing on the bus (offline) and that log
    const none = { foot_traffic: new Array<number>(PARTITIONS).fill(0), shelf_events: new Array<number>(PARTITIONS).fill(0) };
    const { sent, log: newLog } = await drive({ resume: { lastSeq: none, commands: log } });

    // Then the published stream is the commanded one, and the log gets nothing new
    const reference = createEngine({ fixtures, config });
    const refValues: string[] = [];
    const refEmit = (m: EngineMessage): void => { if (m.kind === 'event') refValues.push(m.value); };
    reference.run(Number.POSITIVE_INFINITY, 1_000, refEmit);
    reference.apply({ type: 'set_rate', perMin: 12 });
    reference.run(Number.POSITIVE_INFINITY, 2_000, refEmit);
    reference.apply({ type: 'set_rate', perMin: 1 });
    reference.run(Number.POSITIVE_INFINITY, EVENTS - 3_000, refEmit);
    expect(sent.filter(isEvent).map((s) => String(s.msg.value))).toEqual(refValues);
    expect(newLog).toEqual([]);
  });
});
