import { afterEach, describe, expect, it, vi } from 'vitest';
import stringWidth from 'string-width';
import { Dashboard } from './dashboard.js';
import { createDashboardStore, publish, type DashboardStore } from './dashboard-state.js';
import { demoState, SAMPLE_LAYOUT } from './demo-state.js';
import type { UiCommand } from './keymap.js';
import { DashboardStoreContext } from './store-context.js';
import { normalise, renderAt, waitFor, type Rendered } from './test-kit.js';
import type { Layout } from '../engine/types.js';

/** The corner shop's size and lanes (38x11, two lanes on one row), drawn inline so tests own their data. */
const CORNER: Layout = {
  ...SAMPLE_LAYOUT,
  name: 'corner-like',
  title: 'Corner Like',
  width: 38,
  height: 11,
  plan: [
    '######################################',
    '#SSSSSSSSSSS#SSSSSSSSSSS#SSSSSSSSSSSS#',
    '#....................................#',
    '#..SSSSSSSSSSSSS....SSSSSSSSSSSSS...S#',
    '#..SSSSSSSSSSSSS....SSSSSSSSSSSSS...S#',
    '#...................................S#',
    '#..SSSSSSSSSSSSS....SSSSSSSSSSSSS...S#',
    '#...................................S#',
    '#.LQQQQQ...LQQQQQ....................#',
    '#....................................#',
    '###########################D##########',
  ],
  doors: [{ door_id: 'D1', at: { x: 27, y: 10 } }],
  shelves: [
    { shelf_id: 'S1', access: { x: 6, y: 2 }, cells: [{ x: 1, y: 1 }], item_ids: ['SKU-0001'] },
    { shelf_id: 'S2', access: { x: 20, y: 2 }, cells: [{ x: 20, y: 1 }], item_ids: ['SKU-0002'] },
  ],
  lanes: [
    { lane: 1, at: { x: 2, y: 8 }, queue: [3, 4, 5, 6, 7].map((x) => ({ x, y: 8 })) },
    { lane: 2, at: { x: 11, y: 8 }, queue: [12, 13, 14, 15, 16].map((x) => ({ x, y: 8 })) },
  ],
};

let view: Rendered | undefined;
afterEach(() => {
  view?.unmount();
  view = undefined;
});

function mount(store: DashboardStore, columns: number, rows: number, onCommand: (cmd: UiCommand) => void = () => {}): Rendered {
  view = renderAt(
    <DashboardStoreContext.Provider value={store}>
      <Dashboard onCommand={onCommand} />
    </DashboardStoreContext.Provider>,
    columns,
    rows,
  );
  return view;
}

function expectFits(frame: string, columns: number, rows: number): void {
  const lines = frame.split('\n');
  // One row shorter than the terminal, or Ink clears the screen before every frame.
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const line of lines) expect(stringWidth(line)).toBeLessThanOrEqual(columns);
}

describe('Dashboard', () => {
  it('fits 80x24 with every panel, the corner shop whole', async () => {
    const store = createDashboardStore(demoState(CORNER, { nowMs: Date.now() }));
    const v = mount(store, 80, 24);
    await waitFor(() => v.frame().includes('q quit'));
    const frame = v.frame();
    expectFits(frame, 80, 24);
    for (const title of ['Corner Like', 'Carts', 'KPIs', 'Topics', 'Faults', 'Rejected']) expect(frame).toContain(`─ ${title}`);
    expect(frame).toMatch(/└─+▒─+┘/);
    expect(normalise(frame)).toContain('● schema           #%    ##:##');
    expect(frame).toContain('+/- rate  [/] warp  space pause  f faults  ? help  q quit');
  });

  it('uses the room at 160x48 and still fits', async () => {
    const store = createDashboardStore(demoState(CORNER, { nowMs: Date.now() }));
    const v = mount(store, 160, 48);
    await waitFor(() => v.frame().includes('q quit'));
    const frame = v.frame();
    expectFits(frame, 160, 48);
    expect(frame).toContain('lag by group');
    expect(frame).toContain('processor');
    expect(frame).toContain('unknown_customer');
    expect(frame.split('\n').filter((l) => /\d\d:\d\d:\d\d (shelf|foot)_/.test(l)).length).toBeGreaterThan(20);
  });

  it('follows a resize and keeps fitting, down to a too-small terminal', async () => {
    const store = createDashboardStore(demoState(CORNER, { nowMs: Date.now() }));
    const v = mount(store, 160, 48);
    await waitFor(() => v.frame().includes('lag by group'));
    v.stdout.resize(80, 24);
    await waitFor(() => !v.frame().includes('lag by group'));
    expectFits(v.frame(), 80, 24);
    v.stdout.resize(100, 30);
    await waitFor(() => v.frame().split('\n')[0]!.length > 80);
    expectFits(v.frame(), 100, 30);
    v.stdout.resize(40, 10);
    await waitFor(() => v.frame().includes('needs'));
    expectFits(v.frame(), 40, 10);
  });

  it('fits at 80x24 with long texts from outside (reasons, mode, ids)', async () => {
    const s = demoState(CORNER, { nowMs: Date.now() });
    const long = 'x'.repeat(300) + '\n' + '界'.repeat(80);
    const state = {
      ...s,
      header: { ...s.header, mode: { bus: long, db: long } },
      rejected: { ...s.rejected, latest: s.rejected.latest.map((d) => ({ ...d, reason: long, topic: long })) },
      carts: s.carts.map((c) => ({ ...c, customer_id: long, value_cents: 123_456_789_00, items: 12345 })),
      faults: s.faults.map((f) => ({ ...f, active: true, detail: long, sinceMs: 0 })),
      status: { draining: true, message: long },
    };
    const v = mount(createDashboardStore(state), 80, 24);
    await waitFor(() => v.frame().includes('draining'));
    expectFits(v.frame(), 80, 24);
  });

  it('says "draining" once when the run\'s own message already says it', async () => {
    const s = demoState(CORNER, { nowMs: Date.now() });
    const v = mount(createDashboardStore({ ...s, status: { draining: true, message: 'draining' } }), 80, 24);
    await waitFor(() => v.frame().includes('draining'));
    expect(v.frame().match(/draining/g)).toHaveLength(1);
    const w = mount(createDashboardStore({ ...s, status: { draining: true } }), 80, 24);
    await waitFor(() => w.frame().includes('draining…'));
  });

  it('draws customers on the floor, and redraws when the store changes', async () => {
    const s = demoState(CORNER, { nowMs: 0 });
    const store = createDashboardStore({ ...s, floor: { ...s.floor, customers: [] } });
    const v = mount(store, 80, 24);
    await waitFor(() => v.frame().includes('0 in store'));
    expect(v.frame()).not.toContain('@');
    publish(store, s);
    await waitFor(() => v.frame().includes(`${s.floor.customers.length} in store`));
    const floorLines = v.frame().split('\n').slice(2, 13).join('\n');
    for (const glyph of ['@', '$', 'q', 'o', 'e']) expect(floorLines).toContain(glyph);
  });

  it('shows PAUSED in the header while paused', async () => {
    const s = demoState(CORNER, { nowMs: 0 });
    const store = createDashboardStore(s);
    const v = mount(store, 80, 24);
    await waitFor(() => v.frame().includes('q quit'));
    expect(v.frame()).not.toContain('PAUSED');
    publish(store, { ...s, header: { ...s.header, paused: true } });
    await waitFor(() => v.frame().split('\n')[0]!.includes('PAUSED'));
  });

  it('sends a command for each key', async () => {
    const onCommand = vi.fn();
    const v = mount(createDashboardStore(demoState(CORNER, { nowMs: 0 })), 80, 24, onCommand);
    await waitFor(() => v.frame().includes('q quit'));
    const keys: [string, UiCommand][] = [
      ['+', { type: 'rate_up' }], ['-', { type: 'rate_down' }], [']', { type: 'warp_up' }], ['[', { type: 'warp_down' }],
      [' ', { type: 'toggle_pause' }], ['q', { type: 'quit' }], ['\u0003', { type: 'quit' }],
    ];
    for (const [key, cmd] of keys) {
      onCommand.mockClear();
      v.stdin.write(key);
      await waitFor(() => onCommand.mock.calls.length > 0);
      expect(onCommand).toHaveBeenCalledExactlyOnceWith(cmd);
    }
  });

  it('? opens the help overlay listing every key and what the topic rates count; esc closes it', async () => {
    const v = mount(createDashboardStore(demoState(CORNER, { nowMs: 0 })), 80, 24);
    await waitFor(() => v.frame().includes('q quit'));
    v.stdin.write('?');
    await waitFor(() => v.frame().includes('─ Help'));
    for (const key of ['+ / -', '[ / ]', 'space', 'f ', '1-7', 'a-e, g', '?', 'esc', 'q ', 'ctrl-c']) expect(v.frame()).toContain(key);
    expect(v.frame()).toContain('raw topic rates include markers');
    expectFits(v.frame(), 80, 24);
    v.stdin.write('\u001b');
    await waitFor(() => !v.frame().includes('─ Help') && v.frame().includes('─ KPIs'));
  });

  it('f opens the faults menu; a fault key sends toggle_fault; f closes it', async () => {
    const onCommand = vi.fn();
    const v = mount(createDashboardStore(demoState(CORNER, { nowMs: 0 })), 80, 24, onCommand);
    await waitFor(() => v.frame().includes('q quit'));
    v.stdin.write('3');
    v.stdin.write('f');
    await waitFor(() => v.frame().includes('infrastructure'));
    expect(onCommand).not.toHaveBeenCalled();
    for (const name of ['schema', 'unparseable', 'unknown_item', 'quantity', 'unknown_customer', 'late', 'duplicate', 'broker_down', 'broker_slow', 'db_down', 'db_slow', 'processor_crash', 'sink_crash']) {
      expect(v.frame()).toContain(name);
    }
    expectFits(v.frame(), 80, 24);
    v.stdin.write('3');
    await waitFor(() => onCommand.mock.calls.length === 1);
    expect(onCommand).toHaveBeenLastCalledWith({ type: 'toggle_fault', fault: 'unknown_item' });
    v.stdin.write('a');
    await waitFor(() => onCommand.mock.calls.length === 2);
    expect(onCommand).toHaveBeenLastCalledWith({ type: 'toggle_fault', fault: 'broker_down' });
    v.stdin.write('f');
    await waitFor(() => !v.frame().includes('infrastructure'));
  });

  it('a fault key typed right after f, before any redraw, still toggles', async () => {
    const onCommand = vi.fn();
    const v = mount(createDashboardStore(demoState(CORNER, { nowMs: 0 })), 80, 24, onCommand);
    await waitFor(() => v.frame().includes('q quit'));
    v.stdin.write('f');
    v.stdin.write('7');
    await waitFor(() => onCommand.mock.calls.length === 1);
    expect(onCommand).toHaveBeenCalledWith({ type: 'toggle_fault', fault: 'duplicate' });
  });
});
