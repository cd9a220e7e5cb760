/**
 * The client's small codec against the official npm parsers: the same frames out, the same
 * packets in (property-based), and refusal of frames that are not packets.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import * as sp from "socket.io-parser";
import * as ep from "engine.io-parser";
import {
  decodePacket,
  decodePayload,
  Decoder,
  encodePacket,
  encodePayload,
  Encoder,
} from "../client/codec.ts";
import type { EnginePacket } from "../parser/engine.ts";
import type { Packet } from "../parser/socket.ts";

// JSON data, with binary here and there.
const bytesArb = fc.uint8Array({ maxLength: 40 });
const leafArb = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
);
const { data: dataArb } = fc.letrec((tie) => ({
  data: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    fc.array(tie("data"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("data"), { maxKeys: 4 }),
  ),
}));
const { data: binaryDataArb } = fc.letrec((tie) => ({
  data: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafArb,
    bytesArb,
    bytesArb.map((b) => b.buffer as ArrayBuffer),
    fc.array(tie("data"), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie("data"), { maxKeys: 4 }),
  ),
}));
const nspArb = fc.constantFrom("/", "/admin", "/a-b_c", "/é");
const idArb = fc.option(fc.nat({ max: 2 ** 31 - 1 }), { nil: undefined });

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    type: fc.constant(0 as const),
    nsp: nspArb,
    data: fc.option(fc.dictionary(fc.string(), dataArb, { maxKeys: 3 }), { nil: undefined }),
  }),
  fc.record({ type: fc.constant(1 as const), nsp: nspArb }),
  fc.record({
    type: fc.constant(2 as const),
    nsp: nspArb,
    id: idArb,
    data: fc.tuple(fc.string({ minLength: 1 }), fc.array(binaryDataArb, { maxLength: 4 }))
      .map(([name, args]) => [name, ...args]),
  }),
  fc.record({
    type: fc.constant(3 as const),
    nsp: nspArb,
    id: fc.nat({ max: 2 ** 31 - 1 }),
    data: fc.array(binaryDataArb, { maxLength: 4 }),
  }),
  fc.record({
    type: fc.constant(4 as const),
    nsp: nspArb,
    data: fc.record({ message: fc.string(), data: fc.option(dataArb, { nil: undefined }) }),
  }),
).map((p) => {
  // Optional keys absent rather than undefined, as real packets have them.
  const out = { ...p } as Packet;
  for (const k of ["id", "data"] as const) if (out[k] === undefined) delete out[k];
  return out;
});

/** Attachments as plain byte arrays, to compare across Buffer / Uint8Array / ArrayBuffer. */
function normalize(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  }
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

function officialEncode(packet: Packet): unknown[] {
  return new sp.Encoder().encode(packet as sp.Packet);
}

function officialDecode(chunks: unknown[]): Packet[] {
  // Generated packets may carry more than its default 10 attachments; the client has no limit.
  const decoder = new sp.Decoder({ maxAttachments: 1000 });
  const out: Packet[] = [];
  decoder.on("decoded", (p: Packet) => out.push(p));
  for (const chunk of chunks) decoder.add(chunk);
  return out;
}

function ourDecode(chunks: unknown[]): Packet[] {
  const decoder = new Decoder();
  const out: Packet[] = [];
  decoder.on("decoded", (p) => out.push(p));
  for (const chunk of chunks) decoder.add(chunk as string);
  return out;
}

Deno.test("client codec: Socket.IO frames are the official encoder's, byte for byte", () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const ours = new Encoder().encode(structuredClone(packet));
      const official = officialEncode(structuredClone(packet));
      assert.deepEqual(normalize(ours), normalize(official));
    }),
    { numRuns: 500 },
  );
});

Deno.test("client codec: decodes what the official encoder sends, as the official decoder", () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const frames = officialEncode(structuredClone(packet));
      const [ours] = ourDecode(frames);
      const [official] = officialDecode(frames);
      // The official decoder keeps BINARY_EVENT / BINARY_ACK; ours says EVENT / ACK.
      const type = official.type > 4 ? official.type - 3 : official.type;
      const { attachments: _, ...rest } = official;
      assert.deepEqual(normalize(ours), normalize({ ...rest, type }));
    }),
    { numRuns: 500 },
  );
});

Deno.test("client codec: refuses frames that are not Socket.IO packets", () => {
  for (const frame of ["", "7", "x", '2{"a":1}', "2[1", '3["a"]x', "4/admin"]) {
    assert.throws(() => ourDecode([frame]), `${JSON.stringify(frame)} accepted`);
  }
  // A binary frame with no packet waiting for it, or too few announced placeholders.
  assert.throws(() => ourDecode([new Uint8Array(1)]));
  assert.throws(() => ourDecode(['51-["a",{"_placeholder":true,"num":3}]', new Uint8Array(1)]));
  // A text frame while attachments are expected.
  assert.throws(() => ourDecode(['51-["a",{"_placeholder":true,"num":0}]', '2["b"]']));
  // The decoder can be reset.
  const decoder = new Decoder();
  decoder.add('51-["a",{"_placeholder":true,"num":0}]');
  decoder.destroy();
  const got: Packet[] = [];
  decoder.on("decoded", (p) => got.push(p));
  decoder.add('2["b"]');
  assert.deepEqual(got, [{ type: 2, nsp: "/", data: ["b"] }]);
});

const enginePacketArb: fc.Arbitrary<EnginePacket> = fc.oneof(
  fc.record({
    type: fc.constantFrom("open", "close", "ping", "pong", "message", "upgrade", "noop" as const),
    data: fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
  }).map((p) => (p.data === undefined ? { type: p.type } : p)),
  bytesArb.map((data) => ({ type: "message" as const, data })),
);

function officialEncodePacket(packet: EnginePacket, binary: boolean): unknown {
  let out: unknown;
  ep.encodePacket(packet as ep.Packet, binary, (encoded: unknown) => (out = encoded));
  return out;
}

Deno.test("client codec: Engine.IO packets and payloads as engine.io-parser", () => {
  fc.assert(
    fc.property(fc.array(enginePacketArb, { minLength: 1, maxLength: 6 }), (packets) => {
      for (const packet of packets) {
        for (const binary of [true, false]) {
          const ours = encodePacket(packet, binary);
          assert.deepEqual(normalize(ours), normalize(officialEncodePacket(packet, binary)));
          for (const binaryType of ["arraybuffer", "uint8array"] as const) {
            assert.deepEqual(
              normalize(decodePacket(ours, binaryType)),
              normalize(ep.decodePacket(ours as string, "arraybuffer")),
            );
          }
        }
      }
      let payload = "";
      ep.encodePayload(packets as ep.Packet[], (p: string) => (payload = p));
      assert.equal(encodePayload(packets), payload);
      assert.deepEqual(
        normalize(decodePayload(payload, "arraybuffer")),
        normalize(ep.decodePayload(payload, "arraybuffer")),
      );
    }),
    { numRuns: 500 },
  );
  assert.equal(decodePacket("", "arraybuffer"), undefined);
  assert.equal(decodePacket("9", "arraybuffer"), undefined);
  assert.equal(decodePacket("b!!", "arraybuffer"), undefined);
  assert.equal(decodePayload("4a\x1e9", "arraybuffer"), undefined);
  // Binary frames come out in the form asked for.
  const frame = new Uint8Array([1, 2, 3]).buffer;
  assert.equal(decodePacket(frame, "arraybuffer")?.data, frame);
  assert.ok(decodePacket(frame, "uint8array")?.data instanceof Uint8Array);
  // A large binary over polling (base64 text).
  const big = new Uint8Array(300_000).map((_, i) => i);
  const text = encodePacket({ type: "message", data: big }, false) as string;
  assert.deepEqual(
    new Uint8Array(decodePacket(text, "arraybuffer")!.data as ArrayBuffer),
    big,
  );
});
