/** For tests: kafkajs's own modules beside the ones storesim swaps in. */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/**
 * A standalone kafkajs module (one that requires no other kafkajs module storesim swaps) as kafkajs
 * wrote it, loaded fresh: the cached one may be ours. The require cache is left as it was.
 */
export function kafkajsOwnModule<T>(module: string): T {
  const path = require.resolve(module);
  const saved = require.cache[path];
  delete require.cache[path];
  try {
    return require(path) as T;
  } finally {
    if (saved) require.cache[path] = saved;
    else delete require.cache[path];
  }
}
