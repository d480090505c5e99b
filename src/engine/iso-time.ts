/**
 * ISO-8601 UTC with milliseconds (`2026-11-23T08:00:00.000Z`) for simulated epoch ms, cheaply: the
 * `YYYY-MM-DDTHH:MM:` prefix is cached per minute (the date part per day) and the `SS.mmmZ` tail
 * comes from a table. Pure (no clock is read; Date is only used as a calendar).
 */

/** `SS.mmmZ` for each ms of a minute (60,000 short strings, about 2 MB, built once). */
const TAIL: string[] = [];
for (let i = 0; i < 60000; i++) {
  const s = Math.floor(i / 1000);
  const ms = i - s * 1000;
  TAIL.push((s < 10 ? '0' : '') + s + '.' + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z');
}

/** `HH:MM:` for each minute of the day. */
const HHMM: string[] = [];
for (let m = 0; m < 1440; m++) {
  const h = Math.floor(m / 60);
  const mm = m % 60;
  HHMM.push((h < 10 ? '0' : '') + h + ':' + (mm < 10 ? '0' : '') + mm + ':');
}

export class IsoClock {
  private minute = NaN;
  private prefix = '';
  private day = NaN;
  private dayPrefix = '';

  format(ms: number): string {
    const minute = Math.floor(ms / 60000);
    if (minute !== this.minute) {
      this.minute = minute;
      const day = Math.floor(minute / 1440);
      if (day !== this.day) {
        this.day = day;
        this.dayPrefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
      }
      this.prefix = this.dayPrefix + HHMM[minute - day * 1440]!;
    }
    // `| 0`: a small-integer index keeps the table lookup on V8's fast path.
    return this.prefix + TAIL[(ms - minute * 60000) | 0]!;
  }
}

/** One-off formatting (not cached). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
