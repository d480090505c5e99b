/**
 * One snapshot of the whole run, read by both the dashboard and the headless progress lines (STYLE.md:
 * khaos's `Snapshot()`): engine state, topic throughput and lag, processor and sink figures. Sampled
 * a few times a second, never per event.
 */
import type { Engine, Fixtures } from './engine/types.js';
import type { FAULT_KINDS } from './engine/types.js';
import type { Bus } from './kafka/bus.js';
import type { Database } from './db/types.js';
import type { EngineDriver } from './pipeline/engine-driver.js';
import type { Processor } from './pipeline/processor.js';
import type { Sink } from './pipeline/sink.js';
import type { RunConfig } from './cli/config.js';
import type { TopicNames } from './main.js';
import type { FaultController } from './faults.js';
import { readIso } from './db/iso.js';
import { loadReport, type Report } from './report/queries.js';
import { compact } from './ui/format.js';
import { within } from './within.js';
import {
  DATA_FAULTS, INFRA_FAULTS, REJECTED_RING, createDashboardStore, createThrottledPublisher, emptyDashboardState, pushHistory,
  type DashboardState, type DashboardStore, type DeadLetter, type FaultStatus, type TopicStats,
} from './ui/dashboard-state.js';

export interface MonitorDeps {
  cfg: RunConfig;
  bus: Bus;
  db: Database;
  runId: string;
  names: TopicNames;
  groups: { processor: string; sink: string };
  engine: Engine;
  driver: EngineDriver;
  processor: Processor | null;
  sink: Sink | null;
  fixtures: Fixtures;
  started: number;
  /** The engine's publisher: messages enqueued and not yet acknowledged count as backlog. */
  publisher?: { readonly backlog: number } | null;
  /** Infrastructure faults: shown active with since and backlog, draining after. */
  faults?: FaultController | null;
}

export interface Monitor {
  /** Builds the current state (async: reads offsets from the bus). */
  sample(): Promise<DashboardState>;
  setStatus(message: string): void;
  startProgressLines(intervalMs: number, out: (line: object) => void): void;
  openDashboard(onCommand: (c: { type: string; fault?: string }) => void): Promise<{ close(): Promise<void> }>;
  latency(): { p50: number | null; p99: number | null };
  redelivered(): number;
  /** True while an infrastructure fault is active (the drain's no-progress clock stops). */
  faultsActive(): boolean;
  /**
   * What the pipeline owes now: the engine's unacknowledged messages plus every consumer group's
   * lag (offsets read at most every LAG_REFRESH_MS; the last known lag when the broker does not answer).
   */
  backlog(): Promise<number>;
  stop(): void;
}

const UI_SAMPLE_MS = 200;
/** Offsets are read at most this often (the fault sampler and the dashboard share them). */
const LAG_REFRESH_MS = 400;
/** A read of offsets that takes longer (a broker outage) leaves the last figures in place. */
const LAG_WAIT_MS = 1_000;
/** Offsets that have not answered for longer are shown as stale (the dashboard's Topics, `lag_stale_s`). */
const STALE_AFTER_MS = 3_000;
/** A process without the processor reads the run's figures from the database at most this often. */
const DB_FIGURES_MS = 1_000;

export function createMonitor(d: MonitorDeps): Monitor {
  const layout = d.fixtures.layouts[d.cfg.engine.layout]!;
  let state: DashboardState = emptyDashboardState(layout, {
    mode: { bus: d.bus.description, db: d.db.description },
    runId: d.runId,
    warp: d.driver.warp,
  });
  let status = '';
  const faultSince = new Map<string, number>();
  const lastTotals = new Map<string, { total: number; at: number }>();
  const timers: NodeJS.Timeout[] = [];
  let sampling = false;
  /** Set by stop(): a sample still in flight prints nothing (the summary is the last line). */
  let stopped = false;

  const topicList: { topic: string; group: string }[] = [
    { topic: d.names.foot, group: d.groups.processor },
    { topic: d.names.shelf, group: d.groups.processor },
    { topic: d.names.clean, group: d.groups.sink },
    { topic: d.names.pos, group: d.groups.sink },
    { topic: d.names.visits, group: d.groups.sink },
    { topic: d.names.rejected, group: d.groups.sink },
  ];

  /** Offsets of every topic, one read at a time; a slow read (broker away) leaves the last figures. */
  let topicsAt = 0;
  let topicsInFlight: Promise<TopicStats[]> | null = null;
  let lastLag = 0;
  const freshTopics = async (now: number): Promise<TopicStats[]> => {
    if (now - topicsAt < LAG_REFRESH_MS && !topicsInFlight) return state.topics;
    if (!topicsInFlight) {
      topicsInFlight = topicStats(now).then((t) => {
        topicsAt = Date.now();
        lastLag = t.reduce((a, x) => a + x.lag.reduce((b, l) => b + l.lag, 0), 0);
        state = { ...state, topics: t };
        return t;
      }).finally(() => { topicsInFlight = null; });
    }
    try {
      return (await within(topicsInFlight, LAG_WAIT_MS)) ?? state.topics;
    } catch {
      return state.topics;
    }
  };

  /** Seconds since the offsets last answered, once that is more than STALE_AFTER_MS; null before a first answer too. */
  const staleFor = (now: number): number | null => {
    const age = now - topicsAt;
    return topicsAt > 0 && age > STALE_AFTER_MS ? Math.floor(age / 1000) : null;
  };

  /**
   * The run's figures as the database holds them, for a process whose processor is not the whole
   * run's (none here, or one that owns only some pairs: `--role`): its own counters would read 0 or
   * a part, while the database has every processor's committed work. Read in the background at most
   * every DB_FIGURES_MS; a read that fails (the database away) leaves the last figures.
   */
  let dbFigures: { report: Report; latest: DeadLetter[] } | null = null;
  let dbFiguresAt = 0;
  let dbReading = false;
  const pairsTotal = d.cfg.kafka ? d.cfg.kafka.partitions : d.cfg.partitions;
  /**
   * This process's processor stats when they are the whole run's: it owns every partition pair (or
   * none yet: before its first assignment), so no processor elsewhere judges part of the run.
   */
  const wholeRun = (): ReturnType<Processor['stats']> | null => {
    const p = d.processor?.stats();
    return p && (p.pairs === 0 || !(p.pairs < pairsTotal)) ? p : null;
  };
  /** Starts a read of the figures when the last is older than DB_FIGURES_MS; call it only when wholeRun() is null. */
  const refreshDbFigures = (now: number): void => {
    if (dbReading || now - dbFiguresAt < DB_FIGURES_MS) return;
    dbReading = true;
    dbFiguresAt = now;
    const read = async (): Promise<void> => {
      const report = await loadReport(d.db, { runId: d.runId });
      const rows = await d.db.select(`SELECT rejected_at, source_topic, code, reason FROM rejected_events WHERE run_id = ? ORDER BY id DESC LIMIT ${REJECTED_RING}`, [d.runId]);
      const latest = rows.reverse().map((r) => ({
        at: readIso(r.rejected_at),
        topic: String(r.source_topic), code: String(r.code), reason: String(r.reason),
      }));
      dbFigures = { report, latest };
    };
    read().catch(() => undefined).finally(() => { dbReading = false; });
  };

  const faultRows = (): FaultStatus[] => {
    const f = d.faults;
    if (!f) return INFRA_FAULTS.map((name) => ({ name, kind: 'infra' as const, active: false }));
    const rows = f.status();
    // After a fault ends, its backlog drains: shown as its own active line until it has.
    for (const x of f.draining()) {
      rows.push({ name: `${x.name}↓`, kind: 'infra', active: true, sinceMs: x.endedMs, detail: `${compact(x.backlog)} draining · peak ${compact(x.peak)}` });
    }
    return rows;
  };

  const topicStats = async (now: number): Promise<TopicStats[]> => {
    const out: TopicStats[] = [];
    // One read of every topic's offsets and one per group (on Kafka a handful of requests, not one
    // set per topic: this runs a few times a second).
    const allOffsets = await d.bus.topicsOffsets(topicList.map((x) => x.topic));
    const groups = [...new Set(topicList.map((x) => x.group))];
    const committedOf = new Map(await Promise.all(groups.map(async (g) =>
      [g, await d.bus.groupTopicsOffsets(g, topicList.filter((x) => x.group === g).map((x) => x.topic))] as const)));
    for (const { topic, group } of topicList) {
      const offsets = allOffsets.get(topic) ?? [];
      const committed = committedOf.get(group)?.get(topic) ?? [];
      const total = offsets.reduce((a, o) => a + o.high, 0);
      let lag = 0;
      for (const o of offsets) {
        const c = committed.find((x) => x.partition === o.partition);
        lag += o.high - (c && c.offset >= 0 ? c.offset : o.low);
      }
      const prev = lastTotals.get(topic);
      const rate = prev && now > prev.at ? ((total - prev.total) * 1000) / (now - prev.at) : 0;
      lastTotals.set(topic, { total, at: now });
      const before = state.topics.find((t) => t.topic === topic);
      out.push({ topic, ratePerSec: Math.round(rate), total, lag: [{ group, lag }], history: pushHistory(before?.history ?? [], Math.round(rate)) });
    }
    return out;
  };

  const sample = async (): Promise<DashboardState> => {
    const now = Date.now();
    const snap = d.engine.snapshot();
    const p = wholeRun();
    const lat = d.sink?.stats().latency;
    const faults: FaultStatus[] = [
      ...DATA_FAULTS.map((name) => {
        const rate = snap.faults[name as (typeof FAULT_KINDS)[number]] ?? 0;
        if (rate > 0 && !faultSince.has(name)) faultSince.set(name, now);
        if (rate === 0) faultSince.delete(name);
        return { name, kind: 'data' as const, active: rate > 0, rate, sinceMs: faultSince.get(name) };
      }),
      ...faultRows(),
    ];
    const visitsClosed = p?.visitsClosed ?? 0;
    if (!p) refreshDbFigures(now);
    const db = p ? null : dbFigures?.report ?? null;
    state = {
      header: { mode: state.header.mode, simTimeMs: snap.simTimeMs, warp: d.driver.warp, ratePerMin: snap.ratePerMin, paused: snap.paused, runId: d.runId },
      floor: { layout, customers: snap.customers, lanes: snap.lanes },
      carts: snap.carts,
      topics: await freshTopics(now),
      topicsStaleS: staleFor(Date.now()),
      rejected: p ? { latest: p.latestRejected, byCode: p.byCode } : { latest: dbFigures?.latest ?? [], byCode: db?.rejected_by_code ?? {} },
      kpis: {
        ...(db ? {
          revenueCents: db.revenue_cents,
          transactions: db.transactions,
          conversion: db.conversion,
          avgBasketCents: db.average_basket.value_cents,
          avgBasketItems: Math.round(db.average_basket.items * 10) / 10,
        } : {
          revenueCents: p?.revenueCents ?? 0,
          transactions: p?.transactions ?? 0,
          conversion: visitsClosed > 0 ? (p?.purchasedVisits ?? 0) / visitsClosed : 0,
          avgBasketCents: p && p.transactions > 0 ? Math.round(p.revenueCents / p.transactions) : 0,
          avgBasketItems: p && p.transactions > 0 ? Math.round((p.itemsSold / p.transactions) * 10) / 10 : 0,
        }),
        fromDatabase: !p,
        // The last ~10 s: a live readout that shows a fault's latency and the recovery after it.
        latencyP50Ms: lat?.recent.p50 ?? null,
        latencyP99Ms: lat?.recent.p99 ?? null,
        sinkHere: d.sink !== null,
      },
      faults,
      status: { message: status || undefined, draining: d.driver.stopping },
    };
    return state;
  };

  return {
    sample,
    setStatus(message: string): void { status = message; },
    startProgressLines(intervalMs, out): void {
      timers.push(setInterval(() => {
        if (sampling) return;
        sampling = true;
        sample().then((s) => {
          if (stopped) return;
          const elapsed = (Date.now() - d.started) / 1000;
          const stats = d.processor?.stats();
          const p = s.kpis.fromDatabase ? null : stats;
          const lat = d.sink?.stats().latency;
          const lag: Record<string, number> = {};
          for (const t of s.topics) for (const l of t.lag) lag[l.group] = (lag[l.group] ?? 0) + l.lag;
          out({
            type: 'progress',
            elapsed_s: Math.round(elapsed * 10) / 10,
            sim_time: new Date(s.header.simTimeMs).toISOString(),
            produced: d.engine.produced,
            // Without the whole run's processor here: what the database holds (redelivered only a
            // processor knows: this one's count, or null).
            accepted: p ? p.accepted : dbFigures?.report.accepted ?? null,
            rejected: p ? p.rejected : dbFigures?.report.rejected ?? null,
            redelivered: stats?.redelivered ?? null,
            transactions: s.kpis.transactions,
            revenue_cents: s.kpis.revenueCents,
            in_store: s.floor.customers.length,
            events_per_sec: elapsed > 0 ? Math.round(d.engine.produced / elapsed) : 0,
            lag,
            ...(s.topicsStaleS !== null ? { lag_stale_s: s.topicsStaleS } : {}),
            latency_ms: { p50: lat?.p50 ?? null, p99: lat?.p99 ?? null },
            latency_recent_ms: { p50: lat?.recent.p50 ?? null, p99: lat?.recent.p99 ?? null, window_s: lat?.recent.windowS ?? null },
            ...(s.faults.some((f) => f.kind === 'infra' && f.active) ? {
              faults: s.faults.filter((f) => f.kind === 'infra' && f.active).map((f) => ({
                name: f.name, for_s: f.sinceMs === undefined ? null : Math.round((Date.now() - f.sinceMs) / 100) / 10, detail: f.detail ?? null,
              })),
            } : {}),
          });
        }).catch(() => undefined).finally(() => { sampling = false; });
      }, intervalMs));
    },
    async openDashboard(onCommand) {
      const { renderDashboard } = await import('./ui/render-dashboard.js');
      const store: DashboardStore = createDashboardStore(state);
      const throttled = createThrottledPublisher(store, UI_SAMPLE_MS);
      timers.push(setInterval(() => {
        if (sampling) return;
        sampling = true;
        sample().then((s) => throttled.offer(s)).catch(() => undefined).finally(() => { sampling = false; });
      }, UI_SAMPLE_MS));
      const ui = renderDashboard({ store, onCommand });
      return {
        async close() {
          throttled.stop();
          ui.unmount();
          await ui.waitUntilExit().catch(() => undefined);
        },
      };
    },
    latency() {
      const l = d.sink?.stats().latency;
      return { p50: l?.p50 ?? null, p99: l?.p99 ?? null };
    },
    redelivered(): number { return d.processor?.stats().redelivered ?? 0; },
    faultsActive(): boolean { return d.faults?.anyActive() ?? false; },
    async backlog(): Promise<number> {
      await freshTopics(Date.now());
      return (d.publisher?.backlog ?? 0) + lastLag;
    },
    stop(): void {
      stopped = true;
      for (const t of timers) clearInterval(t);
      timers.length = 0;
    },
  };
}
