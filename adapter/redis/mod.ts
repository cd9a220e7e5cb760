/**
 * Redis adapters, wire-compatible with the official `@socket.io/redis-adapter@8.3.0`, and
 * their MessagePack codec (byte-compatible with `notepack.io`, the official adapters' codec).
 * The only entry of the package that loads `@msgpack/msgpack`.
 *
 * @example The codec
 * ```ts
 * import { decode, encode } from "@socketio-edge/core/redis";
 *
 * console.log(decode(encode({ rooms: ["news"], data: new Uint8Array([1]) })));
 * ```
 *
 * @module
 */

export { decode, encode } from "./msgpack.ts";
