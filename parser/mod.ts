/**
 * The wire codecs, shared by server and client, with no I/O. Browser compatible.
 *
 * - Engine.IO v4 packets and polling payloads (`encodePacket`, `decodePayload`, ...), and the
 *   v3 payload format for `allowEIO3`.
 * - Socket.IO v5 packets: `Encoder` / `Decoder` with the interface of npm `socket.io-parser`, so
 *   a custom parser (npm `socket.io-msgpack-parser`) plugs in the same way.
 * - Decoders never throw on bad input: they return a typed {@linkcode DecodeError}.
 *
 * @example Decoding a Socket.IO event
 * ```ts
 * import { Decoder } from "@socketio-edge/core/parser";
 *
 * const decoder = new Decoder();
 * decoder.on("decoded", (packet) => console.log(packet.data)); // [ "hey", "Jude" ]
 * decoder.add('2["hey","Jude"]');
 * ```
 *
 * @module
 */
export * from "./errors.ts";
export * from "./engine.ts";
export * from "./engine_v3.ts";
export * from "./base64.ts";
export * from "./socket.ts";
export * from "./binary.ts";
export * from "./emitter.ts";
