/**
 * Broker faults for the in-process bus, so the dashboard's faults menu works offline too: the same
 * LinkController as the Kafka fault sockets, applied at the Bus interface. Down: sends fail with a
 * retriable error, consumers get nothing (batches, commits and restores wait for the broker); slow:
 * every send, batch, commit and restore waits `latencyMs` first. Stall behaves as down for sends
 * (they wait instead of failing). Admin reads (offsets, lag) keep working: they are the dashboard's
 * view of the store, not traffic through the broker.
 */
import type { Batch, Bus, BusConsumer, BusProducer, ConsumerOptions, IncomingMessage } from './bus.js';
import { BusError } from './errors.js';
import type { LinkController } from './fault-socket.js';

const POLL_MS = 50;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits while the link is down or stalled, then adds the latency of a slow link. `cancelled` ends the wait early. */
async function passage(ctl: LinkController, cancelled: () => boolean = () => false): Promise<void> {
  while (ctl.mode.kind === 'down' || ctl.mode.kind === 'stall') {
    if (cancelled()) return;
    await sleep(POLL_MS);
  }
  const mode = ctl.mode;
  if (mode.kind === 'slow') await sleep(mode.latencyMs);
}

export function withBrokerFaults<B extends Bus>(bus: B, ctl: LinkController): B {
  const createProducer = (): BusProducer => {
    const inner = bus.createProducer();
    const gate = async (): Promise<void> => {
      if (ctl.mode.kind === 'down') {
        await sleep(POLL_MS * 2);
        throw new BusError('in-process broker is down (injected fault)', { retriable: true });
      }
      await passage(ctl);
    };
    return {
      connect: () => inner.connect(),
      async send(topic, messages) {
        await gate();
        await inner.send(topic, messages);
      },
      ...(inner.sendMany ? {
        async sendMany(batches: Array<{ topic: string; messages: Parameters<BusProducer['send']>[1] }>) {
          await gate();
          await inner.sendMany!(batches);
        },
      } : {}),
      disconnect: () => inner.disconnect(),
    };
  };

  const createConsumer = (opts: ConsumerOptions): BusConsumer => {
    let stopped = false;
    const wrapped: ConsumerOptions = {
      ...opts,
      onAssigned: opts.onAssigned
        ? async (tps) => {
          await passage(ctl, () => stopped);
          if (!stopped) await opts.onAssigned!(tps);
        }
        : undefined,
    };
    const inner = bus.createConsumer(wrapped);
    return {
      start(onBatch: (batch: Batch) => Promise<void>) {
        stopped = false;
        return inner.start(async (batch) => {
          await passage(ctl, () => stopped || batch.isStale());
          if (stopped || batch.isStale()) return;
          await onBatch(batch);
        });
      },
      seek: (tp) => inner.seek(tp),
      pause: (tps) => inner.pause(tps),
      resume: (tps) => inner.resume(tps),
      async commit(offsets) {
        await passage(ctl, () => stopped);
        if (stopped) throw new BusError('consumer stopped before its commit reached the broker', { retriable: true });
        await inner.commit(offsets);
      },
      heartbeat: () => inner.heartbeat(),
      assignment: () => inner.assignment(),
      async stop() {
        stopped = true;
        await inner.stop();
      },
    };
  };

  const wrapped: Bus = {
    kind: bus.kind,
    description: bus.description,
    ensureTopics: (specs) => bus.ensureTopics(specs),
    partitionCount: (topic) => bus.partitionCount(topic),
    createProducer,
    createConsumer,
    topicOffsets: (topic) => bus.topicOffsets(topic),
    topicsOffsets: (topics) => bus.topicsOffsets(topics),
    async readLast(topic: string, partition: number): Promise<IncomingMessage | null> {
      if (ctl.mode.kind === 'down') throw new BusError('in-process broker is down (injected fault)', { retriable: true });
      await passage(ctl);
      return bus.readLast(topic, partition);
    },
    async readLastWhere(topic, partition, match): Promise<IncomingMessage | null> {
      if (ctl.mode.kind === 'down') throw new BusError('in-process broker is down (injected fault)', { retriable: true });
      await passage(ctl);
      return bus.readLastWhere(topic, partition, match);
    },
    groupOffsets: (groupId, topic) => bus.groupOffsets(groupId, topic),
    groupTopicsOffsets: (groupId, topics) => bus.groupTopicsOffsets(groupId, topics),
    close: () => bus.close(),
  };
  return { ...bus, ...wrapped } as B;
}
