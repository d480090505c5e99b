/**
 * Maps Ink key presses to commands (sent to `onCommand`) and to UI-local actions (sent to
 * `dispatch`); what each key means lives in keymap.ts.
 */
import { useCallback, useRef, useState } from 'react';
import { useInput } from 'ink';
import { interpretKey, uiReducer, type UiAction, type UiCommand, type UiState } from './keymap.js';

export type { UiCommand } from './keymap.js';

/**
 * UI-local state through the pure reducer. `current()` reads it synchronously: two keys in one
 * read (`f` then `3`) must see each other's effect before React has re-rendered.
 */
export function useUiState(initial: UiState): { ui: UiState; dispatch: (a: UiAction) => void; current: () => UiState } {
  const ref = useRef(initial);
  const [ui, setUi] = useState(initial);
  const dispatch = useCallback((a: UiAction) => {
    ref.current = uiReducer(ref.current, a);
    setUi(ref.current);
  }, []);
  const current = useCallback(() => ref.current, []);
  return { ui, dispatch, current };
}

export interface UseKeysOptions {
  current: () => UiState;
  dispatch: (action: UiAction) => void;
  onCommand: (cmd: UiCommand) => void;
  /** Listen for keys (default true); off when stdin is not a terminal. */
  isActive?: boolean;
}

export function useKeys({ current, dispatch, onCommand, isActive = true }: UseKeysOptions): void {
  const onCommandRef = useRef(onCommand);
  onCommandRef.current = onCommand;
  // One handler for the component's life: Ink re-subscribes whenever the handler changes.
  const handler = useCallback((input: string, key: Parameters<Parameters<typeof useInput>[0]>[1]) => {
    const intent = interpretKey(current(), input, key);
    if (intent.action) dispatch(intent.action);
    if (intent.command) onCommandRef.current(intent.command);
  }, [current, dispatch]);
  useInput(handler, { isActive });
}
