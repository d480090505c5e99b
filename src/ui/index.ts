/** The dashboard's public surface for the composition root. */
export { renderDashboard, type RenderDashboardOptions, type DashboardHandle } from './render-dashboard.js';
export type { UiCommand } from './keymap.js';
export {
  createDashboardStore, publish, createThrottledPublisher, appendRejected, pushHistory, emptyDashboardState,
  REJECTED_RING, HISTORY_LENGTH, DATA_FAULTS, INFRA_FAULTS,
  type DashboardState, type DashboardStore, type HeaderState, type FloorState, type TopicStats, type TopicLag,
  type DeadLetter, type RejectedState, type Kpis, type FaultStatus, type FaultClass, type StatusLine, type ThrottledPublisher,
} from './dashboard-state.js';
export { demoState, SAMPLE_LAYOUT } from './demo-state.js';
