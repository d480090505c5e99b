/**
 * A fix for kafkajs 2.x (pinned): a broker dropped from a client's pool keeps its connection open
 * after the client disconnects.
 *
 * When a broker ends a connection (it stops, or restarts), the fetch on it fails with "Closed
 * connection" and kafkajs's consumer group drops that broker from its client's pool
 * (`BrokerPool.removeBroker`) without disconnecting it; the next metadata refresh puts a new broker
 * object in its place. The group still holds the dropped one as its coordinator and connects it
 * again for its heartbeats, and a disconnect() of the client disconnects the brokers in the pool
 * only: that connection stays open until the broker drops it as idle (`connections.max.idle.ms`,
 * 10 minutes). Seen: a run over a real broker restart (`npm run kafka:stop`, then `kafka:start`)
 * that printed its summary, verify ok, and whose process lived on ten minutes; a dump of its open
 * handles showed one socket to the broker, opened by a heartbeat.
 *
 * The pool now remembers the brokers it dropped and disconnects them with the others. Installed
 * once per process, on the class, so every client has it; a kafkajs whose BrokerPool does not look
 * like 2.x's keeps its own.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const BROKER_POOL_MODULE = 'kafkajs/src/cluster/brokerPool.js';

interface BrokerLike { disconnect(): Promise<void> }

interface BrokerPoolLike {
  brokers: Record<string, BrokerLike>;
  removeBroker(destination: { host: string; port: number }): void;
  disconnect(): Promise<void>;
}

type BrokerPoolClass = { prototype: BrokerPoolLike };

const PATCHED = Symbol.for('storesim.kafkajs.broker-pool-dropped');
const DROPPED = Symbol('storesim.kafkajs.dropped-brokers');

type Patched = BrokerPoolLike & { [DROPPED]?: Set<BrokerLike> };

/** Makes `BrokerPool` disconnect the brokers it dropped along with its own. False when it does not look like kafkajs 2.x's. */
export function patchBrokerPool(BrokerPool: BrokerPoolClass): boolean {
  const proto = BrokerPool.prototype as BrokerPoolLike & { [PATCHED]?: true };
  if (proto[PATCHED]) return true;
  if (typeof proto.removeBroker !== 'function' || typeof proto.disconnect !== 'function') return false;
  const { removeBroker, disconnect } = proto;
  proto.removeBroker = function (this: Patched, destination): void {
    const before = Object.values(this.brokers ?? {});
    removeBroker.call(this, destination);
    const kept = new Set(Object.values(this.brokers ?? {}));
    for (const b of before) if (!kept.has(b)) (this[DROPPED] ??= new Set()).add(b);
  };
  // The dropped stay remembered: the group may connect one again after a disconnect (a heartbeat
  // in flight), and a later disconnect of the client must reach it then too.
  proto.disconnect = async function (this: Patched): Promise<void> {
    const dropped = [...(this[DROPPED] ?? [])].map((b) => b.disconnect().catch(() => undefined));
    await Promise.all([disconnect.call(this), ...dropped]);
  };
  proto[PATCHED] = true;
  return true;
}

/** Whether kafkajs's BrokerPool disconnects the brokers it dropped in this process. */
export const brokerPoolFixInstalled: boolean = (() => {
  try {
    return patchBrokerPool(require(BROKER_POOL_MODULE) as BrokerPoolClass);
  } catch {
    return false; // another kafkajs layout
  }
})();
