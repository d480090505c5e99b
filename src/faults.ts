/**
 * The infrastructure-fault controller (DESIGN.md, Infrastructure faults): starts and stops
 * broker_down, broker_slow, db_down, db_slow, processor_crash and sink_crash on the real
 * connections (fault sockets, the pg stream, a held SQLite lock, or the in-process bus's switch),
 * ends timed faults on a wall-clock timer, and keeps, per fault started, what the summary reports:
 * when it started, how long it lasted, the peak backlog it caused and how long that took to drain.
 *
 * Backlog: what the pipeline owes, sampled a few times a second (the engine's unacknowledged
 * messages plus every consumer group's lag, see monitor.ts). A fault's backlog is drained once it
 * is back to what it was just before the fault (the largest sample of the 5 s before it, at least
 * DRAIN_FLOOR), or when the run's database holds everything.
 */
import type { LinkController } from './kafka/fault-socket.js';
import type { DbFaultSwitch } from './db/fault-stream.js';
import type { FaultStatus } from './ui/dashboard-state.js';
import { INFRA_FAULTS, type InfraFault } from './cli/scenario.js';
import { compact } from './ui/format.js';

export { INFRA_FAULTS, type InfraFault };

/** One fault as the headless summary reports it. */
export interface FaultRecord {
  name: InfraFault;
  /** Wall clock, ISO-8601. */
  started_at: string;
  /** Wall-clock seconds it was on; null while it still is. */
  duration_s: number | null;
  /** Largest backlog from its start until drained. */
  peak_backlog: number;
  /** Seconds from its end until the backlog was back to its level before the fault; null when it never was. */
  drain_s: number | null;
}

/** A member the crash faults tear down (processor or sink): crash() drops it without committing, start() brings it back. */
export interface CrashTarget {
  crash(): Promise<void>;
  start(): Promise<void>;
}

export interface FaultControllerOptions {
  /** The broker link: Kafka fault sockets or the in-process bus's switch. Null: no broker faults here. */
  broker: LinkController | null;
  /** The database switch. Null: no database faults here. */
  db: DbFaultSwitch | null;
  processor: CrashTarget | null;
  sink: CrashTarget | null;
  /** What the pipeline owes now (see the file comment); may be async (reads offsets). */
  backlog: () => Promise<number> | number;
  /** Told about starts, stops, drains and failures (status line, command log). Default: ignored. */
  onEvent?: (e: FaultEvent) => void;
  /** How often the backlog is sampled, ms. Default 250. */
  sampleMs?: number;
  now?: () => number;
}

export type FaultEvent =
  | { type: 'started'; name: InfraFault; durationMs: number | null; latencyMs: number | null }
  | { type: 'stopped'; name: InfraFault; record: FaultRecord }
  | { type: 'drained'; name: InfraFault; record: FaultRecord }
  | { type: 'error'; name: InfraFault; error: unknown };

export interface StartOptions {
  /** Wall-clock ms until it stops by itself; null/undefined = until stop() (crash faults: restart at once). */
  durationMs?: number | null;
  /** *_slow only: added latency, ms. Default 500. */
  latencyMs?: number | null;
}

export interface FaultController {
  /** Starts a fault (a running one of the same name is ended first). Resolves once it is in effect. */
  start(name: InfraFault, opts?: StartOptions): Promise<void>;
  /** Ends it now (a crashed member is started again). No-op when it is not on. */
  stop(name: InfraFault): Promise<void>;
  /** Dashboard key: stop when on, start (no duration) when off. */
  toggle(name: InfraFault): Promise<void>;
  /** Ends every fault now (a graceful stop). */
  stopAll(): Promise<void>;
  /** Ends the faults started without a duration (the run's end: timed ones finish their time). */
  stopOpenEnded(): Promise<void>;
  /** Whether this process can inject it (a broker, a database, a processor or sink here). */
  available(name: InfraFault): boolean;
  /** True while any fault is on (the drain's no-progress clock stops). */
  anyActive(): boolean;
  /** Resolves once no fault is on (timed ones end on their timers). */
  whenIdle(): Promise<void>;
  /** Every infrastructure slot, for the dashboard: on or off, since when, backlog. */
  status(): FaultStatus[];
  /** Faults that ended and whose backlog is still draining. */
  draining(): Array<{ name: InfraFault; endedMs: number; backlog: number; peak: number }>;
  /** The database holds everything: what still drains is drained now. */
  settle(atMs?: number): void;
  records(): FaultRecord[];
  /** Stops the sampler (faults still on stay on: call stopAll first). */
  close(): void;
}

const DRAIN_FLOOR = 100;
const BASELINE_WINDOW_MS = 5_000;
const DEFAULT_LATENCY_MS = 500;

interface Track {
  name: InfraFault;
  record: FaultRecord;
  startedMs: number;
  endedMs: number | null;
  baseline: number;
  durationMs: number | null;
  latencyMs: number | null;
  timer: NodeJS.Timeout | null;
  drained: boolean;
}

export function createFaultController(opts: FaultControllerOptions): FaultController {
  const now = opts.now ?? Date.now;
  const sampleMs = opts.sampleMs ?? 250;
  const emit = (e: FaultEvent): void => {
    try {
      opts.onEvent?.(e);
    } catch {
      // a listener must not break the fault
    }
  };
  const active = new Map<InfraFault, Track>();
  const all: Track[] = [];
  /** Recent backlog samples (for the baseline). */
  const window: Array<{ at: number; v: number }> = [];
  let lastBacklog = 0;
  let sampling = false;
  /** One operation per fault name at a time, in order (a stop waits for its start). */
  const chains = new Map<InfraFault, Promise<void>>();
  const serial = (name: InfraFault, fn: () => Promise<void>): Promise<void> => {
    const prev = chains.get(name) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    chains.set(name, run.catch(() => undefined));
    return run;
  };

  const sample = async (): Promise<void> => {
    if (sampling) return;
    sampling = true;
    try {
      const v = await opts.backlog();
      const t = now();
      lastBacklog = v;
      window.push({ at: t, v });
      while (window.length > 0 && window[0]!.at < t - BASELINE_WINDOW_MS) window.shift();
      for (const tr of all) {
        if (tr.drained) continue;
        if (v > tr.record.peak_backlog) tr.record.peak_backlog = v;
        if (tr.endedMs !== null && v <= Math.max(tr.baseline, DRAIN_FLOOR)) markDrained(tr, t);
      }
    } catch {
      // offsets unreadable (a broker outage): keep the last figures
    } finally {
      sampling = false;
    }
  };
  const sampler = setInterval(() => void sample(), sampleMs);
  sampler.unref();

  const markDrained = (tr: Track, at: number): void => {
    tr.drained = true;
    tr.record.drain_s = round3(Math.max(0, at - tr.endedMs!) / 1000);
    emit({ type: 'drained', name: tr.name, record: { ...tr.record } });
  };

  const brokerMode = (): void => {
    if (!opts.broker) return;
    const slow = active.get('broker_slow');
    opts.broker.set(active.has('broker_down') ? { kind: 'down' } : slow ? { kind: 'slow', latencyMs: slow.latencyMs ?? DEFAULT_LATENCY_MS } : { kind: 'normal' });
  };
  const dbMode = (): void => {
    if (!opts.db) return;
    opts.db.setDown(active.has('db_down'));
    const slow = active.get('db_slow');
    opts.db.setSlow(slow ? slow.latencyMs ?? DEFAULT_LATENCY_MS : null);
  };
  const target = (name: InfraFault): CrashTarget | null => (name === 'processor_crash' ? opts.processor : name === 'sink_crash' ? opts.sink : null);

  const available = (name: InfraFault): boolean => {
    switch (name) {
      case 'broker_down': case 'broker_slow': return opts.broker !== null;
      case 'db_down': case 'db_slow': return opts.db !== null;
      default: return target(name) !== null;
    }
  };

  /** Puts the fault in effect; the track is already in `active`. */
  const apply = async (tr: Track): Promise<void> => {
    switch (tr.name) {
      case 'broker_down': case 'broker_slow': brokerMode(); break;
      case 'db_down': case 'db_slow': dbMode(); break;
      default: await target(tr.name)!.crash();
    }
  };

  /** Lifts it; the track is already out of `active`. */
  const lift = async (tr: Track): Promise<void> => {
    switch (tr.name) {
      case 'broker_down': case 'broker_slow': brokerMode(); break;
      case 'db_down': case 'db_slow': dbMode(); break;
      default: await target(tr.name)!.start();
    }
  };

  const end = async (tr: Track): Promise<void> => {
    if (active.get(tr.name) !== tr) return;
    if (tr.timer) clearTimeout(tr.timer);
    tr.timer = null;
    active.delete(tr.name);
    try {
      await lift(tr);
    } catch (error) {
      emit({ type: 'error', name: tr.name, error });
    }
    tr.endedMs = now();
    tr.record.duration_s = round3((tr.endedMs - tr.startedMs) / 1000);
    if (lastBacklog > tr.record.peak_backlog) tr.record.peak_backlog = lastBacklog;
    emit({ type: 'stopped', name: tr.name, record: { ...tr.record } });
    void sample();
  };

  const begin = async (name: InfraFault, o: StartOptions): Promise<void> => {
    const running = active.get(name);
    if (running) await end(running);
    const startedMs = now();
    const baseline = Math.max(lastBacklog, ...window.map((s) => s.v));
    const isSlow = name === 'broker_slow' || name === 'db_slow';
    const tr: Track = {
      name,
      record: { name, started_at: new Date(startedMs).toISOString(), duration_s: null, peak_backlog: lastBacklog, drain_s: null },
      startedMs, endedMs: null, baseline,
      durationMs: o.durationMs ?? null,
      latencyMs: isSlow ? o.latencyMs ?? DEFAULT_LATENCY_MS : null,
      timer: null, drained: false,
    };
    active.set(name, tr);
    all.push(tr);
    emit({ type: 'started', name, durationMs: tr.durationMs, latencyMs: tr.latencyMs });
    try {
      await apply(tr);
    } catch (error) {
      emit({ type: 'error', name, error });
    }
    const crash = target(name) !== null;
    if (tr.durationMs !== null) {
      const durationMs = tr.durationMs;
      const left = (): number => durationMs - (now() - startedMs);
      // Node's timers keep a monotonic clock in whole milliseconds and can fire a millisecond before
      // now() says the time is up: armed again for what is left, a fault lasts at least its duration.
      const fire = (): void => {
        const ms = left();
        if (ms > 0) {
          tr.timer = setTimeout(fire, ms);
          return;
        }
        tr.timer = null;
        void serial(name, () => end(tr));
      };
      tr.timer = setTimeout(fire, Math.max(0, left()));
    } else if (crash) {
      await end(tr); // a crash without a duration: restarted at once
    }
  };

  const stopWhere = async (pick: (tr: Track) => boolean): Promise<void> => {
    await Promise.all([...active.values()].filter(pick).map((tr) => serial(tr.name, () => end(tr))));
  };

  return {
    start(name, o = {}) {
      if (!available(name)) return Promise.reject(new Error(`${name}: not available in this process (${unavailableWhy(name)})`));
      return serial(name, () => begin(name, o));
    },
    stop(name) {
      return serial(name, async () => {
        const tr = active.get(name);
        if (tr) await end(tr);
      });
    },
    toggle(name) {
      return active.has(name) ? this.stop(name) : this.start(name, {});
    },
    stopAll: () => stopWhere(() => true),
    stopOpenEnded: () => stopWhere((tr) => tr.durationMs === null),
    available,
    anyActive: () => active.size > 0,
    async whenIdle() {
      while (active.size > 0) await new Promise((r) => setTimeout(r, 50));
    },
    status(): FaultStatus[] {
      return INFRA_FAULTS.map((name) => {
        const tr = active.get(name);
        if (!tr) return { name, kind: 'infra' as const, active: false };
        // The backlog first: a narrow panel keeps the start of the line.
        const parts: string[] = [`${compact(lastBacklog)} backlog`];
        if (tr.record.peak_backlog > lastBacklog) parts.push(`peak ${compact(tr.record.peak_backlog)}`);
        if (tr.latencyMs !== null) parts.push(`+${tr.latencyMs}ms`);
        if (tr.durationMs !== null) parts.push(`of ${fmtSeconds(tr.durationMs)}`);
        return { name, kind: 'infra' as const, active: true, sinceMs: tr.startedMs, detail: parts.join(' · ') };
      });
    },
    draining() {
      return all
        .filter((tr) => tr.endedMs !== null && !tr.drained)
        .map((tr) => ({ name: tr.name, endedMs: tr.endedMs!, backlog: lastBacklog, peak: tr.record.peak_backlog }));
    },
    settle(atMs = now()) {
      for (const tr of all) if (tr.endedMs !== null && !tr.drained) markDrained(tr, Math.max(atMs, tr.endedMs));
    },
    records: () => all.map((tr) => ({ ...tr.record })),
    close() {
      clearInterval(sampler);
      for (const tr of all) if (tr.timer) clearTimeout(tr.timer);
    },
  };
}

function unavailableWhy(name: InfraFault): string {
  if (name.startsWith('broker')) return 'no bus';
  if (name.startsWith('db')) return 'no database';
  return name === 'processor_crash' ? 'no processor role here' : 'no sink role here';
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
const fmtSeconds = (ms: number): string => (ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`);
