import { describe, expect, it } from 'vitest';
import { decodePairState, encodePairState } from './snapshot-codec.js';
import { RUN, eid, feed, makeCore, pairStream } from './processor-core.test-kit.js';

describe('pair-state snapshots', () => {
  function midRun() {
    const p = pairStream();
    const core = makeCore();
    const pair = core.newPairState();
    const old = pairStream({ run: '01936a50-0000-7000-8000-0000000000ff' });
    feed(core, pair, [
      ['foot', old.runStart('foot')], ['shelf', old.runStart('shelf')], ['foot', old.end('foot')], ['shelf', old.end('shelf')],
      ['foot', p.runStart('foot')], ['shelf', p.runStart('shelf')],
      ['foot', p.entry(1, 'V', 10)], ['shelf', p.pickup(2, 'V', 'A', 3, 12)], ['shelf', p.putback(3, 'V', 'A', 1, 13)],
      ['shelf', p.pickup(4, 'H', 'B', 1, 14, eid(4242))], // held: H has not entered
      ['shelf', p.raw('shelf', 5, Buffer.from([0, 1, 2, 255]))],
      ['foot', p.paidExit(6, 'V', 40, 10)],
      ['foot', p.watermark('foot', 50)], ['shelf', p.watermark('shelf', 30)],
      ['foot', p.end('foot')],
    ]);
    return { p, core, pair };
  }

  it('round-trips a state mid-run exactly: held events, carts, dedup ids, high-water marks, ended flags', () => {
    const { pair } = midRun();
    const run = pair.runs.get(RUN)!;
    expect(run.foot.ended).toBe(true);
    expect(run.visits.get('H')!.held).toHaveLength(1);
    expect(run.visits.get('V')!.cart).toEqual(new Map([['A', 2]]));
    expect(pair.endedRuns).toHaveLength(1);
    const bytes = encodePairState(pair, { foot: 7, shelf: 9 });
    const { state, offsets } = decodePairState(bytes);
    expect(offsets).toEqual({ foot: 7, shelf: 9 });
    expect(state).toEqual(pair);
    expect([...state.runs.get(RUN)!.shelf.dedup.keys()]).toEqual([...run.shelf.dedup.keys()]); // order kept
    expect(state.runs.get(RUN)!.visits.get('H')!.held[0]!.msg.value.equals(run.visits.get('H')!.held[0]!.msg.value)).toBe(true);
    expect(encodePairState(state, offsets).equals(bytes)).toBe(true);
    expect(bytes.toString()).not.toMatch(/Infinity|NaN/);
  });

  it('a restored state judges the rest exactly as the live one', () => {
    const { p, core, pair } = midRun();
    const copy = decodePairState(encodePairState(pair, { foot: 0, shelf: 0 })).state;
    const rest: Parameters<typeof feed>[2] = [['shelf', p.pickup(7, 'V', 'C', 1, 35)], ['shelf', p.end('shelf')]];
    const a = feed(core, pair, rest);
    const b = feed(makeCore(), copy, rest);
    expect(b).toEqual(a);
    expect(a.map((o) => o.kind)).toEqual(['clean', 'dead_letter', 'pos', 'visit']);
  });

  it('an empty pair state round-trips', () => {
    const empty = makeCore().newPairState();
    expect(decodePairState(encodePairState(empty, { foot: 0, shelf: 0 })).state).toEqual(empty);
  });

  it('refuses a snapshot of another version and an Infinity in the state', () => {
    expect(() => decodePairState(Buffer.from('{"v":99}'))).toThrow(/version/);
    const { pair } = midRun();
    pair.runs.get(RUN)!.shelf.time = Infinity;
    expect(() => encodePairState(pair, { foot: 0, shelf: 0 })).toThrow(/flag, not Infinity/);
  });
});
