import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import * as ep3 from "engine.io-parser-v3";
import {
  type EnginePacket,
  type EnginePacketType,
  PACKET_TYPES,
  toBytes,
} from "../parser/engine.ts";
import {
  decodePacketV3,
  decodePayloadV3,
  encodePacketV3,
  encodePayloadV3,
} from "../parser/engine_v3.ts";
import { DecodeError, isDecodeError } from "../parser/errors.ts";

const TYPES = Object.keys(PACKET_TYPES) as EnginePacketType[];
const OPEN =
  '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}';

type Ref = { type?: string; data?: unknown };

/** Comparable form: binary data of any kind becomes a plain number array. */
function norm(packet: unknown): unknown {
  if (isDecodeError(packet)) return { error: packet.code };
  const { type, data } = packet as Ref;
  if (data === undefined) return { type };
  if (typeof data === "string") return { type, data };
  return { type, data: Array.from(toBytes(data as ArrayBuffer)) };
}

/** A packet as it comes back from the wire: empty text data is absent. */
function wireForm(packet: EnginePacket): unknown {
  if (packet.data === "") return { type: packet.type };
  return norm(packet);
}

function wellFormed(packet: EnginePacket): EnginePacket {
  const data = packet.data;
  return typeof data === "string" ? { type: packet.type, data: data.toWellFormed() } : packet;
}

function asError(value: unknown): DecodeError {
  assert.ok(value instanceof DecodeError, `expected a DecodeError, got ${Deno.inspect(value)}`);
  return value;
}

function bytesOf(value: string | Uint8Array): number[] {
  return typeof value === "string" ? [...value].map((c) => c.charCodeAt(0)) : Array.from(value);
}

/** The reference parser only sees Buffers as binary (as on the Node server). */
function forReference(packet: EnginePacket): Ref {
  const data = packet.data;
  if (data === undefined || typeof data === "string") return packet;
  return { type: packet.type, data: Buffer.from(toBytes(data)) };
}

function refEncodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  let out: unknown;
  ep3.encodePacket(forReference(packet), supportsBinary, (encoded: unknown) => (out = encoded));
  return typeof out === "string" ? out : new Uint8Array(out as Uint8Array);
}

function refEncodePayload(packets: EnginePacket[], supportsBinary: boolean): string | Uint8Array {
  let out: unknown;
  ep3.encodePayload(
    packets.map(forReference),
    supportsBinary,
    (encoded: unknown) => (out = encoded),
  );
  return typeof out === "string" ? out : new Uint8Array(out as Uint8Array);
}

/** The reference decoder's packets, or "error" when it reports a parse error. */
function refDecodePayload(data: string | Uint8Array): unknown[] | "error" {
  const packets: unknown[] = [];
  let failed = false;
  ep3.decodePayload(typeof data === "string" ? data : Buffer.from(data), (packet: Ref) => {
    if (packet.type === "error") failed = true;
    else packets.push(norm(packet));
  });
  return failed ? "error" : packets;
}

// --- Arbitraries -------------------------------------------------------------------------------

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom("", "probe", "€", "😀", "\ud800", "12:4x", OPEN),
);

const binary = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.nat(7), fc.nat(3))
  .map(([bytes, before, after, kind]): Uint8Array | ArrayBuffer => {
    const backing = new Uint8Array(before + bytes.length + after).fill(0xee);
    backing.set(bytes, before);
    const view = backing.subarray(before, before + bytes.length);
    if (kind === 1) return view.slice().buffer;
    if (kind === 2) {
      return new DataView(backing.buffer, before, bytes.length) as unknown as Uint8Array;
    }
    return view;
  });

const type = fc.constantFrom(...TYPES);
const packet: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc.record({ type, data: text }, { requiredKeys: ["type"] }),
  // v3 binary packets carry their type, so any type may hold bytes.
  fc.record({ type: fc.oneof(fc.constant<EnginePacketType>("message"), type), data: binary }),
);
const packets = fc.array(packet, { maxLength: 8 });

// --- Wire examples -----------------------------------------------------------------------------

Deno.test("v3 packets: wire examples", () => {
  const bytes = new Uint8Array([1, 2, 3, 4]);
  assert.equal(encodePacketV3({ type: "open", data: OPEN }, false), "0" + OPEN);
  assert.equal(encodePacketV3({ type: "ping", data: "probe" }, true), "2probe");
  assert.equal(encodePacketV3({ type: "message", data: "" }, true), "4");
  assert.equal(encodePacketV3({ type: "noop" }, true), "6");
  assert.equal(encodePacketV3({ type: "message", data: bytes }, false), "b4AQIDBA==");
  assert.deepEqual(
    Array.from(encodePacketV3({ type: "message", data: bytes.subarray(1) }, true) as Uint8Array),
    [4, 2, 3, 4],
  );
  assert.deepEqual(decodePacketV3("3probe"), { type: "pong", data: "probe" });
  assert.deepEqual(decodePacketV3("b4AQIDBA=="), { type: "message", data: bytes });
  assert.deepEqual(decodePacketV3("b4"), { type: "message", data: new Uint8Array(0) });
  assert.deepEqual(decodePacketV3(new Uint8Array([4, 1, 2, 3, 4])), {
    type: "message",
    data: bytes,
  });
  const ab = (decodePacketV3(new Uint8Array([4, 1, 2]), "arraybuffer") as EnginePacket).data;
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(ab)), [1, 2]);
});

Deno.test("v3 packets: refusals", () => {
  assert.equal(asError(decodePacketV3("")).code, "invalid packet type");
  assert.equal(asError(decodePacketV3("9")).code, "invalid packet type");
  assert.equal(asError(decodePacketV3("b")).code, "invalid packet type");
  assert.equal(asError(decodePacketV3("bx")).code, "invalid packet type");
  assert.equal(asError(decodePacketV3("b9AQ==")).code, "invalid packet type");
  assert.equal(asError(decodePacketV3("b4A")).code, "invalid base64");
  assert.equal(asError(decodePacketV3(new Uint8Array(0))).code, "invalid packet type");
  assert.equal(asError(decodePacketV3(new Uint8Array([7, 1]))).code, "invalid packet type");
  assert.equal(asError(decodePacketV3({} as unknown as string)).code, "invalid data");
  assert.throws(() => encodePacketV3({ type: "nope" } as unknown as EnginePacket, true), TypeError);
});

Deno.test("v3 text payload: wire examples", () => {
  const open = { type: "open", data: OPEN } as const;
  const connect = { type: "message", data: "0" } as const;
  const payload = `96:0${OPEN}2:40`;
  assert.equal(encodePayloadV3([open, connect], true), payload);
  assert.deepEqual(decodePayloadV3(payload), [open, connect]);
  assert.equal(encodePayloadV3([], true), "0:");
  assert.deepEqual(decodePayloadV3("0:"), []);
  assert.equal(encodePayloadV3([{ type: "message", data: "€😀" }], false), "4:4€😀");
  assert.deepEqual(decodePayloadV3("4:4€😀1:2"), [{ type: "message", data: "€😀" }, {
    type: "ping",
  }]);
  const b64 = [{ type: "message", data: new Uint8Array([1, 2, 3, 4]) }] as EnginePacket[];
  assert.equal(encodePayloadV3(b64, false), "10:b4AQIDBA==");
  assert.deepEqual(decodePayloadV3("10:b4AQIDBA=="), b64);
  assert.deepEqual(decodePayloadV3("02:40"), [connect], "leading zeros, as the reference");
  assert.deepEqual(decodePayloadV3("0:1:6"), [{ type: "noop" }], "empty elements hold nothing");
});

Deno.test("v3 binary payload: wire examples", () => {
  const packets: EnginePacket[] = [
    { type: "message", data: "hello" },
    { type: "message", data: new Uint8Array([1, 2, 3]) },
    { type: "message", data: "€" },
    { type: "message", data: "hello world" },
  ];
  const expected = [
    ...[0, 6, 255, ...bytesOf("4hello")],
    ...[1, 4, 255, 4, 1, 2, 3],
    ...[0, 4, 255, 0x34, 0xe2, 0x82, 0xac],
    ...[0, 1, 2, 255, ...bytesOf("4hello world")],
  ];
  const encoded = encodePayloadV3(packets, true);
  assert.ok(encoded instanceof Uint8Array);
  assert.deepEqual(Array.from(encoded), expected);
  assert.deepEqual(
    (decodePayloadV3(new Uint8Array(expected)) as EnginePacket[]).map(norm),
    packets.map(norm),
  );
  assert.deepEqual(decodePayloadV3(new Uint8Array(0)), []);
  // Without binary packets, or when the client asked for base64, the text form is used.
  assert.equal(encodePayloadV3([packets[0]], true), "6:4hello");
  assert.equal(encodePayloadV3(packets.slice(0, 2), false), "6:4hello6:b4AQID");
  const ab =
    (decodePayloadV3(new Uint8Array([1, 2, 255, 4, 9]), "arraybuffer") as EnginePacket[])[0];
  assert.ok(ab.data instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(ab.data)), [9]);
});

Deno.test("v3 payloads: refusals", () => {
  const text: [string, string][] = [
    ["", "invalid payload"],
    [":", "invalid payload"],
    ["2", "invalid payload"],
    ["2:4", "invalid payload"],
    ["1:4x", "invalid payload"],
    ["-1:4", "invalid payload"],
    ["+1:4", "invalid payload"],
    [" 1:4", "invalid payload"],
    ["1.0:4", "invalid payload"],
    ["1e1:4", "invalid payload"],
    ["0x1:4", "invalid payload"],
    ["99999999999999999999999:4", "invalid payload"],
    ["1:9", "invalid packet type"],
    ["2:40x:", "invalid payload"],
    ["3:b4A", "invalid base64"],
  ];
  for (const [input, code] of text) assert.equal(asError(decodePayloadV3(input)).code, code, input);
  const binary: [number[], string][] = [
    [[2, 1, 255, 52], "invalid payload"],
    [[0, 255, 52], "invalid payload"],
    [[0, 1, 52], "invalid payload"],
    [[0, 1], "invalid payload"],
    [[0, 10, 255, 52], "invalid payload"],
    [[0, 2, 255, 52], "invalid payload"],
    [[0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 255, 52], "invalid payload"],
    [[0, 0, 255], "invalid packet type"],
    [[1, 0, 255], "invalid packet type"],
    [[0, 1, 255, 57], "invalid packet type"],
    [[1, 1, 255, 9], "invalid packet type"],
    [[0, 2, 255, 52, 0xff], "invalid utf-8"],
    [[0, 4, 255, 52, 0xed, 0xa0, 0x80], "invalid utf-8"], // an encoded lone surrogate
    [[0, 3, 255, 52, 0xc0, 0x80], "invalid utf-8"], // overlong
  ];
  for (const [input, code] of binary) {
    assert.equal(asError(decodePayloadV3(new Uint8Array(input))).code, code, String(input));
  }
  assert.equal(asError(decodePayloadV3(5 as unknown as string)).code, "invalid data");
});

Deno.test("v3 payloads: maxPackets", () => {
  assert.equal(asError(decodePayloadV3("1:61:61:6", { maxPackets: 2 })).code, "too large");
  assert.equal((decodePayloadV3("1:61:6", { maxPackets: 2 }) as EnginePacket[]).length, 2);
  const bin = new Uint8Array([0, 1, 255, 54, 0, 1, 255, 54]);
  assert.equal(asError(decodePayloadV3(bin, { maxPackets: 1 })).code, "too large");
  const ab = decodePayloadV3("10:b4AQIDBA==", { binaryType: "arraybuffer", maxPackets: 1 });
  assert.ok(((ab as EnginePacket[])[0].data as ArrayBuffer).byteLength === 4);
});

// --- Properties --------------------------------------------------------------------------------

Deno.test("property: v3 packets and payloads round-trip", () => {
  fc.assert(
    fc.property(packet, fc.boolean(), (p, supportsBinary) => {
      assert.deepEqual(norm(decodePacketV3(encodePacketV3(p, supportsBinary))), wireForm(p));
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(packets, fc.boolean(), (list, supportsBinary) => {
      const encoded = encodePayloadV3(list, supportsBinary);
      const decoded = decodePayloadV3(encoded);
      assert.ok(!isDecodeError(decoded));
      // Binary payloads carry text as UTF-8: lone surrogates become U+FFFD, as in the reference.
      const expected = typeof encoded === "string" ? list : list.map(wellFormed);
      assert.deepEqual(decoded.map(norm), expected.map(wireForm));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: v3 output is identical to engine.io-parser@2.2.1", () => {
  fc.assert(
    fc.property(packet, fc.boolean(), (p, supportsBinary) => {
      assert.deepEqual(
        bytesOf(encodePacketV3(p, supportsBinary)),
        bytesOf(refEncodePacket(p, supportsBinary)),
      );
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(packets, fc.boolean(), (list, supportsBinary) => {
      const ours = encodePayloadV3(list, supportsBinary);
      const theirs = refEncodePayload(list, supportsBinary);
      assert.equal(typeof ours, typeof theirs);
      assert.deepEqual(bytesOf(ours), bytesOf(theirs));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: v3 each side decodes the other's payloads alike", () => {
  fc.assert(
    fc.property(packets, fc.boolean(), (list, supportsBinary) => {
      const theirs = refEncodePayload(list, supportsBinary);
      const ours = decodePayloadV3(theirs);
      assert.ok(!isDecodeError(ours));
      assert.deepEqual(ours.map(norm), refDecodePayload(theirs));
      assert.deepEqual(refDecodePayload(encodePayloadV3(list, supportsBinary)), ours.map(norm));
    }),
    { numRuns: 1000 },
  );
});

const wireish = fc.string({
  unit: fc.constantFrom("0", "1", "2", "4", "6", "9", ":", "b", "A", "Q", "=", "-", " ", "€", "x"),
  maxLength: 40,
});
const wireBytes = fc.array(fc.constantFrom(0, 1, 2, 4, 9, 52, 54, 98, 255, 0xc3, 0xa9, 0xed), {
  maxLength: 40,
});

Deno.test("fuzz: v3 decoders never throw; whatever they accept the reference reads alike", () => {
  fc.assert(
    fc.property(fc.oneof(wireish, fc.string({ unit: "binary" })), (input) => {
      decodePacketV3(input);
      const ours = decodePayloadV3(input, { maxPackets: 64 });
      if (!isDecodeError(ours)) assert.deepEqual(ours.map(norm), refDecodePayload(input));
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.oneof(wireBytes.map((a) => new Uint8Array(a)), fc.uint8Array()), (input) => {
      decodePacketV3(input, "arraybuffer");
      const ours = decodePayloadV3(input);
      if (!isDecodeError(ours)) assert.deepEqual(ours.map(norm), refDecodePayload(input));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("v3 decoders stay bounded on huge inputs", () => {
  const digits = "9".repeat(1_000_000);
  assert.equal(asError(decodePayloadV3(digits + ":4")).code, "invalid payload");
  const bytes = new Uint8Array(1_000_000).fill(9);
  bytes[0] = 0; // a text element whose length digits never end
  assert.equal(asError(decodePayloadV3(bytes)).code, "invalid payload");
  assert.equal(asError(decodePayloadV3("0:".repeat(200_000) + "x")).code, "invalid payload");
});
