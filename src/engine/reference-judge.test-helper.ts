/**
 * Test-only: an independent, deliberately plain reading of DESIGN.md's processor rules ("Event time,
 * lateness and checkout"), used to check the engine's ledger. It shares no code with the engine.
 * Messages are split into partition pairs by key, and each pair's two topics are interleaved in a
 * seeded random order (per-topic order kept), as any consumer may read them.
 */
import type { EngineMessage, Verdict } from './types.js';

export interface JudgeOptions {
  partitions: number;
  graceMs: number;
  dedupWindowMs: number;
  catalog: ReadonlySet<string>;
  /** Seed for the interleaving of foot and shelf within a pair; null = emission order. */
  interleaveSeed: number | null;
}

export interface JudgedVisit {
  status: 'purchased' | 'abandoned' | 'left_empty' | 'open_at_end';
  lines: { item_id: string; quantity: number }[];
}

export interface Judgement {
  verdicts: Map<number, Verdict>;
  visits: Map<string, JudgedVisit>;
}

interface Msg { seq: number; topic: 'foot_traffic' | 'shelf_events' | 'marker'; value: string; atMs: number }

function hashKey(key: string): number {
  let h = 2166136261;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619);
  return h >>> 0;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** The schema: field presence and types only (a zero or negative integer quantity passes). */
function schemaOk(o: Record<string, unknown>): boolean {
  const str = (k: string): boolean => typeof o[k] === 'string' && (o[k] as string).length > 0;
  const isoOrNull = (k: string): boolean => o[k] === null || (typeof o[k] === 'string' && ISO.test(o[k] as string));
  if (!str('event_id') || !str('store_id') || !str('customer_id') || !str('visit_id')) return false;
  if (typeof o.timestamp !== 'string' || !ISO.test(o.timestamp)) return false;
  if (o.schema_version !== 1) return false;
  switch (o.event_type) {
    case 'entry': return str('door');
    case 'exit':
      return typeof o.entry_time === 'string' && ISO.test(o.entry_time) && typeof o.exit_time === 'string' && ISO.test(o.exit_time) &&
        (o.lane === null || Number.isInteger(o.lane)) && isoOrNull('queue_joined_at') && isoOrNull('service_started_at') &&
        (o.payment_method === null || typeof o.payment_method === 'string');
    case 'pickup': case 'putback':
      return str('shelf_id') && str('item_id') && Number.isInteger(o.quantity);
    default: return false;
  }
}

interface VisitState { entered: boolean; held: { seq: number; o: Record<string, unknown>; ts: number }[]; cart: Map<string, number>; exit: Record<string, unknown> | null }

export function judge(messages: readonly EngineMessage[], opts: JudgeOptions): Judgement {
  const pairs: { foot: Msg[]; shelf: Msg[] }[] = Array.from({ length: opts.partitions }, () => ({ foot: [], shelf: [] }));
  for (const m of messages) {
    if (m.kind === 'watermark') {
      for (const p of pairs) {
        p.foot.push({ seq: 0, topic: 'marker', value: '', atMs: m.atMs });
        p.shelf.push({ seq: 0, topic: 'marker', value: '', atMs: m.atMs });
      }
      continue;
    }
    const p = pairs[hashKey(m.key) % opts.partitions]!;
    (m.topic === 'foot_traffic' ? p.foot : p.shelf).push({ seq: m.seq, topic: m.topic, value: m.value, atMs: m.atMs });
  }
  const verdicts = new Map<number, Verdict>();
  const visits = new Map<string, JudgedVisit>();
  let rs = (opts.interleaveSeed ?? 1) >>> 0;
  const rand = (): number => { rs = (Math.imul(rs, 1664525) + 1013904223) >>> 0; return rs / 4294967296; };

  for (const pair of pairs) {
    const time = { foot: -Infinity, shelf: -Infinity };
    const seen = { foot: new Map<string, number>(), shelf: new Map<string, number>() };
    const vs = new Map<string, VisitState>();
    const holding = new Set<VisitState>();
    const visit = (id: string): VisitState => {
      let v = vs.get(id);
      if (!v) { v = { entered: false, held: [], cart: new Map(), exit: null }; vs.set(id, v); }
      return v;
    };
    const apply = (seq: number, o: Record<string, unknown>): void => {
      const v = visit(o.visit_id as string);
      if (o.event_type === 'exit') { v.exit = o; verdicts.set(seq, 'accepted'); return; }
      if (o.event_type === 'entry') { verdicts.set(seq, 'accepted'); return; }
      const item = o.item_id as string;
      const q = o.quantity as number;
      if (!opts.catalog.has(item)) { verdicts.set(seq, 'unknown_item'); return; }
      const held = v.cart.get(item) ?? 0;
      if (q <= 0 || (o.event_type === 'putback' && q > held)) { verdicts.set(seq, 'quantity'); return; }
      v.cart.set(item, held + (o.event_type === 'pickup' ? q : -q));
      verdicts.set(seq, 'accepted');
    };
    const expireHeld = (): void => {
      const wm = Math.min(time.foot, time.shelf);
      for (const v of holding) {
        if (v.entered || v.held.length === 0) { holding.delete(v); continue; }
        const keep = [];
        for (const h of v.held) {
          if (h.ts + opts.graceMs < wm) verdicts.set(h.seq, 'unknown_customer');
          else keep.push(h);
        }
        v.held = keep;
      }
    };
    const read = (side: 'foot' | 'shelf', m: Msg): void => {
      if (m.topic === 'marker') { time[side] = Math.max(time[side], m.atMs); expireHeld(); return; }
      let o: Record<string, unknown>;
      try { o = JSON.parse(m.value) as Record<string, unknown>; } catch { verdicts.set(m.seq, 'unparseable'); return; }
      if (typeof o !== 'object' || o === null || !schemaOk(o)) { verdicts.set(m.seq, 'schema'); return; }
      const ts = Date.parse(o.timestamp as string);
      const id = o.event_id as string;
      const ids = seen[side];
      const prev = ids.get(id);
      if (prev !== undefined && !(time[side] > prev + opts.dedupWindowMs)) { verdicts.set(m.seq, 'duplicate'); return; }
      ids.set(id, ts);
      if (ts < time[side] - opts.graceMs) { verdicts.set(m.seq, 'late'); return; }
      time[side] = Math.max(time[side], ts);
      const v = visit(o.visit_id as string);
      if (o.event_type === 'entry') {
        v.entered = true;
        apply(m.seq, o);
        for (const h of v.held) apply(h.seq, h.o);
        v.held = [];
      } else if (!v.entered) {
        v.held.push({ seq: m.seq, o, ts });
        holding.add(v);
      } else {
        apply(m.seq, o);
      }
      expireHeld();
    };
    let i = 0, j = 0;
    while (i < pair.foot.length || j < pair.shelf.length) {
      const takeFoot = j >= pair.shelf.length || (i < pair.foot.length && (opts.interleaveSeed === null ? pair.foot[i]!.atMs <= pair.shelf[j]!.atMs : rand() < 0.5));
      if (takeFoot) read('foot', pair.foot[i++]!);
      else read('shelf', pair.shelf[j++]!);
    }
    // End markers: the watermark is +infinity.
    time.foot = time.shelf = Infinity;
    expireHeld();
    for (const [id, v] of vs) {
      if (!v.entered) continue;
      const lines = [...v.cart].filter(([, q]) => q > 0).map(([item_id, quantity]) => ({ item_id, quantity }))
        .sort((a, b) => (a.item_id < b.item_id ? -1 : 1));
      let status: JudgedVisit['status'] = 'open_at_end';
      if (v.exit) status = v.exit.payment_method !== null && v.exit.service_started_at !== null ? 'purchased' : lines.length > 0 ? 'abandoned' : 'left_empty';
      visits.set(id, { status, lines });
    }
  }
  return { verdicts, visits };
}
