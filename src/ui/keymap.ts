/**
 * Keys, the commands they send and the UI-local state they change: pure, so the help overlay, the
 * footer and the key hook all read the same table and tests need no terminal.
 */
import { DATA_FAULTS, INFRA_FAULTS, type FaultClass } from './dashboard-state.js';

/** What the dashboard asks of the rest of the program; it never changes engine state itself. */
export type UiCommand =
  | { type: 'rate_up' }
  | { type: 'rate_down' }
  | { type: 'warp_up' }
  | { type: 'warp_down' }
  | { type: 'toggle_pause' }
  | { type: 'toggle_fault'; fault: string }
  | { type: 'quit' };

export type Overlay = 'none' | 'help' | 'faults';

export interface UiState { overlay: Overlay }

export type UiAction =
  | { type: 'toggle_help' }
  | { type: 'toggle_faults' }
  | { type: 'close' };

export const initialUiState: UiState = { overlay: 'none' };

export function uiReducer(state: UiState, action: UiAction): UiState {
  switch (action.type) {
    case 'toggle_help':
      return { overlay: state.overlay === 'help' ? 'none' : 'help' };
    case 'toggle_faults':
      return { overlay: state.overlay === 'faults' ? 'none' : 'faults' };
    case 'close':
      return state.overlay === 'none' ? state : { overlay: 'none' };
  }
}

export interface FaultKey { key: string; fault: string; kind: FaultClass }

/** Data faults on 1–7, infrastructure slots on letters (f stays the menu's own key). */
export const FAULT_KEYS: readonly FaultKey[] = [
  ...DATA_FAULTS.map((fault, i) => ({ key: String(i + 1), fault, kind: 'data' as const })),
  ...INFRA_FAULTS.map((fault, i) => ({ key: 'abcdeg'[i] ?? '', fault, kind: 'infra' as const })),
];

export interface KeyHelp { keys: string; does: string }

/** Every key, for the help overlay. */
export const KEY_HELP: readonly KeyHelp[] = [
  { keys: '+ / -', does: 'arrival rate up / down' },
  { keys: '[ / ]', does: 'time warp slower / faster' },
  { keys: 'space', does: 'pause / resume the store' },
  { keys: 'f', does: 'faults menu (open / close)' },
  { keys: '1-7', does: 'data fault on/off (in f menu)' },
  { keys: 'a-e, g', does: 'infra fault on/off (in f menu)' },
  { keys: '?', does: 'this help (open / close)' },
  { keys: 'esc', does: 'close the menu or help' },
  { keys: 'q', does: 'quit: drain, then summary' },
  { keys: 'ctrl-c', does: 'quit (twice: force)' },
];

/** The footer's hints, widest first to drop from the end when short of room. */
export const FOOTER_HINTS: readonly string[] = ['+/- rate', '[/] warp', 'space pause', 'f faults', '? help', 'q quit'];

/** The parts of Ink's `Key` the map looks at. */
export interface KeyPress { ctrl?: boolean; escape?: boolean; meta?: boolean }

export interface KeyIntent { command?: UiCommand; action?: UiAction }

/** What a key press means in the given UI state; `{}` when it means nothing. */
export function interpretKey(ui: UiState, input: string, key: KeyPress): KeyIntent {
  if (key.ctrl) return input === 'c' ? { command: { type: 'quit' } } : {};
  if (key.escape) return { action: { type: 'close' } };
  if (key.meta) return {};
  if (ui.overlay === 'faults') {
    const fk = FAULT_KEYS.find((k) => k.key === input);
    if (fk) return { command: { type: 'toggle_fault', fault: fk.fault } };
  }
  switch (input) {
    case '+':
    case '=':
      return { command: { type: 'rate_up' } };
    case '-':
    case '_':
      return { command: { type: 'rate_down' } };
    case ']':
      return { command: { type: 'warp_up' } };
    case '[':
      return { command: { type: 'warp_down' } };
    case ' ':
      return { command: { type: 'toggle_pause' } };
    case 'f':
    case 'F':
      return { action: { type: 'toggle_faults' } };
    case '?':
      return { action: { type: 'toggle_help' } };
    case 'q':
    case 'Q':
      return { command: { type: 'quit' } };
    default:
      return {};
  }
}
