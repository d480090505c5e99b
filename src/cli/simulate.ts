/**
 * `storesim simulate`: the raw stream as JSON lines with no bus at all, as fast as it can. A data
 * generator in its own right, and the reference that `verify` replays (DESIGN.md, Headless).
 */
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { createHash } from 'node:crypto';
import { createEngine } from '../engine/engine.js';
import type { EngineConfig, EngineMessage, ExitEvent, Fixtures } from '../engine/types.js';
import type { CommandLogEntry } from '../db/types.js';
import { replayEngine } from '../pipeline/replay.js';
import { UserError } from './errors.js';

export interface SimulateOptions {
  config: EngineConfig;
  fixtures: Fixtures;
  /** Stop after this many raw messages. */
  events?: number;
  /** Or stop at this simulated time (epoch ms). */
  untilMs?: number;
  commands?: CommandLogEntry[];
  out?: string;
  stats?: boolean;
}

/** Streams the messages to `out` (a file or stdout); returns the count and the sha256 of the bytes. */
export async function simulate(opts: SimulateOptions, stdout: Writable = process.stdout): Promise<{ produced: number; sha256: string }> {
  const sink = opts.out ? createWriteStream(opts.out) : stdout;
  if (opts.out) {
    await new Promise<void>((resolve, reject) => {
      (sink as ReturnType<typeof createWriteStream>).once('open', () => resolve());
      sink.once('error', (e: NodeJS.ErrnoException) => reject(new UserError(`--out: cannot write ${opts.out}: ${e.code ?? e.message} (choose a writable path)`)));
    });
  }
  const hash = createHash('sha256');
  let buf = '';
  const stats = opts.stats ? createStats(opts.config) : null;
  const flushBuf = async (): Promise<void> => {
    if (buf === '') return;
    hash.update(buf);
    if (!stats && !sink.write(buf)) await new Promise<void>((r) => sink.once('drain', () => r()));
    buf = '';
  };
  const engine = createEngine({ fixtures: opts.fixtures, config: opts.config, recordLedger: Boolean(opts.stats) });
  await replayEngine(engine, {
    commands: opts.commands ?? [],
    maxEvents: opts.events ?? Number.POSITIVE_INFINITY,
    untilMs: opts.untilMs ?? Number.POSITIVE_INFINITY,
    emit: (m: EngineMessage) => {
      if (m.kind !== 'event') return;
      buf += m.value + '\n';
      stats?.add(m.value, m.verdict);
    },
    afterChunk: async () => {
      if (buf.length > 1 << 20) await flushBuf();
    },
  });
  await flushBuf();
  if (opts.out) await new Promise<void>((r) => (sink as ReturnType<typeof createWriteStream>).end(() => r()));
  const sha256 = hash.digest('hex');
  if (stats) {
    const s = stats.finish(engine.ledger());
    stdout.write(JSON.stringify({ ...s, produced: engine.produced, stream_sha256: sha256 }) + '\n');
  }
  return { produced: engine.produced, sha256 };
}

function createStats(config: EngineConfig) {
  const byType: Record<string, number> = {};
  const waits = new Map<number, { sum: number; n: number }>();
  let dwellSum = 0;
  let dwellN = 0;
  const arrivalsPerHour: Record<string, number> = {};
  return {
    add(value: string, verdict: string): void {
      if (verdict !== 'accepted') return;
      let e: { event_type?: string };
      try { e = JSON.parse(value) as { event_type?: string }; } catch { return; }
      const t = e.event_type ?? 'unknown';
      byType[t] = (byType[t] ?? 0) + 1;
      if (t === 'entry') {
        const hour = (e as { timestamp: string }).timestamp.slice(0, 13) + ':00Z';
        arrivalsPerHour[hour] = (arrivalsPerHour[hour] ?? 0) + 1;
      } else if (t === 'exit') {
        const x = e as ExitEvent;
        dwellSum += Date.parse(x.exit_time) - Date.parse(x.entry_time);
        dwellN++;
        if (x.lane !== null && x.queue_joined_at && x.service_started_at) {
          const w = waits.get(x.lane) ?? { sum: 0, n: 0 };
          w.sum += Date.parse(x.service_started_at) - Date.parse(x.queue_joined_at);
          w.n++;
          waits.set(x.lane, w);
        }
      }
    },
    finish(ledger: { verdicts: readonly string[]; visits: { status: string; lines: { quantity: number }[] }[] }) {
      const expected: Record<string, number> = {};
      for (const v of ledger.verdicts) if (v !== 'accepted') expected[v] = (expected[v] ?? 0) + 1;
      const closed = ledger.visits.filter((v) => v.status !== 'open_at_end');
      const purchased = closed.filter((v) => v.status === 'purchased');
      const baskets = purchased.map((v) => v.lines.reduce((a, l) => a + l.quantity, 0)).sort((a, b) => a - b);
      const mean = baskets.length ? baskets.reduce((a, b) => a + b, 0) / baskets.length : 0;
      const p95 = baskets.length ? baskets[Math.min(baskets.length - 1, Math.ceil(0.95 * baskets.length) - 1)]! : 0;
      const laneWaits: Record<string, number> = {};
      for (const [lane, w] of [...waits.entries()].sort((a, b) => a[0] - b[0])) laneWaits[String(lane)] = round(w.sum / w.n / 1000);
      return {
        type: 'stats',
        seed: config.seed,
        layout: config.layout,
        events_by_type: byType,
        visits: ledger.visits.length,
        visits_closed: closed.length,
        conversion: closed.length ? round(purchased.length / closed.length) : 0,
        basket_items_mean: round(mean),
        basket_items_p95: p95,
        dwell_mean_s: dwellN ? round(dwellSum / dwellN / 1000) : 0,
        queue_wait_mean_s_by_lane: laneWaits,
        arrivals_per_sim_hour: arrivalsPerHour,
        expected_rejections: expected,
      };
    },
  };
}

const round = (x: number): number => Math.round(x * 1000) / 1000;
