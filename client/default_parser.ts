/**
 * The client's default parser: ours, as npm `socket.io-parser` speaks. A module of its own so
 * that the msgpack bundle (`socket.io.msgpack.min.js`, made by `scripts/bundle.ts`) can put
 * npm `socket.io-msgpack-parser` in its place, as the official msgpack bundle does. Browser
 * compatible.
 *
 * @module
 */
export { Decoder, Encoder } from "./codec.ts";
