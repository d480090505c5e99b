/** A promise resolved from outside, once (later calls do nothing): "this has happened". */
export interface Signal {
  readonly promise: Promise<void>;
  resolve(): void;
}

export function signal(): Signal {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
