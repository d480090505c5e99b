/**
 * The dashboard with a fake, moving store: for looking at it in a real terminal.
 *   npx tsx scripts/ui-demo.tsx [layout]      (layout: a file name in fixtures/layouts, default corner-shop)
 * Keys work as in a run; q drains for a second, then exits.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Layout, SnapshotCustomer } from '../src/engine/types.js';
import { appendRejected, createDashboardStore, createThrottledPublisher, pushHistory, type DashboardState } from '../src/ui/dashboard-state.js';
import { demoRandom, demoState, SAMPLE_LAYOUT, walkableCells } from '../src/ui/demo-state.js';
import { renderDashboard, type UiCommand } from '../src/ui/render-dashboard.js';

function loadLayout(name: string): Layout {
  const path = fileURLToPath(new URL(`../fixtures/layouts/${name}.json`, import.meta.url));
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Layout) : SAMPLE_LAYOUT;
}

const layout = loadLayout(process.argv[2] ?? 'corner-shop');
let state: DashboardState = demoState(layout);
const store = createDashboardStore(state);
const publisher = createThrottledPublisher(store, 200);
const r = demoRandom(42);
const walkable = walkableCells(layout);
const free = new Set(walkable.map((p) => `${p.x},${p.y}`));
const WARPS = [1, 2, 5, 10, 30, 60, 'max'] as const;
const CODES = ['schema', 'quantity', 'unknown_item', 'late', 'duplicate', 'unparseable', 'unknown_customer'];

function step(c: SnapshotCustomer): SnapshotCustomer {
  if (c.state !== 'walking' || r() < 0.3) return c;
  const dirs = [[1, 0], [-1, 0], [0, 1], [0, -1]] as const;
  const [dx, dy] = dirs[Math.floor(r() * dirs.length)] ?? [0, 0];
  const x = c.x + dx, y = c.y + dy;
  return free.has(`${x},${y}`) ? { ...c, x, y } : c;
}

function tick(): void {
  const h = state.header;
  if (h.paused) return;
  const warp = h.warp === 'max' ? 600 : h.warp;
  const speed = warp / 10;
  state = {
    ...state,
    header: { ...h, simTimeMs: h.simTimeMs + 250 * warp },
    floor: { ...state.floor, customers: state.floor.customers.map(step) },
    carts: state.carts.map((c) => ({ ...c, age_ms: c.age_ms + 250 * warp })),
    topics: state.topics.map((t) => {
      const rate = Math.max(0, t.ratePerSec * (0.9 + 0.2 * r()) * (t.ratePerSec < 0.5 ? speed + 1 : 1));
      return { ...t, ratePerSec: rate, total: Math.round(t.total + rate / 4), history: pushHistory(t.history, rate) };
    }),
    kpis: { ...state.kpis, revenueCents: state.kpis.revenueCents + Math.floor(r() * 400 * speed), transactions: state.kpis.transactions + (r() < 0.2 ? 1 : 0) },
  };
  if (state.faults.some((f) => f.active && f.kind === 'data') && r() < 0.3) {
    const code = CODES[Math.floor(r() * CODES.length)] ?? 'schema';
    state = {
      ...state,
      rejected: {
        latest: appendRejected(state.rejected.latest, [{ at: new Date(state.header.simTimeMs).toISOString(), topic: r() < 0.7 ? 'shelf_events' : 'foot_traffic', code, reason: `demo ${code} dead letter\nwith a newline` }]),
        byCode: { ...state.rejected.byCode, [code]: (state.rejected.byCode[code] ?? 0) + 1 },
      },
    };
  }
  publisher.offer(state);
}

let quitting = false;

function onCommand(cmd: UiCommand): void {
  const h = state.header;
  switch (cmd.type) {
    case 'rate_up':
      state = { ...state, header: { ...h, ratePerMin: Math.min(600, h.ratePerMin + (h.ratePerMin >= 20 ? 5 : 1)) } };
      break;
    case 'rate_down':
      state = { ...state, header: { ...h, ratePerMin: Math.max(0, h.ratePerMin - (h.ratePerMin > 20 ? 5 : 1)) } };
      break;
    case 'warp_up':
    case 'warp_down': {
      const i = WARPS.indexOf(h.warp as (typeof WARPS)[number]);
      const j = Math.max(0, Math.min(WARPS.length - 1, (i < 0 ? 3 : i) + (cmd.type === 'warp_up' ? 1 : -1)));
      state = { ...state, header: { ...h, warp: WARPS[j] ?? 10 } };
      break;
    }
    case 'toggle_pause':
      state = { ...state, header: { ...h, paused: !h.paused } };
      break;
    case 'toggle_fault':
      state = {
        ...state,
        faults: state.faults.map((f) =>
          f.name !== cmd.fault ? f : f.active ? { name: f.name, kind: f.kind, active: false } : { ...f, active: true, sinceMs: Date.now(), ...(f.kind === 'data' ? { rate: 0.01 } : {}) }),
      };
      break;
    case 'quit':
      if (quitting) {
        handle.unmount();
        process.exit(130);
      }
      quitting = true;
      state = { ...state, status: { draining: true, message: 'stopping: flushing the sink' } };
      setTimeout(() => {
        clearInterval(timer);
        publisher.stop();
        handle.unmount();
      }, 1200);
      break;
  }
  publisher.offer(state);
}

const timer = setInterval(tick, 250);
const handle = renderDashboard({ store, onCommand });
await handle.waitUntilExit();
process.exit(0);
