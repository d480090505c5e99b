/**
 * ISO-8601 UTC with milliseconds (`2026-11-23T08:00:00.000Z`) for simulated epoch ms, cheaply: the
 * `YYYY-MM-DDTHH:MM:` prefix is cached per minute and the `SS.mmmZ` tail comes from a lazily filled
 * table. Pure (no clock is read; Date is only used as a calendar).
 */

const TAIL: (string | undefined)[] = new Array<string | undefined>(60000);

function tail(msInMinute: number): string {
  let t = TAIL[msInMinute];
  if (t === undefined) {
    const s = Math.floor(msInMinute / 1000);
    const ms = msInMinute - s * 1000;
    t = (s < 10 ? '0' : '') + s + '.' + (ms < 10 ? '00' : ms < 100 ? '0' : '') + ms + 'Z';
    TAIL[msInMinute] = t;
  }
  return t;
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
    return this.prefix + tail((ms - minute * 60000) | 0);
  }
}

/** One-off formatting (not cached). */
export function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}
