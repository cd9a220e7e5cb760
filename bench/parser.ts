/**
 * Parser micro-benchmarks: our codecs against npm `engine.io-parser` and `socket.io-parser` on
 * the same inputs, in one run. Each case encodes or decodes the full wire form (Engine.IO framing
 * plus the Socket.IO packet), as a server does per message.
 *
 * @module
 */
import * as ours from "../parser/engine.ts";
import { Decoder, Encoder, type Packet, PacketType } from "../parser/socket.ts";
import * as officialEngine from "engine.io-parser";
import * as officialSocket from "socket.io-parser";
import { measure, type Row } from "./measure.ts";
import { Buffer } from "node:buffer";

const buffers = new WeakMap<Uint8Array, Buffer>();
/** The same bytes as a Buffer (made once per input, outside the timed loop's cost). */
function asBuffer(bytes: Uint8Array): Buffer {
  let b = buffers.get(bytes);
  if (!b) buffers.set(bytes, b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return b;
}

type Impl = {
  /** Socket.IO packet → Engine.IO frames (WebSocket). */
  encodeFrames(packet: Packet): (string | Uint8Array)[];
  /** Engine.IO frames → Socket.IO packets. */
  decodeFrames(frames: (string | Uint8Array)[]): number;
  /** Socket.IO packets → one polling payload. */
  encodePayload(packets: Packet[]): string;
  /** One polling payload → Socket.IO packets. */
  decodePayload(payload: string): number;
};

function oursImpl(): Impl {
  const encoder = new Encoder();
  const decoder = new Decoder({ maxStringLength: 2e6 });
  let count = 0;
  decoder.on("decoded", () => count++);
  const frame = (chunk: string | Uint8Array | Blob) =>
    ours.encodePacket({ type: "message", data: chunk as string | Uint8Array }, true);
  return {
    encodeFrames: (p) => encoder.encode(p).map(frame),
    decodeFrames(frames) {
      count = 0;
      for (const f of frames) {
        // As the server reads a text message: inside its WebSocket frame, without slicing.
        if (typeof f === "string" && f.charCodeAt(0) === 52) {
          decoder.add(f, 1);
          continue;
        }
        const packet = ours.decodePacket(f) as ours.EnginePacket;
        decoder.add(packet.data as string | Uint8Array);
      }
      return count;
    },
    encodePayload: (packets) =>
      ours.encodePayload(
        packets.map((p) => ({ type: "message", data: encoder.encode(p)[0] as string })),
      ),
    decodePayload(payload) {
      count = 0;
      for (const p of ours.decodePayload(payload) as ours.EnginePacket[]) {
        decoder.add(p.data as string);
      }
      return count;
    },
  };
}

function officialImpl(): Impl {
  const encoder = new officialSocket.Encoder();
  const decoder = new officialSocket.Decoder();
  let count = 0;
  decoder.on("decoded", () => count++);
  const frame = (chunk: unknown) => {
    let out: unknown;
    // deno-lint-ignore no-explicit-any
    officialEngine.encodePacket({ type: "message", data: chunk as any }, true, (e) => (out = e));
    return out as string | Uint8Array;
  };
  return {
    encodeFrames: (p) => encoder.encode(p as officialSocket.Packet).map(frame),
    decodeFrames(frames) {
      count = 0;
      for (const f of frames) {
        // On Node, `ws` hands the server Buffers: give the official parser the same, not a copy.
        const frame = typeof f === "string" ? f : asBuffer(f);
        // deno-lint-ignore no-explicit-any
        const packet = officialEngine.decodePacket(frame as any, "nodebuffer" as any);
        decoder.add(packet.data);
      }
      return count;
    },
    encodePayload(packets) {
      let out = "";
      officialEngine.encodePayload(
        packets.map((p) => ({ type: "message" as const, data: encoder.encode(p)[0] })),
        (e) => (out = e),
      );
      return out;
    },
    decodePayload(payload) {
      count = 0;
      for (const p of officialEngine.decodePayload(payload)) decoder.add(p.data);
      return count;
    },
  };
}

/** Runs every parser case for both implementations; `ms` is the time per measurement. */
export function runParserBench(ms = 400, rounds = 3): Row[] {
  const small: Packet = {
    type: PacketType.EVENT,
    nsp: "/",
    data: ["chat", { user: "a", text: "hi" }],
  };
  const mb = new Uint8Array(1024 * 1024).map((_, i) => i & 255);
  const binary: Packet = { type: PacketType.EVENT, nsp: "/", data: ["file", { name: "a" }, mb] };
  const batch: Packet[] = Array.from({ length: 100 }, (_, i) => ({
    type: PacketType.EVENT,
    nsp: "/",
    data: ["chat", { user: "u" + i, text: "message number " + i }],
  }));

  const a = oursImpl();
  const b = officialImpl();
  const smallFrames = a.encodeFrames(small);
  const binaryFrames = a.encodeFrames(binary);
  const payload = a.encodePayload(batch);
  // Both sides must agree on the inputs, or the comparison means nothing.
  if (b.encodePayload(batch) !== payload) throw new Error("payload encodings differ");
  if (a.decodeFrames(smallFrames) !== 1 || b.decodeFrames(smallFrames) !== 1) {
    throw new Error("small event did not decode");
  }
  if (a.decodeFrames(binaryFrames) !== 1 || b.decodeFrames(binaryFrames) !== 1) {
    throw new Error("binary event did not decode");
  }
  if (a.decodePayload(payload) !== 100 || b.decodePayload(payload) !== 100) {
    throw new Error("payload did not decode");
  }

  const cases: [string, (i: Impl) => unknown][] = [
    ["encode small event", (i) => i.encodeFrames(small)],
    ["decode small event", (i) => i.decodeFrames(smallFrames)],
    ["encode event + 1 MB binary", (i) => i.encodeFrames(binary)],
    ["decode event + 1 MB binary", (i) => i.decodeFrames(binaryFrames)],
    ["encode 100-packet payload", (i) => i.encodePayload(batch)],
    ["decode 100-packet payload", (i) => i.decodePayload(payload)],
  ];
  return cases.map(([name, fn]) => measure(name, () => fn(a), () => fn(b), ms, rounds));
}
