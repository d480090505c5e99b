/**
 * A fix for kafkajs 2.x (pinned): a connection that was cut in the middle of a response reads the
 * next socket's responses out of frame, for good.
 *
 * kafkajs's Connection gathers a socket's bytes into responses with three fields (`chunks`,
 * `bytesBuffered`, `bytesNeeded`) that it sets in its constructor only. The Connection object
 * outlives its socket: after a reset it connects again with the same fields. When the reset came
 * in the middle of a response (a fetch response of a megabyte is sent in dozens of segments), the
 * part already received stays buffered, and the new socket's first response is read as the rest of
 * the old one: a correlation id that matches nothing (kafkajs logs "Response without match" at
 * warn), then a length read from the middle of a record, and every later request on that
 * connection times out. Seen: a processor that fetched nothing after a 20 s broker outage, its
 * Fetch answered by the broker within 2 ms (a packet capture) and timed out by kafkajs every 30 s.
 *
 * connect() on a Connection that is not connected now starts from an empty buffer. Installed once
 * per process, on the class, so every client (the bus, the admin commands) has it whatever the
 * load order; a kafkajs whose Connection does not look like 2.x's keeps its own.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const CONNECTION_MODULE = 'kafkajs/src/network/connection.js';
const SIZE_BYTES = 4; // a response starts with its length, an int32

interface ConnectionLike {
  chunks: Buffer[];
  bytesBuffered: number;
  bytesNeeded: number;
  isConnected(): boolean;
  connect(): Promise<boolean>;
}

type ConnectionClass = { prototype: ConnectionLike };

const PATCHED = Symbol.for('storesim.kafkajs.connection-reset');

/** Makes `Connection` start each new socket with an empty read buffer. False when it does not look like kafkajs 2.x's. */
export function patchConnection(Connection: ConnectionClass): boolean {
  const proto = Connection.prototype as ConnectionLike & { [PATCHED]?: true };
  if (proto[PATCHED]) return true;
  if (typeof proto.connect !== 'function' || typeof proto.isConnected !== 'function') return false;
  const connect = proto.connect;
  proto.connect = function (this: ConnectionLike): Promise<boolean> {
    if (!this.isConnected() && Array.isArray(this.chunks)) {
      this.chunks = [];
      this.bytesBuffered = 0;
      this.bytesNeeded = SIZE_BYTES;
    }
    return connect.call(this);
  };
  proto[PATCHED] = true;
  return true;
}

/** Whether kafkajs's Connection starts each socket afresh in this process. */
export const connectionResetInstalled: boolean = (() => {
  try {
    return patchConnection(require(CONNECTION_MODULE) as ConnectionClass);
  } catch {
    return false; // another kafkajs layout
  }
})();
