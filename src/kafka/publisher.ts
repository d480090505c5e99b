/**
 * The publisher: ordered, buffered, retried sends over a BusProducer (either bus).
 *
 * Order on the wire (DESIGN.md, Ordering on the wire): at most ONE send outstanding; a send that
 * fails is sent again (the same messages, after a backoff) before anything newer. kafkajs gives up
 * on a send after its own retries and drops it: here nothing is dropped, a failed batch is retried
 * until it is acknowledged. Messages are batched per linger window (when idle) and while a send is
 * outstanding, up to `maxBatch` per send.
 *
 * Back-pressure: enqueue() never refuses; callers watch `backlog` (enqueued, not yet acknowledged)
 * and await waitForRoom() when it reaches `maxBufferedMessages`; publish() is the sync variant
 * that refuses when full.
 */
import type { BusProducer, OutgoingMessage } from './bus.js';

export interface PublisherOptions {
  producer: BusProducer;
  /** Backlog (enqueued, not yet acknowledged) at which waitForRoom() waits and publish() refuses. Default 50 000. */
  maxBufferedMessages?: number;
  /** How long an idle publisher waits for more messages before a send, ms. Default 5. */
  lingerMs?: number;
  /** Most messages in one send. Default 2 000. */
  maxBatch?: number;
  /** First retry backoff, ms; doubles per failure. Default 100. */
  retryInitialMs?: number;
  /** Longest retry backoff, ms. Default 5 000. */
  retryMaxMs?: number;
  /** Told about every failed send (it will be retried). Default: ignored. */
  onError?: (err: unknown, attempt: number) => void;
}

export interface PublisherStats {
  /** Messages enqueued since creation. */
  enqueued: number;
  /** Messages handed to the producer, counting every retry. */
  sent: number;
  /** Messages acknowledged. */
  acked: number;
  /** Messages dropped by abandon(). */
  dropped: number;
  /** Failed sends (each retried). */
  retries: number;
  /** Sends that succeeded. */
  batches: number;
  /** Messages in the send outstanding now. */
  inflight: number;
  /** Messages waiting for a send. */
  buffered: number;
  /** The last send error, cleared by the next success. */
  lastError: unknown;
}

export interface Publisher {
  /** Queues a message; never refuses (watch `backlog` for back-pressure). The message is not copied. */
  enqueue(topic: string, msg: OutgoingMessage): void;
  /** Queues a message unless the backlog is full; false when refused. */
  publish(topic: string, msg: OutgoingMessage): boolean;
  /** Messages enqueued and not yet acknowledged. */
  readonly backlog: number;
  /** Resolves once the backlog is below maxBufferedMessages. */
  waitForRoom(): Promise<void>;
  /** Sends at once (skipping the linger) and resolves when everything enqueued before it is acknowledged. */
  flush(): Promise<void>;
  stats(): PublisherStats;
  /** Flushes, then refuses further messages. Does not disconnect the producer (its owner does). */
  close(): Promise<void>;
  /**
   * Drops everything not yet acknowledged (a simulated crash, or giving up on a broker for good)
   * and rejects pending flush() calls; a send outstanding is left to finish on its own.
   * Returns how many messages were dropped.
   */
  abandon(): number;
}

interface Entry { topic: string; msg: OutgoingMessage }
interface TopicBatch { topic: string; messages: OutgoingMessage[] }
interface Waiter { target: number; resolve: () => void; reject: (err: Error) => void }

export class PublisherClosedError extends Error {
  readonly retriable = false;
  constructor(message: string) {
    super(message);
    this.name = 'PublisherClosedError';
  }
}

export function createPublisher(opts: PublisherOptions): Publisher {
  const { producer } = opts;
  const maxBuffered = opts.maxBufferedMessages ?? 50_000;
  const lingerMs = opts.lingerMs ?? 5;
  const maxBatch = opts.maxBatch ?? 2_000;
  const retryInitialMs = opts.retryInitialMs ?? 100;
  const retryMaxMs = opts.retryMaxMs ?? 5_000;

  let buf: Entry[] = [];
  let head = 0;
  let enqueued = 0;
  let acked = 0;
  /** Messages dropped by abandon(): no longer owed. */
  let dropped = 0;
  let sent = 0;
  let retries = 0;
  let batches = 0;
  let inflight = 0;
  let lastError: unknown = null;
  let pumping = false;
  let lingerTimer: NodeJS.Timeout | null = null;
  let closed = false;
  let epoch = 0; // bumped by abandon(): an old pump stops
  let flushWaiters: Waiter[] = [];
  let roomWaiters: Array<() => void> = [];

  const buffered = (): number => buf.length - head;
  const backlog = (): number => enqueued - acked - dropped;
  const done = (): number => acked + dropped;

  const take = (): { batches: TopicBatch[]; count: number } => {
    const end = Math.min(buf.length, head + maxBatch);
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (let i = head; i < end; i++) {
      const e = buf[i]!;
      let arr = byTopic.get(e.topic);
      if (!arr) byTopic.set(e.topic, (arr = []));
      arr.push(e.msg);
    }
    const count = end - head;
    head = end;
    if (head === buf.length) {
      buf = [];
      head = 0;
    } else if (head > 8_192 && head * 2 > buf.length) {
      buf = buf.slice(head);
      head = 0;
    }
    return { batches: [...byTopic].map(([topic, messages]) => ({ topic, messages })), count };
  };

  const settle = (): void => {
    if (flushWaiters.length > 0) {
      const still: Waiter[] = [];
      for (const w of flushWaiters) {
        if (done() >= w.target) w.resolve();
        else still.push(w);
      }
      flushWaiters = still;
    }
    if (roomWaiters.length > 0 && backlog() < maxBuffered) {
      const ws = roomWaiters;
      roomWaiters = [];
      for (const w of ws) w();
    }
  };

  const pump = async (): Promise<void> => {
    pumping = true;
    const myEpoch = epoch;
    try {
      while (buffered() > 0 && myEpoch === epoch) {
        const { batches: pending, count } = take();
        inflight = count;
        let attempt = 0;
        // The same messages until every topic's part is acknowledged: nothing newer goes first.
        while (pending.length > 0) {
          try {
            if (producer.sendMany && pending.length > 1) {
              for (const b of pending) sent += b.messages.length;
              await producer.sendMany(pending);
              pending.length = 0;
            } else {
              const b = pending[0]!;
              sent += b.messages.length;
              await producer.send(b.topic, b.messages);
              pending.shift();
            }
            attempt = 0;
            lastError = null;
          } catch (err) {
            attempt++;
            retries++;
            lastError = err;
            try {
              opts.onError?.(err, attempt);
            } catch {
              // a reporting callback must not stop the retries
            }
            await new Promise((r) => setTimeout(r, Math.min(retryInitialMs * 2 ** (attempt - 1), retryMaxMs)));
          }
          if (myEpoch !== epoch) return; // abandoned while sending
        }
        batches++;
        inflight = 0;
        acked += count;
        settle();
      }
    } finally {
      if (myEpoch === epoch) {
        pumping = false;
        inflight = 0;
      }
    }
  };

  const startPump = (): void => {
    if (lingerTimer) {
      clearTimeout(lingerTimer);
      lingerTimer = null;
    }
    if (pumping || buffered() === 0) return;
    void pump();
  };

  const schedule = (): void => {
    if (pumping) return; // the running pump takes what accumulated as soon as its send is acked
    if (buffered() >= maxBatch) startPump();
    else if (!lingerTimer) lingerTimer = setTimeout(startPump, lingerMs);
  };

  const enqueue = (topic: string, msg: OutgoingMessage): void => {
    if (closed) throw new PublisherClosedError('publisher closed: message refused');
    buf.push({ topic, msg });
    enqueued++;
    schedule();
  };

  return {
    enqueue,

    publish(topic, msg) {
      if (backlog() >= maxBuffered) return false;
      enqueue(topic, msg);
      return true;
    },

    get backlog() {
      return backlog();
    },

    waitForRoom() {
      if (backlog() < maxBuffered) return Promise.resolve();
      return new Promise<void>((resolve) => roomWaiters.push(resolve));
    },

    flush() {
      if (done() >= enqueued) return Promise.resolve();
      const target = enqueued;
      const p = new Promise<void>((resolve, reject) => flushWaiters.push({ target, resolve, reject }));
      startPump();
      return p;
    },

    stats() {
      return { enqueued, sent, acked, dropped, retries, batches, inflight, buffered: buffered(), lastError };
    },

    async close() {
      await this.flush();
      closed = true;
    },

    abandon() {
      const lost = backlog();
      dropped += lost;
      epoch++;
      if (lingerTimer) clearTimeout(lingerTimer);
      lingerTimer = null;
      buf = [];
      head = 0;
      pumping = false;
      inflight = 0;
      const ws = flushWaiters;
      flushWaiters = [];
      for (const w of ws) w.reject(new PublisherClosedError(`publisher abandoned ${lost} unacknowledged messages`));
      settle();
      return lost;
    },
  };
}
