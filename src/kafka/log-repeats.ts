/**
 * kafkajs logs every failed attempt of every client: a broker away for 22 s (stopped, then started
 * again) wrote 139 lines on a run's stderr, two messages alternating. The first of a line goes
 * through; the same line again within the window is counted, not written; the next one after it
 * goes through with the count, and flush() gives the counts still held (the end of a run).
 */
export interface RepeatFilter {
  /** `text` to write now (with the repeats held since it was last written), or null: a repeat within the window. */
  pass(text: string): string | null;
  /** One line per line repeated since it was last written: the text and how many more times. */
  flush(): string[];
}

const clock = (ms: number): string => new Date(ms).toISOString().slice(11, 19);
const more = (n: number, since: number): string => ` (${n} more like it since ${clock(since)} UTC)`;

export function createRepeatFilter(windowMs = 30_000, now: () => number = Date.now): RepeatFilter {
  const seen = new Map<string, { at: number; repeats: number }>();
  return {
    pass(text) {
      const t = now();
      const s = seen.get(text);
      if (s && t - s.at < windowMs) {
        s.repeats++;
        return null;
      }
      seen.set(text, { at: t, repeats: 0 });
      return s && s.repeats > 0 ? text + more(s.repeats, s.at) : text;
    },
    flush() {
      const out = [...seen].filter(([, s]) => s.repeats > 0).map(([text, s]) => text + more(s.repeats, s.at));
      seen.clear();
      return out;
    },
  };
}
