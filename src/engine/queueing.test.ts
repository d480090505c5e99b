import { describe, expect, it } from 'vitest';
import { createEngine, defaultEngineConfig } from './engine.js';
import { testFixtures } from './test-fixtures.js';
import type { EngineEvent } from './types.js';

const fixtures = testFixtures();

/** Erlang C: mean wait in queue of an M/M/c queue with arrival rate lambda and service rate mu. */
function erlangCWait(lambda: number, mu: number, c: number): number {
  const a = lambda / mu;
  let sum = 0;
  let term = 1; // a^k / k!
  for (let k = 0; k < c; k++) { sum += term; term *= a / (k + 1); }
  const top = term * (c / (c - a)); // a^c / c! * c / (c - a)
  const pWait = top / (sum + top);
  return pWait / (c * mu - lambda);
}

function foot(ratePerMin: number, layout: string, seed: number, events: number, extra: Parameters<typeof defaultEngineConfig>[0] = {}): Record<string, unknown>[] {
  const engine = createEngine({
    fixtures,
    config: defaultEngineConfig({ seed, layout, ratePerMin, trafficCurve: 'flat', ...extra }),
  });
  const out: Record<string, unknown>[] = [];
  engine.run(Infinity, events, (m) => {
    if (m.kind === 'event' && (m as EngineEvent).topic === 'foot_traffic') out.push(JSON.parse(m.value) as Record<string, unknown>);
  });
  return out;
}

describe('queueing', () => {
  it('shared queue, exponential service, c lanes, no reneging: mean wait matches Erlang C within 10%', () => {
    // Given 4 lanes fed by one FIFO queue, 45 s mean exponential service, Poisson arrivals
    // (arrivals at the door are Poisson; independent shopping times and leave decisions keep the
    // stream of queue joins Poisson), and nobody giving up
    const c = 4;
    const meanServiceS = 45;
    const exits = foot(4.2, 'market', 17, 900_000, {
      queueDiscipline: 'shared',
      serviceTimeSec: { kind: 'exponential', mean: meanServiceS },
      renegePatienceSec: null,
    }).filter((o) => o.event_type === 'exit');
    // When the waits are measured after a warm-up hour
    const t0 = Date.parse(exits[0]!.timestamp as string) + 3_600_000;
    const queued = exits.filter((o) => o.queue_joined_at !== null && Date.parse(o.queue_joined_at as string) >= t0);
    expect(queued.every((o) => o.service_started_at !== null)).toBe(true);
    const joins = queued.map((o) => Date.parse(o.queue_joined_at as string));
    const spanMin = (joins.reduce((m, x) => Math.max(m, x), -Infinity) - joins.reduce((m, x) => Math.min(m, x), Infinity)) / 60_000;
    const lambda = queued.length / spanMin; // joins per minute
    const mu = 60 / meanServiceS;
    const waitMin = queued.reduce((s, o) => s + Date.parse(o.service_started_at as string) - Date.parse(o.queue_joined_at as string), 0) / queued.length / 60_000;
    // Then the mean wait is Erlang C's
    const expected = erlangCWait(lambda, mu, c);
    expect(queued.length).toBeGreaterThan(50_000);
    expect(lambda / (c * mu)).toBeGreaterThan(0.6); // a loaded system, where waits are not trivial
    expect(Math.abs(waitMin / expected - 1), `wait ${waitMin.toFixed(3)} min vs Erlang C ${expected.toFixed(3)} min at rho ${(lambda / (c * mu)).toFixed(2)}`).toBeLessThan(0.1);
  });

  it("Little's law: time-average customers inside = arrival rate x mean time inside, within 5%", () => {
    const msgs = foot(3, 'corner-shop', 23, 400_000);
    const entries = new Map<string, number>();
    const stays: { in: number; out: number }[] = [];
    for (const o of msgs) {
      if (o.event_type === 'entry') entries.set(o.visit_id as string, Date.parse(o.timestamp as string));
      else stays.push({ in: entries.get(o.visit_id as string)!, out: Date.parse(o.timestamp as string) });
    }
    const first = stays.reduce((m, s) => Math.min(m, s.in), Infinity);
    const last = stays.reduce((m, s) => Math.max(m, s.out), -Infinity);
    // A window well inside the run: every visit that starts in it has ended by the end of the stream.
    const a = first + 3_600_000;
    const b = last - 4 * 3_600_000;
    const inWindow = stays.filter((s) => s.in >= a && s.in < b);
    const lambda = inWindow.length / (b - a);
    const meanStay = inWindow.reduce((t, s) => t + (s.out - s.in), 0) / inWindow.length;
    // time-average of the number inside over [a, b)
    let area = 0;
    for (const s of stays) area += Math.max(0, Math.min(s.out, b) - Math.max(s.in, a));
    const L = area / (b - a);
    expect(inWindow.length).toBeGreaterThan(20_000);
    expect(Math.abs(L / (lambda * meanStay) - 1), `L ${L.toFixed(3)} vs lambda*W ${(lambda * meanStay).toFixed(3)}`).toBeLessThan(0.05);
  });

  it("'shortest' joins the lane with the fewest customers waiting and in service, ties to the lowest lane", () => {
    const exits = foot(3, 'market', 5, 60_000).filter((o) => o.event_type === 'exit' && o.lane !== null);
    const perLane = [0, 0, 0, 0];
    for (const o of exits) perLane[(o.lane as number) - 1]!++;
    // at a light load most customers find lane 1 free; higher lanes are used only when it is busy
    expect(perLane[0]).toBeGreaterThan(perLane[1]!);
    expect(perLane[1]).toBeGreaterThan(perLane[2]!);
    expect(perLane[2]).toBeGreaterThanOrEqual(perLane[3]!);
  });
});
