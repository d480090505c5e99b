import { describe, expect, it } from 'vitest';
import { FAULT_KEYS, initialUiState, interpretKey, uiReducer } from './keymap.js';
import { DATA_FAULTS, INFRA_FAULTS } from './dashboard-state.js';

const none = initialUiState;
const faults = { overlay: 'faults' as const };

describe('interpretKey', () => {
  it.each([
    ['+', 'rate_up'], ['=', 'rate_up'], ['-', 'rate_down'], [']', 'warp_up'], ['[', 'warp_down'], [' ', 'toggle_pause'], ['q', 'quit'],
  ])('%j sends %s', (input, type) => {
    expect(interpretKey(none, input, {}).command).toEqual({ type });
  });

  it('Ctrl-C quits; other Ctrl keys do nothing', () => {
    expect(interpretKey(none, 'c', { ctrl: true })).toEqual({ command: { type: 'quit' } });
    expect(interpretKey(none, 'q', { ctrl: true })).toEqual({});
  });

  it('fault keys toggle faults only while the menu is open', () => {
    expect(interpretKey(none, '1', {})).toEqual({});
    expect(interpretKey(faults, '1', {})).toEqual({ command: { type: 'toggle_fault', fault: 'schema' } });
    expect(interpretKey(faults, 'a', {})).toEqual({ command: { type: 'toggle_fault', fault: 'broker_down' } });
  });

  it('every fault has one key, and no fault key shadows a global key', () => {
    expect(FAULT_KEYS.map((k) => k.fault)).toEqual([...DATA_FAULTS, ...INFRA_FAULTS]);
    expect(new Set(FAULT_KEYS.map((k) => k.key)).size).toBe(FAULT_KEYS.length);
    for (const k of FAULT_KEYS) expect(interpretKey(none, k.key, {})).toEqual({});
  });
});

describe('uiReducer', () => {
  it('opens and closes overlays', () => {
    const help = uiReducer(none, { type: 'toggle_help' });
    expect(help.overlay).toBe('help');
    expect(uiReducer(help, { type: 'toggle_help' }).overlay).toBe('none');
    expect(uiReducer(help, { type: 'toggle_faults' }).overlay).toBe('faults');
    expect(uiReducer(faults, { type: 'close' }).overlay).toBe('none');
    expect(uiReducer(none, { type: 'close' })).toBe(none);
  });
});
