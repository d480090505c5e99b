/**
 * The pieces of infrastructure faults, each on its own: the fault socket against a real TCP echo
 * server (slow, stall, down, back to normal), the in-process broker switch, the held SQLite lock
 * (writes fail fast, the event loop keeps turning) and the fault controller's records.
 */
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFaultSocketFactory, createLinkController, FaultSocket, type LinkController } from '../src/kafka/fault-socket.js';
import { withBrokerFaults } from '../src/kafka/fault-bus.js';
import { createMemoryBus } from '../src/kafka/memory-bus.js';
import { isRetriable } from '../src/kafka/errors.js';
import { sqliteFaults } from '../src/db/fault-stream.js';
import { openDatabase } from '../src/db/open.js';
import type { SinkBatch } from '../src/db/types.js';
import { createFaultController, type FaultEvent } from '../src/faults.js';
import { tempDir, waitFor } from './cli-helpers.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

async function echoServer(): Promise<number> {
  const server = net.createServer((s) => s.on('data', (d) => s.write(d)).on('error', () => undefined));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as net.AddressInfo).port;
}

/** A client over a fault socket that collects what comes back. */
async function client(ctl: LinkController, port: number): Promise<{ sock: FaultSocket; got: () => string; errors: Error[]; closed: () => boolean }> {
  const sock = new FaultSocket(ctl);
  let got = '';
  let closed = false;
  const errors: Error[] = [];
  sock.on('data', (d: Buffer) => { got += d.toString(); });
  sock.on('error', (e) => errors.push(e));
  sock.on('close', () => { closed = true; });
  sock.setNoDelay(true);
  sock.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('error', reject);
  });
  closers.push(() => { sock.destroy(); });
  return { sock, got: () => got, errors, closed: () => closed };
}

/** The error code of a new connection through `ctl`. */
function connectError(ctl: LinkController, port: number): Promise<string | undefined> {
  const sock = new FaultSocket(ctl);
  return new Promise((resolve) => {
    sock.once('error', (err: NodeJS.ErrnoException) => resolve(err.code));
    sock.connect(port, '127.0.0.1');
  });
}

describe('fault socket', () => {
  it('passes bytes through untouched when normal, adds the latency when slow, holds everything while stalled', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    const c = await client(ctl, port);
    expect(ctl.connections).toBe(1);

    c.sock.write('a');
    await waitFor(() => c.got() === 'a', 'echo');

    ctl.set({ kind: 'slow', latencyMs: 300 });
    const t0 = Date.now();
    c.sock.write('b');
    await waitFor(() => c.got() === 'ab', 'slow echo');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);

    // Given a stall, when the client writes, then nothing comes back until the stall ends, in order.
    ctl.set({ kind: 'stall' });
    c.sock.write('c');
    c.sock.write('d');
    await new Promise((r) => setTimeout(r, 300));
    expect(c.got()).toBe('ab');
    ctl.set({ kind: 'normal' });
    await waitFor(() => c.got() === 'abcd', 'released after the stall');
    expect(c.errors).toEqual([]);
  });

  it('sends what a corked client wrote as one write to the real socket (pg corks each query\'s messages)', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    const c = await client(ctl, port);
    const writes: Buffer[] = [];
    const real = net.Socket.prototype.write;
    const spy = vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args: Parameters<net.Socket['write']>) {
      if (this.remotePort === port) writes.push(Buffer.from(args[0] as Buffer)); // the client's side, not the echo server's
      return real.apply(this, args);
    });
    try {
      // Given a corked stream, when a client writes three messages and uncorks
      c.sock.cork();
      c.sock.write('parse;');
      c.sock.write('bind;');
      c.sock.write('sync;');
      c.sock.uncork();
      await waitFor(() => c.got() === 'parse;bind;sync;', 'echo of the three');
    } finally {
      spy.mockRestore();
    }
    // then the real socket got them in one write, in order
    expect(writes.map((w) => w.toString())).toEqual(['parse;bind;sync;']);
  });

  it('down resets every connection and refuses new ones; normal lets them in again', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    const a = await client(ctl, port);
    const b = await client(ctl, port);
    expect(ctl.connections).toBe(2);

    ctl.set({ kind: 'down' });
    await waitFor(() => a.closed() && b.closed(), 'both reset');
    expect((a.errors[0] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    expect(ctl.connections).toBe(0);

    expect(await connectError(ctl, port)).toBe('ECONNREFUSED');

    ctl.set({ kind: 'normal' });
    const c = await client(ctl, port);
    c.sock.write('again');
    await waitFor(() => c.got() === 'again', 'echo after the outage');
  });

  it('down, closed: every connection ends as a stopping server ends it (no error), new ones are refused', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    const a = await client(ctl, port);
    let ended = false;
    a.sock.on('end', () => { ended = true; });

    ctl.set({ kind: 'down', closed: true });
    await waitFor(() => a.closed(), 'closed');
    expect(ended).toBe(true);
    expect(a.errors).toEqual([]);
    expect(ctl.connections).toBe(0);

    expect(await connectError(ctl, port)).toBe('ECONNREFUSED');
  });

  it('closeAll closes every connection still open through the link, and says how many', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    const a = await client(ctl, port);
    const b = await client(ctl, port);
    expect(ctl.closeAll()).toBe(2);
    await waitFor(() => a.closed() && b.closed(), 'both closed');
    expect(ctl.connections).toBe(0);
    expect(ctl.closeAll()).toBe(0);
  });

  it('is a kafkajs socketFactory: onConnect is called once connected', async () => {
    const port = await echoServer();
    const ctl = createLinkController();
    let connected = false;
    const plain = createFaultSocketFactory(ctl)({ host: '127.0.0.1', port, ssl: undefined as never, onConnect: () => { connected = true; } });
    closers.push(() => { plain.destroy(); });
    await waitFor(() => connected, 'onConnect');
  });
});

describe('in-process broker switch', () => {
  it('down: sends fail retriably and consumers get nothing; back to normal: everything arrives', async () => {
    const ctl = createLinkController();
    const inner = createMemoryBus({ defaultPartitions: 1 });
    const bus = withBrokerFaults(inner, ctl);
    await bus.ensureTopics([{ topic: 't', partitions: 1 }]);
    const producer = bus.createProducer();
    await producer.connect();
    const got: string[] = [];
    const consumer = bus.createConsumer({ groupId: 'g', topics: ['t'] });
    await consumer.start(async (b) => { for (const m of b.messages) got.push(m.value.toString()); });
    closers.push(() => consumer.stop());

    await producer.send('t', [{ key: 'k', value: 'one', headers: {} }]);
    await waitFor(() => got.length === 1, 'first message');

    ctl.set({ kind: 'down' });
    const err = await producer.send('t', [{ key: 'k', value: 'refused', headers: {} }]).catch((e: unknown) => e);
    expect(isRetriable(err)).toBe(true);
    // A message already in the log (written behind the switch) is not delivered while it is down.
    const direct = inner.createProducer();
    await direct.connect();
    await direct.send('t', [{ key: 'k', value: 'two', headers: {} }]);
    // A stalled broker takes the send and answers only when it is back.
    ctl.set({ kind: 'stall' });
    let acked = false;
    const pending = producer.send('t', [{ key: 'k', value: 'three', headers: {} }]).then(() => { acked = true; });
    await new Promise((r) => setTimeout(r, 250));
    expect(got).toEqual(['one']);
    expect(acked).toBe(false);
    ctl.set({ kind: 'normal' });
    await pending;
    await waitFor(() => got.length === 3, 'after the outage');
    expect(got).toEqual(['one', 'two', 'three']);
  });
});

describe('SQLite db_down: a held write lock', () => {
  const batch = (seq: number): SinkBatch => ({
    staging: [{
      run_id: 'r', seq, event_id: `e${seq}`, event_type: 'entry', topic: 'foot_traffic',
      customer_id: 'c', visit_id: 'v', event_time: '2026-11-23T08:00:00.000Z', payload: '{}',
    }],
    rejected: [], transactions: [], visits: [],
  });

  it('makes writes fail fast and retriably without freezing the event loop; releasing it lets them through', async () => {
    const path = `${tempDir('faults-sqlite')}/lock.db`;
    const raw = await openDatabase({ sqlitePath: path }, { busyTimeoutMs: 25 });
    const f = sqliteFaults(raw, path);
    closers.push(async () => { f.close(); await raw.close(); });

    f.faults.setDown(true);
    // A timer due every 10 ms measures how long the loop is held by the synchronous busy wait.
    let worstLag = 0;
    let last = Date.now();
    const tick = setInterval(() => { const now = Date.now(); worstLag = Math.max(worstLag, now - last - 10); last = now; }, 10);
    const errors: unknown[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = Date.now();
      errors.push(await f.db.writeBatch(batch(1)).then(() => null, (e: unknown) => e));
      expect(Date.now() - t0).toBeLessThan(150);
      await new Promise((r) => setTimeout(r, 20));
    }
    clearInterval(tick);
    expect(errors.every((e) => e !== null)).toBe(true);
    expect(worstLag).toBeLessThan(120);

    f.faults.setDown(false);
    await f.db.writeBatch(batch(1));
    expect((await f.db.counts('r')).staging).toBe(0 + 1);
  });

  it('db_slow delays every call by the latency', async () => {
    const path = `${tempDir('faults-sqlite')}/slow.db`;
    const raw = await openDatabase({ sqlitePath: path });
    const f = sqliteFaults(raw, path);
    closers.push(async () => { await raw.close(); });
    f.faults.setSlow(200);
    const t0 = Date.now();
    await f.db.counts('r');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    f.faults.setSlow(null);
    const t1 = Date.now();
    await f.db.counts('r');
    expect(Date.now() - t1).toBeLessThan(100);
  });
});

describe('fault controller', () => {
  it('applies and lifts each fault, restarts crashed members, and records start, duration, peak backlog and drain', async () => {
    const broker = createLinkController();
    const db = { down: false, slow: null as number | null, setDown(d: boolean) { this.down = d; }, setSlow(ms: number | null) { this.slow = ms; } };
    const calls: string[] = [];
    const member = (name: string) => ({
      crash: async () => { calls.push(`${name}.crash`); },
      start: async () => { calls.push(`${name}.start`); },
    });
    let backlog = 10;
    const events: FaultEvent[] = [];
    const faults = createFaultController({
      broker, db, processor: member('processor'), sink: member('sink'),
      backlog: () => backlog, sampleMs: 20, onEvent: (e) => events.push(e),
    });
    closers.push(() => faults.close());
    await new Promise((r) => setTimeout(r, 60)); // a baseline

    // Given a timed broker outage, when it runs, then the link is down, then normal again by itself.
    await faults.start('broker_down', { durationMs: 300 });
    expect(broker.mode.kind).toBe('down');
    expect(faults.anyActive()).toBe(true);
    expect(faults.status().find((f) => f.name === 'broker_down')).toMatchObject({ active: true, kind: 'infra' });
    backlog = 5_000;
    await waitFor(() => !faults.anyActive(), 'timed end');
    expect(broker.mode.kind).toBe('normal');
    expect(faults.draining().map((d) => d.name)).toEqual(['broker_down']);
    backlog = 7_000; // the spike after the broker is back counts too
    await new Promise((r) => setTimeout(r, 60));
    backlog = 50;
    await waitFor(() => faults.draining().length === 0, 'drained');
    const [rec] = faults.records();
    expect(rec).toMatchObject({ name: 'broker_down', peak_backlog: 7_000 });
    expect(rec!.duration_s).toBeGreaterThanOrEqual(0.3);
    expect(rec!.duration_s).toBeLessThan(1);
    expect(rec!.drain_s).toBeGreaterThan(0.05);
    expect(Date.parse(rec!.started_at)).toBeGreaterThan(Date.now() - 10_000);

    // Slow faults combine with down: down wins while both are on.
    await faults.start('broker_slow', { latencyMs: 123 });
    expect(broker.mode).toEqual({ kind: 'slow', latencyMs: 123 });
    await faults.toggle('broker_down');
    expect(broker.mode.kind).toBe('down');
    await faults.toggle('broker_down');
    expect(broker.mode).toEqual({ kind: 'slow', latencyMs: 123 });
    await faults.stopOpenEnded();
    expect(broker.mode.kind).toBe('normal');

    await faults.start('db_down');
    await faults.start('db_slow', {});
    expect(db).toMatchObject({ down: true, slow: 500 });
    await faults.stopAll();
    expect(db).toMatchObject({ down: false, slow: null });

    // Crash faults: torn down, then started after the duration (at once without one).
    await faults.start('processor_crash', { durationMs: 100 });
    expect(calls).toEqual(['processor.crash']);
    await waitFor(() => calls.length === 2, 'restart after the duration');
    await faults.start('sink_crash');
    expect(calls).toEqual(['processor.crash', 'processor.start', 'sink.crash', 'sink.start']);
    expect(faults.anyActive()).toBe(false);

    faults.settle();
    const records = faults.records();
    expect(records.map((r) => r.name)).toEqual(['broker_down', 'broker_slow', 'broker_down', 'db_down', 'db_slow', 'processor_crash', 'sink_crash']);
    expect(records.every((r) => r.duration_s !== null && r.drain_s !== null)).toBe(true);
    expect(events.filter((e) => e.type === 'started')).toHaveLength(7);
  });

  it('keeps a timed fault on for its whole duration by its own clock when the timer fires early', async () => {
    // Node's timers and Date.now() disagree by up to a millisecond (a 20 s broker_down once measured
    // 19.999 s); this clock runs at 90 % of the timers' pace, so by it the timer fires 10 % early.
    const t0 = Date.now();
    const faults = createFaultController({
      broker: createLinkController(), db: null, processor: null, sink: null, backlog: () => 0,
      now: () => t0 + (Date.now() - t0) * 0.9,
    });
    closers.push(() => faults.close());
    await faults.start('broker_down', { durationMs: 200 });
    await waitFor(() => !faults.anyActive(), 'timed end');
    expect(faults.records()[0]!.duration_s).toBeGreaterThanOrEqual(0.2);
  });

  it('refuses a fault this process cannot inject', async () => {
    const faults = createFaultController({ broker: null, db: null, processor: null, sink: null, backlog: () => 0 });
    closers.push(() => faults.close());
    expect(faults.available('processor_crash')).toBe(false);
    await expect(faults.start('processor_crash')).rejects.toThrow(/not available/);
    await expect(faults.start('broker_down')).rejects.toThrow(/not available/);
  });
});
