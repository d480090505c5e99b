/**
 * `p`'s value, or undefined when `ms` pass first; the timer is cleared either way, so it never
 * keeps the process alive. What `p` does later is its own business (a caller that stops waiting
 * handles a rejection it no longer awaits).
 */
export async function within<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
