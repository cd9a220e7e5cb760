/**
 * How the engine hands received binary messages on. Browser compatible.
 *
 * Code ported from Node calls `Buffer.isBuffer(data)` or `data.toString("hex")` on what
 * `socket.conn.on("message")` and Socket.IO's event arguments give, and parsers written for Node
 * (socket.io-msgpack-parser) read with Buffer methods. So where the runtime has a `Buffer` (Deno,
 * Bun, Node; Workers with nodejs_compat) a received message is one, viewing the same bytes;
 * elsewhere the `Uint8Array` itself. Chosen once, not per message.
 *
 * @module
 */

type BufferClass = { from(b: ArrayBufferLike, offset: number, length: number): Uint8Array };
const NodeBuffer = (globalThis as { Buffer?: BufferClass }).Buffer;

/** `data` as a `Buffer` over the same bytes where the runtime has one, else `data`. */
export const receivedBytes: (data: Uint8Array) => Uint8Array = NodeBuffer === undefined
  ? (data) => data
  : (data) => NodeBuffer.from(data.buffer, data.byteOffset, data.byteLength);
