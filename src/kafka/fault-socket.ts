/**
 * Fault sockets (DESIGN.md, Infrastructure faults): a Duplex around a real TCP socket that a
 * controller can switch between normal, slow (every chunk from the server arrives `latencyMs`
 * later), stall (writes accepted, nothing answered: both directions held until the stall ends) and
 * down (every connection reset, new connections refused; or, `closed`, every connection ended by
 * the server as a broker that stops or restarts ends them). kafkajs takes it as its `socketFactory`;
 * pg takes the same class as its `stream` (src/db/fault-stream.ts). Order is kept in both
 * directions: a held or delayed chunk is never overtaken.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import type { ISocketFactory } from 'kafkajs';

export type LinkMode =
  | { kind: 'normal' }
  /** `closed`: connections are ended by the server (a broker stopped or restarting), not reset (one that crashed, a cut). */
  | { kind: 'down'; closed?: boolean }
  | { kind: 'stall' }
  | { kind: 'slow'; latencyMs: number };

/** Switches every connection made through it at once. */
export interface LinkController {
  readonly mode: LinkMode;
  set(mode: LinkMode): void;
  /** Connections open now (for tests and the dashboard). */
  readonly connections: number;
  /** Connections refused or reset by `down` since creation. */
  readonly dropped: number;
  /** Destroys every connection still open through it; returns how many there were. */
  closeAll(): number;
  /** @internal */ register(s: FaultSocket): void;
  /** @internal */ unregister(s: FaultSocket): void;
  /** @internal */ countDrop(): void;
}

export function createLinkController(): LinkController {
  let mode: LinkMode = { kind: 'normal' };
  const sockets = new Set<FaultSocket>();
  let dropped = 0;
  return {
    get mode() { return mode; },
    set(next: LinkMode): void {
      mode = next;
      for (const s of [...sockets]) s.modeChanged();
    },
    get connections() { return sockets.size; },
    get dropped() { return dropped; },
    register(s) { sockets.add(s); },
    unregister(s) { sockets.delete(s); },
    countDrop() { dropped++; },
    closeAll() {
      const open = [...sockets];
      for (const s of open) s.destroy();
      return open.length;
    },
  };
}

type Item = { kind: 'data'; chunk: Buffer; cb?: (err?: Error | null) => void } | { kind: 'end' } | { kind: 'connect' };

function netError(code: 'ECONNREFUSED' | 'ECONNRESET', what: string): NodeJS.ErrnoException {
  const err = new Error(`${what} (${code}, injected fault)`) as NodeJS.ErrnoException;
  err.code = code;
  err.errno = code === 'ECONNREFUSED' ? -111 : -104;
  err.syscall = code === 'ECONNREFUSED' ? 'connect' : 'read';
  return err;
}

/**
 * A socket-like Duplex: `connect(port, host)` as net.Socket (what pg calls), plus the setters both
 * clients use. Created unconnected; `down` makes connect fail with ECONNREFUSED on the next tick.
 */
export class FaultSocket extends Duplex {
  private inner: net.Socket | null = null;
  /** Towards the client (data from the server, its end, the connect event). */
  private readonly inbound: { item: Item; due: number }[] = [];
  /** Towards the server. */
  private readonly outbound: { item: Item; due: number }[] = [];
  private lastInDue = 0;
  private lastOutDue = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = Infinity;
  private readonly pendingSetters: Array<(s: net.Socket) => void> = [];
  private registered = false;

  constructor(private readonly ctl: LinkController) {
    super({ allowHalfOpen: false });
  }

  connect(port: number, host?: string): this {
    if (this.ctl.mode.kind === 'down') {
      this.ctl.countDrop();
      process.nextTick(() => this.destroy(netError('ECONNREFUSED', `connect to ${host ?? 'localhost'}:${port} refused`)));
      return this;
    }
    const s = net.connect({ port, host: host ?? 'localhost' });
    this.inner = s;
    for (const f of this.pendingSetters) f(s);
    this.pendingSetters.length = 0;
    this.ctl.register(this);
    this.registered = true;
    s.on('connect', () => this.toClient({ kind: 'connect' }));
    s.on('data', (chunk: Buffer) => this.toClient({ kind: 'data', chunk }));
    s.on('end', () => this.toClient({ kind: 'end' }));
    s.on('error', (err) => this.destroy(err));
    s.on('close', () => this.closeWhenDelivered());
    return this;
  }

  setNoDelay(noDelay = true): this { return this.setter((s) => s.setNoDelay(noDelay)); }
  setKeepAlive(enable = false, initialDelay = 0): this { return this.setter((s) => s.setKeepAlive(enable, initialDelay)); }
  setTimeout(ms: number, cb?: () => void): this {
    if (cb) this.once('timeout', cb);
    return this.setter((s) => { s.setTimeout(ms, () => this.emit('timeout')); });
  }
  ref(): this { return this.setter((s) => s.ref()); }
  unref(): this { return this.setter((s) => s.unref()); }
  get remoteAddress(): string | undefined { return this.inner?.remoteAddress; }
  get remotePort(): number | undefined { return this.inner?.remotePort; }

  private setter(f: (s: net.Socket) => void): this {
    if (this.inner) f(this.inner);
    else this.pendingSetters.push(f);
    return this;
  }

  /** Called by the controller on every switch. */
  modeChanged(): void {
    const mode = this.ctl.mode;
    if (mode.kind === 'down') {
      this.ctl.countDrop();
      if (!mode.closed) {
        this.destroy(netError('ECONNRESET', 'connection reset'));
        return;
      }
      // What the server sent arrives, then its end; closeWhenDelivered() follows the inner socket's close.
      this.toClient({ kind: 'end' });
      this.inner?.destroy();
      return;
    }
    if (mode.kind === 'stall') return; // held items stay held
    // Released from a stall, or a latency change: what waits goes now (in order), new items get the new latency.
    const now = Date.now();
    for (const q of [this.inbound, this.outbound]) for (const x of q) if (x.due === Infinity || x.due > now) x.due = now;
    this.lastInDue = Math.min(this.lastInDue, now);
    this.lastOutDue = Math.min(this.lastOutDue, now);
    this.schedule();
  }

  private dueFor(direction: 'in' | 'out'): number {
    const mode = this.ctl.mode;
    const now = Date.now();
    // Latency is added once per round trip: on what the server sends back.
    const base = mode.kind === 'stall' ? Infinity : mode.kind === 'slow' && direction === 'in' ? now + mode.latencyMs : now;
    const last = direction === 'in' ? this.lastInDue : this.lastOutDue;
    const due = Math.max(base, last);
    if (direction === 'in') this.lastInDue = due;
    else this.lastOutDue = due;
    return due;
  }

  private toClient(item: Item): void {
    this.inbound.push({ item, due: this.dueFor('in') });
    this.pump();
  }

  private toServer(item: Item): void {
    this.outbound.push({ item, due: this.dueFor('out') });
    this.pump();
  }

  private pump(): void {
    if (this.destroyed) return;
    const now = Date.now();
    while (this.outbound.length > 0 && this.outbound[0]!.due <= now) {
      const { item } = this.outbound.shift()!;
      if (item.kind === 'data') this.inner?.write(item.chunk, (err) => item.cb?.(err ?? null));
      else if (item.kind === 'end') this.inner?.end();
    }
    while (this.inbound.length > 0 && this.inbound[0]!.due <= now && !this.destroyed) {
      const { item } = this.inbound.shift()!;
      if (item.kind === 'data') this.push(item.chunk);
      else if (item.kind === 'end') this.push(null);
      else this.emit('connect');
    }
    if (this.inner?.destroyed && this.inbound.length === 0) this.closeWhenDelivered();
    this.schedule();
  }

  /** The server's socket closed: once everything held for the client is delivered (its end included), close too. */
  private closeWhenDelivered(): void {
    if (this.inbound.length > 0) return; // pump() comes back here when they are out
    setImmediate(() => {
      if (!this.destroyed && this.inbound.length === 0) this.destroy();
    });
  }

  private schedule(): void {
    const next = Math.min(this.inbound[0]?.due ?? Infinity, this.outbound[0]?.due ?? Infinity);
    if (next === this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (next === Infinity || this.destroyed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(0, next - Date.now()));
  }

  override _read(): void {
    // No back-pressure towards the server: clients here read everything they are sent.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send(chunk, cb);
  }

  private send(chunk: Buffer, cb: (err?: Error | null) => void): void {
    if (!this.inner) {
      cb(netError('ECONNRESET', 'write before connect'));
      return;
    }
    const held = this.ctl.mode.kind !== 'normal' || this.outbound.length > 0;
    // A held write is accepted at once (a stalled server still takes bytes into its window).
    if (held) {
      this.toServer({ kind: 'data', chunk });
      cb();
    } else {
      this.toServer({ kind: 'data', chunk, cb });
    }
  }

  /**
   * Writes buffered meanwhile (a corked stream: pg sends a query's parse, bind, execute and sync
   * so; or writes made while the previous one was with the kernel) go as one chunk: one syscall,
   * as on a bare socket, instead of one per message.
   */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.toServer({ kind: 'end' });
    cb();
  }

  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.inbound.length = 0;
    this.outbound.length = 0;
    if (this.registered) this.ctl.unregister(this);
    this.registered = false;
    this.inner?.destroy();
    cb(err);
  }
}

const KEEP_ALIVE_DELAY = 60_000;

/** kafkajs's socketFactory over fault sockets (TLS, when asked, runs over the fault socket). */
export function createFaultSocketFactory(ctl: LinkController): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const raw = new FaultSocket(ctl);
    raw.setKeepAlive(true, KEEP_ALIVE_DELAY);
    raw.connect(port, host);
    if (ssl) {
      const opts: tls.ConnectionOptions = { ...(typeof ssl === 'object' ? ssl : {}), socket: raw, host, ...(!net.isIP(host) ? { servername: host } : {}) };
      return tls.connect(opts, onConnect) as unknown as net.Socket;
    }
    raw.once('connect', onConnect);
    return raw as unknown as net.Socket;
  };
}
