import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  appendRejected, createDashboardStore, createThrottledPublisher, emptyDashboardState, publish, pushHistory, REJECTED_RING,
  type DashboardState,
} from './dashboard-state.js';
import { demoState, SAMPLE_LAYOUT } from './demo-state.js';

const clone = (s: DashboardState): DashboardState => ({ ...structuredClone(s), floor: { ...structuredClone(s.floor), layout: s.floor.layout } });

describe('createDashboardStore', () => {
  it('makes a separate store per call', () => {
    const a = createDashboardStore(emptyDashboardState(SAMPLE_LAYOUT));
    const b = createDashboardStore(emptyDashboardState(SAMPLE_LAYOUT));
    publish(a, { ...a.getState(), header: { ...a.getState().header, paused: true } });
    expect(a.getState().header.paused).toBe(true);
    expect(b.getState().header.paused).toBe(false);
  });
});

describe('publish', () => {
  it('keeps the previous object for every slice that did not change', () => {
    const store = createDashboardStore(demoState(SAMPLE_LAYOUT, { nowMs: 0 }));
    const before = store.getState();
    const next = clone(before);
    next.kpis.transactions += 1;
    publish(store, next);
    const after = store.getState();
    expect(after.kpis.transactions).toBe(before.kpis.transactions + 1);
    expect(after.kpis).not.toBe(before.kpis);
    expect(after.header).toBe(before.header);
    expect(after.floor).toBe(before.floor);
    expect(after.topics).toBe(before.topics);
    expect(after.rejected).toBe(before.rejected);
  });

  it('does not notify subscribers when nothing changed', () => {
    const store = createDashboardStore(demoState(SAMPLE_LAYOUT, { nowMs: 0 }));
    const listener = vi.fn();
    store.subscribe(listener);
    publish(store, clone(store.getState()));
    expect(listener).not.toHaveBeenCalled();
  });
});

describe('createThrottledPublisher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('publishes at most once per interval, the newest state winning', () => {
    vi.useFakeTimers();
    const store = createDashboardStore(emptyDashboardState(SAMPLE_LAYOUT));
    const listener = vi.fn();
    store.subscribe(listener);
    const publisher = createThrottledPublisher(store, 250);
    const withTx = (n: number): DashboardState => ({ ...store.getState(), kpis: { ...store.getState().kpis, transactions: n } });

    // Given a first state, it goes out at once
    publisher.offer(withTx(1));
    expect(listener).toHaveBeenCalledTimes(1);
    // When a hundred more arrive within the interval
    for (let i = 2; i <= 101; i++) publisher.offer(withTx(i));
    expect(listener).toHaveBeenCalledTimes(1);
    // Then only the newest is published, at the end of the interval
    vi.advanceTimersByTime(250);
    expect(listener).toHaveBeenCalledTimes(2);
    expect(store.getState().kpis.transactions).toBe(101);
    // And an idle interval publishes nothing
    vi.advanceTimersByTime(1000);
    expect(listener).toHaveBeenCalledTimes(2);
    publisher.stop();
  });

  it('flush publishes the pending state now; stop drops it', () => {
    vi.useFakeTimers();
    const store = createDashboardStore(emptyDashboardState(SAMPLE_LAYOUT));
    const publisher = createThrottledPublisher(store, 250);
    const withRate = (n: number): DashboardState => ({ ...store.getState(), header: { ...store.getState().header, ratePerMin: n } });
    publisher.offer(withRate(1));
    publisher.offer(withRate(2));
    publisher.flush();
    expect(store.getState().header.ratePerMin).toBe(2);
    publisher.offer(withRate(3));
    publisher.stop();
    vi.advanceTimersByTime(1000);
    expect(store.getState().header.ratePerMin).toBe(2);
  });
});

describe('bounded buffers', () => {
  it('appendRejected keeps the newest REJECTED_RING', () => {
    const item = (i: number) => ({ at: String(i), topic: 't', code: 'schema', reason: 'r' });
    let ring = appendRejected([], [item(0)]);
    for (let i = 1; i < 200; i++) ring = appendRejected(ring, [item(i)]);
    expect(ring).toHaveLength(REJECTED_RING);
    expect(ring[ring.length - 1]?.at).toBe('199');
  });

  it('pushHistory keeps the last 30 rates', () => {
    let h: number[] = [];
    for (let i = 0; i < 100; i++) h = pushHistory(h, i);
    expect(h).toHaveLength(30);
    expect(h[29]).toBe(99);
  });
});
