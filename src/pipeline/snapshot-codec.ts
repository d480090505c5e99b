/**
 * One codec for pair-state snapshots in both modes (DESIGN.md, Processor state): the state topic
 * keeps these bytes, never live objects. JSON with a fixed key order, Maps as [key, value] arrays in
 * insertion order, message values as base64, an ended partition as a flag (no Infinity, which
 * JSON turns into null). decode(encode(s)) equals s, and encode(decode(b)) equals b.
 */
import type { IncomingMessage } from '../kafka/bus.js';
import type { PairSide } from './types.js';
import type { EndedRun, EntryInfo, ExitInfo, HeldEvent, PairState, RunState, SideState, VisitState } from './processor-core.js';

export const SNAPSHOT_VERSION = 1;

/** Next offsets to read on each partition of the pair when this state was taken. */
export interface PairOffsets { foot: number; shelf: number }

export interface DecodedSnapshot { state: PairState; offsets: PairOffsets }

// --- the wire shape (plain JSON) -------------------------------------------------------------

interface WireMessage {
  topic: string; partition: number; offset: number; key: string | null; value: string;
  headers: [string, string][]; timestamp: number;
}
interface WireHeld { side: PairSide; tsMs: number; event: HeldEvent['event']; msg: WireMessage }
interface WireVisit {
  visitId: string; entry: EntryInfo | null; cart: [string, number][]; exit: ExitInfo | null; held: WireHeld[];
}
interface WireSide { started: boolean; ended: boolean; time: number | null; seqHigh: number; dedup: [string, number][] }
interface WireRun {
  runId: string; settings: RunState['settings']; refused: string | null;
  foot: WireSide; shelf: WireSide; visits: WireVisit[]; nextDue: number | null;
}
interface WireSnapshot { v: number; offsets: PairOffsets; runs: WireRun[]; endedRuns: EndedRun[] }

// --- encode ----------------------------------------------------------------------------------------

const encMsg = (m: IncomingMessage): WireMessage => ({
  topic: m.topic, partition: m.partition, offset: m.offset, key: m.key,
  value: m.value.toString('base64'), headers: Object.entries(m.headers), timestamp: m.timestamp,
});

const encSide = (s: SideState): WireSide => ({
  started: s.started, ended: s.ended, time: s.time, seqHigh: s.seqHigh, dedup: [...s.dedup],
});

const encVisit = (v: VisitState): WireVisit => ({
  visitId: v.visitId,
  entry: v.entry === null ? null : { ...v.entry },
  cart: [...v.cart],
  exit: v.exit === null ? null : { ...v.exit },
  held: v.held.map((h) => ({ side: h.side, tsMs: h.tsMs, event: h.event, msg: encMsg(h.msg) })),
});

const encRun = (r: RunState): WireRun => ({
  runId: r.runId, settings: r.settings, refused: r.refused, foot: encSide(r.foot), shelf: encSide(r.shelf),
  visits: [...r.visits.values()].map(encVisit), nextDue: r.nextDue,
});

function assertFiniteNumbers(key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new Error(`snapshot: ${key} is ${value}; ended partitions are a flag, not Infinity`);
  }
  return value;
}

/** Encodes a pair state with the offsets (next to read) it corresponds to. */
export function encodePairState(state: PairState, offsets: PairOffsets): Buffer {
  const wire: WireSnapshot = {
    v: SNAPSHOT_VERSION,
    offsets: { foot: offsets.foot, shelf: offsets.shelf },
    runs: [...state.runs.values()].map(encRun),
    endedRuns: state.endedRuns.map((e) => ({ runId: e.runId, seqHigh: { foot: e.seqHigh.foot, shelf: e.seqHigh.shelf } })),
  };
  return Buffer.from(JSON.stringify(wire, assertFiniteNumbers), 'utf8');
}

// --- decode ----------------------------------------------------------------------------------------

const decMsg = (m: WireMessage): IncomingMessage => ({
  topic: m.topic, partition: m.partition, offset: m.offset, key: m.key,
  value: Buffer.from(m.value, 'base64'), headers: Object.fromEntries(m.headers), timestamp: m.timestamp,
});

const decSide = (s: WireSide): SideState => ({
  started: s.started, ended: s.ended, time: s.time, seqHigh: s.seqHigh, dedup: new Map(s.dedup),
});

const decVisit = (v: WireVisit): VisitState => ({
  visitId: v.visitId, entry: v.entry, cart: new Map(v.cart), exit: v.exit,
  held: v.held.map((h) => ({ side: h.side, tsMs: h.tsMs, event: h.event, msg: decMsg(h.msg) })),
});

const decRun = (r: WireRun): RunState => ({
  runId: r.runId, settings: r.settings, refused: r.refused, foot: decSide(r.foot), shelf: decSide(r.shelf),
  visits: new Map(r.visits.map((v) => [v.visitId, decVisit(v)])), nextDue: r.nextDue,
});

/** Decodes a snapshot written by encodePairState. Throws on another version or a malformed buffer. */
export function decodePairState(buf: Buffer): DecodedSnapshot {
  const wire = JSON.parse(buf.toString('utf8')) as WireSnapshot;
  if (typeof wire !== 'object' || wire === null || wire.v !== SNAPSHOT_VERSION) {
    throw new Error(`snapshot: unsupported version ${String((wire as { v?: unknown } | null)?.v)} (expected ${SNAPSHOT_VERSION})`);
  }
  if (!Array.isArray(wire.runs) || !Array.isArray(wire.endedRuns) || typeof wire.offsets?.foot !== 'number' || typeof wire.offsets?.shelf !== 'number') {
    throw new Error('snapshot: malformed pair state');
  }
  const runs = new Map<string, RunState>();
  for (const r of wire.runs) runs.set(r.runId, decRun(r));
  return {
    state: { runs, endedRuns: wire.endedRuns.map((e) => ({ runId: e.runId, seqHigh: { ...e.seqHigh } })) },
    offsets: { foot: wire.offsets.foot, shelf: wire.offsets.shelf },
  };
}
