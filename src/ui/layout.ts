/**
 * Where each panel goes for a terminal size: pure arithmetic, so "fits 80x24" is a unit test.
 * The frame is one row shorter than the terminal: Ink clears the whole screen before every frame
 * once a frame has filled the terminal's height, and the dashboard would flicker.
 */

export interface PanelBox { width: number; height: number }

export interface DashboardLayout {
  /** Frame size: the terminal's columns, one row fewer than its rows. */
  width: number;
  height: number;
  /** Below the smallest usable size: show a short message instead of panels. */
  tooSmall: boolean;
  /** Room for the bigger variants of panels (per-group lag, topic names, wider rows). */
  roomy: boolean;
  left: PanelBox;
  right: PanelBox;
  floor: PanelBox & { scale: 1 | 2; legend: boolean };
  carts: PanelBox;
  kpis: PanelBox;
  topics: PanelBox;
  /** Roomy terminals put the faults under the carts (10 at most), where there is room left. */
  faults: PanelBox & { column: 'left' | 'right' };
  rejected: PanelBox;
}

export interface LayoutInput {
  columns: number;
  rows: number;
  planWidth: number;
  planHeight: number;
  /** Columns of the lane-queue gutter beside the plan. */
  gutter: number;
  topicCount: number;
  activeFaults: number;
}

export const MIN_COLUMNS = 60;
export const MIN_ROWS = 16;
/** Narrowest the right column goes before the floor is cropped. */
const RIGHT_MIN = 36;
/** From here on, panels use their roomy variants. */
const ROOMY_COLUMNS = 120;
const ROOMY_ROWS = 32;
/** Carts panel with all the carts a snapshot holds (10), its title and its header row. */
const CARTS_FULL = 12;

export function computeLayout(input: LayoutInput): DashboardLayout {
  const width = Math.max(0, input.columns);
  const height = Math.max(0, input.rows - 1);
  const tooSmall = input.columns < MIN_COLUMNS || input.rows < MIN_ROWS;
  const roomy = input.columns >= ROOMY_COLUMNS && input.rows >= ROOMY_ROWS;
  const body = Math.max(0, height - 2); // header and footer

  // Left column: the floor, then carts under it.
  const scale: 1 | 2 = roomy && input.planWidth * 2 + input.gutter + 1 + 64 <= width ? 2 : 1;
  const floorNeed = input.planWidth * scale + input.gutter;
  const leftMin = roomy ? 44 : 30;
  const left = clamp(Math.max(floorNeed, leftMin), 0, Math.max(0, width - 1 - RIGHT_MIN));
  const right = Math.max(0, width - left - 1);

  const cartsMin = roomy ? 6 : 4;
  const planRows = clamp(input.planHeight, 0, Math.max(0, body - 1 - cartsMin));
  const legend = roomy && body - (1 + planRows + 1) >= cartsMin;
  const floorHeight = 1 + planRows + (legend ? 1 : 0);
  let cartsHeight = Math.max(0, body - floorHeight);
  const faultRows = clamp(input.activeFaults, 1, roomy ? 8 : 3);
  let leftFaults = 0;
  if (roomy && cartsHeight >= CARTS_FULL + 1 + faultRows) {
    leftFaults = cartsHeight - CARTS_FULL;
    cartsHeight = CARTS_FULL;
  }

  // Right column, top to bottom: KPIs, topics, active faults, and rejected takes what is left.
  const kpis = right >= 70 ? 3 : 4;
  const topicRows = Math.max(1, input.topicCount) + (roomy ? 1 : 0);
  let topics = 1 + topicRows;
  let faults = leftFaults > 0 ? 0 : 1 + faultRows;
  let rejected = body - kpis - topics - faults;
  const rejectedMin = roomy ? 6 : 4;
  if (rejected < rejectedMin) {
    const short = rejectedMin - rejected;
    const fromFaults = Math.min(short, Math.max(0, faults - 2));
    faults -= fromFaults;
    const fromTopics = Math.min(short - fromFaults, topics - 2);
    topics -= fromTopics;
    rejected = body - kpis - topics - faults;
  }
  if (rejected < 0) {
    // Tiny terminal: give up on the lower panels rather than overflow.
    rejected = 0;
    faults = Math.max(0, body - kpis - topics);
    if (faults < 0) faults = 0;
  }

  return {
    width,
    height,
    tooSmall,
    roomy,
    left: { width: left, height: body },
    right: { width: right, height: body },
    floor: { width: left, height: floorHeight, scale, legend },
    carts: { width: left, height: cartsHeight },
    kpis: { width: right, height: Math.min(kpis, body) },
    topics: { width: right, height: Math.max(0, Math.min(topics, body - kpis)) },
    faults: leftFaults > 0
      ? { width: left, height: leftFaults, column: 'left' }
      : { width: right, height: Math.max(0, Math.min(faults, body - kpis - topics)), column: 'right' },
    rejected: { width: right, height: rejected },
  };
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}
