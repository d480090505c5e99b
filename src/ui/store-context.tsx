/** The dashboard store, passed down by context; connected components read narrow slices of it. */
import { createContext, useContext } from 'react';
import { useStore } from 'zustand';
import { useShallow } from 'zustand/react/shallow';
import type { DashboardState, DashboardStore } from './dashboard-state.js';

export const DashboardStoreContext = createContext<DashboardStore | null>(null);

/** A slice of the dashboard state, compared shallowly so a new object with the same fields does not re-render. */
export function useDashboard<T>(selector: (s: DashboardState) => T): T {
  const store = useContext(DashboardStoreContext);
  if (store === null) throw new Error('useDashboard needs a DashboardStoreContext provider (renderDashboard sets one)');
  return useStore(store, useShallow(selector));
}
