/**
 * The discrete-event queue: a binary min-heap keyed by (time, sequence). The sequence is the
 * insertion order, so entries at the same simulated instant run in the order they were scheduled,
 * which makes a run replay exactly. Entry objects are recycled through a free list.
 */

export interface HeapEntry<T> {
  time: number;
  seq: number;
  kind: number;
  ref: T | null;
  /** A token the owner can compare to invalidate an entry without removing it. */
  token: number;
}

export class EventHeap<T> {
  private items: HeapEntry<T>[] = [];
  private free: HeapEntry<T>[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.items.length;
  }

  push(time: number, kind: number, ref: T | null, token = 0): void {
    const e = this.free.pop() ?? { time: 0, seq: 0, kind: 0, ref: null, token: 0 };
    e.time = time;
    e.seq = this.nextSeq++;
    e.kind = kind;
    e.ref = ref;
    e.token = token;
    const items = this.items;
    let i = items.length;
    items.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pe = items[p]!;
      if (pe.time < time || (pe.time === time && pe.seq < e.seq)) break;
      items[i] = pe;
      i = p;
    }
    items[i] = e;
  }

  /** Time of the earliest entry, or Infinity when empty. */
  peekTime(): number {
    const top = this.items[0];
    return top === undefined ? Infinity : top.time;
  }

  /** Removes and returns the earliest entry; call `release` when done with it. */
  pop(): HeapEntry<T> | undefined {
    const items = this.items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        let ce = items[l]!;
        if (r < n) {
          const re = items[r]!;
          if (re.time < ce.time || (re.time === ce.time && re.seq < ce.seq)) { c = r; ce = re; }
        }
        if (last.time < ce.time || (last.time === ce.time && last.seq < ce.seq)) break;
        items[i] = ce;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }

  release(e: HeapEntry<T>): void {
    e.ref = null;
    this.free.push(e);
  }
}
