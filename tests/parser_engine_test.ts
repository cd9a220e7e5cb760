import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import * as ep from "engine.io-parser";
import {
  type BinaryType,
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type EnginePacket,
  type EnginePacketType,
  PACKET_TYPES,
  PREENCODED,
  SEPARATOR,
  toBytes,
} from "../parser/engine.ts";
import { DecodeError, isDecodeError } from "../parser/errors.ts";

const TYPES = Object.keys(PACKET_TYPES) as EnginePacketType[];
const BYTES_1234 = new Uint8Array([1, 2, 3, 4]);

/** Comparable form: binary data of any kind becomes a plain number array. */
function norm(packet: unknown): unknown {
  if (isDecodeError(packet)) return { error: packet.code };
  const { type, data } = packet as { type: string; data?: unknown };
  if (data === undefined) return { type };
  if (typeof data === "string") return { type, data };
  return { type, data: Array.from(toBytes(data as ArrayBuffer)) };
}

/** A packet as it comes back from the wire: empty text data is absent. */
function wireForm(packet: EnginePacket): unknown {
  if (packet.data === "" || packet.data === undefined) return { type: packet.type };
  if (typeof packet.data === "string") return norm(packet);
  return norm({ type: "message", data: packet.data });
}

function asError(value: unknown): DecodeError {
  assert.ok(value instanceof DecodeError, `expected a DecodeError, got ${Deno.inspect(value)}`);
  return value;
}

function officialEncodePacket(packet: EnginePacket, supportsBinary: boolean): string | Uint8Array {
  let out: unknown;
  ep.encodePacket(packet as ep.Packet, supportsBinary, (encoded: unknown) => (out = encoded));
  return typeof out === "string" ? out : toBytes(out as ArrayBuffer);
}

function officialEncodePayload(packets: EnginePacket[]): string {
  let out: string | undefined;
  ep.encodePayload(packets as ep.Packet[], (encoded: string) => (out = encoded));
  return out!;
}

// --- Arbitraries -------------------------------------------------------------------------------

/** Text incl. astral characters, graphemes and lone surrogates. */
const text = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.string({ unit: fc.nat(0xffff).map((c) => String.fromCharCode(c)) }),
  fc.constantFrom("", "probe", "€", "😀", "\ud800", "\udc00x", '{"sid":"abc","upgrades":[]}'),
);
const payloadText = text.map((s) => s.replaceAll(SEPARATOR, ""));

/** Bytes as a Uint8Array, a view at an offset into a larger buffer, an ArrayBuffer or other view. */
const binary = fc
  .tuple(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.nat(7), fc.nat(3))
  .map(([bytes, before, after, kind]): Uint8Array | ArrayBuffer => {
    const backing = new Uint8Array(before + bytes.length + after).fill(0xee);
    backing.set(bytes, before);
    const view = backing.subarray(before, before + bytes.length);
    if (kind === 1) return view.slice().buffer;
    if (kind === 2) {
      // Typed as Uint8Array for the packet type; encoders accept any ArrayBufferView.
      return new DataView(backing.buffer, before, bytes.length) as unknown as Uint8Array;
    }
    return view;
  });

const textPacket = (data: fc.Arbitrary<string>) =>
  fc.record(
    { type: fc.constantFrom(...TYPES), data },
    { requiredKeys: ["type"] },
  ) as fc.Arbitrary<EnginePacket>;
const binaryPacket = binary.map((data): EnginePacket => ({ type: "message", data }));
const packet = fc.oneof(textPacket(text), binaryPacket);
const payloadPacket = fc.oneof(textPacket(payloadText), binaryPacket);

// --- Wire examples -----------------------------------------------------------------------------

Deno.test("encodePacket: wire examples", () => {
  const open = '{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000}';
  assert.equal(encodePacket({ type: "open", data: open }, true), "0" + open);
  assert.equal(encodePacket({ type: "close" }, true), "1");
  assert.equal(encodePacket({ type: "ping" }, true), "2");
  assert.equal(encodePacket({ type: "ping", data: "probe" }, true), "2probe");
  assert.equal(encodePacket({ type: "pong", data: "probe" }, false), "3probe");
  assert.equal(encodePacket({ type: "message", data: "hello" }, true), "4hello");
  assert.equal(encodePacket({ type: "message", data: "" }, true), "4");
  assert.equal(encodePacket({ type: "upgrade" }, true), "5");
  assert.equal(encodePacket({ type: "noop" }, false), "6");
  assert.equal(encodePacket({ type: "message", data: BYTES_1234 }, false), "bAQIDBA==");
  assert.equal(encodePacket({ type: "message", data: new Uint8Array(0) }, false), "b");
  assert.equal(encodePacket({ type: "message", data: BYTES_1234 }, true), BYTES_1234);
});

Deno.test("encodePacket: data-less packets are the preencoded constants", () => {
  assert.equal(encodePacket({ type: "ping" }, true), PREENCODED.ping);
  assert.equal(encodePacket({ type: "pong" }, true), PREENCODED.pong);
  assert.equal(encodePacket({ type: "noop" }, false), PREENCODED.noop);
  assert.equal(encodePacket({ type: "close" }, false), PREENCODED.close);
  assert.equal(encodePacket({ type: "upgrade" }, false), PREENCODED.upgrade);
  assert.deepEqual(decodePacket(PREENCODED.probePing), { type: "ping", data: "probe" });
  assert.deepEqual(decodePacket(PREENCODED.probePong), { type: "pong", data: "probe" });
});

Deno.test("encodePacket: refuses unknown types and non-binary objects", () => {
  for (const type of ["error", "toString", "__proto__", "constructor", ""]) {
    assert.throws(() => encodePacket({ type } as unknown as EnginePacket, true), TypeError);
  }
  assert.throws(
    () => encodePacket({ type: "message", data: 42 } as unknown as EnginePacket, true),
    TypeError,
  );
});

Deno.test("encodePacket: a view encodes exactly its own bytes", () => {
  const backing = new Uint8Array([9, 9, 1, 2, 3, 4, 9]);
  const view = backing.subarray(2, 6);
  const raw = encodePacket({ type: "message", data: view }, true) as Uint8Array;
  assert.deepEqual(Array.from(raw), [1, 2, 3, 4]);
  assert.equal(encodePacket({ type: "message", data: view }, false), "bAQIDBA==");

  const dv = new DataView(backing.buffer, 2, 4) as unknown as Uint8Array;
  assert.deepEqual(Array.from(encodePacket({ type: "message", data: dv }, true) as Uint8Array), [
    1,
    2,
    3,
    4,
  ]);
  assert.equal(encodePacket({ type: "message", data: dv }, false), "bAQIDBA==");

  const u16 = new Uint16Array(backing.buffer.slice(0, 6), 2, 2) as unknown as Uint8Array;
  assert.deepEqual(
    Array.from(encodePacket({ type: "message", data: u16 }, true) as Uint8Array),
    [1, 2, 3, 4],
  );
  assert.equal(
    encodePacket({ type: "message", data: BYTES_1234.slice().buffer }, false),
    "bAQIDBA==",
  );
});

Deno.test("decodePacket: wire examples", () => {
  const open =
    '{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1e6}';
  assert.deepEqual(decodePacket("0" + open), { type: "open", data: open });
  assert.deepEqual(decodePacket("1"), { type: "close" });
  assert.deepEqual(decodePacket("2"), { type: "ping" });
  assert.deepEqual(decodePacket("2probe"), { type: "ping", data: "probe" });
  assert.deepEqual(decodePacket("3probe"), { type: "pong", data: "probe" });
  assert.deepEqual(decodePacket("4hello"), { type: "message", data: "hello" });
  assert.deepEqual(decodePacket("4€😀"), { type: "message", data: "€😀" });
  assert.deepEqual(decodePacket("5"), { type: "upgrade" });
  assert.deepEqual(decodePacket("6"), { type: "noop" });
  assert.deepEqual(decodePacket("bAQIDBA=="), { type: "message", data: BYTES_1234 });
  assert.deepEqual(decodePacket("b"), { type: "message", data: new Uint8Array(0) });
});

Deno.test("decodePacket: binary frames and binaryType", () => {
  const backing = new Uint8Array([9, 1, 2, 3, 4, 9]);
  const view = backing.subarray(1, 5);
  const asU8 = decodePacket(view) as EnginePacket;
  assert.equal(asU8.type, "message");
  assert.equal(asU8.data, view, "a Uint8Array frame is handed out as is");

  const asAb = decodePacket(view, "arraybuffer") as EnginePacket;
  assert.ok(asAb.data instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(asAb.data)), [1, 2, 3, 4]);

  const ab = BYTES_1234.slice().buffer;
  assert.equal((decodePacket(ab, "arraybuffer") as EnginePacket).data, ab);
  const fromAb = (decodePacket(ab) as EnginePacket).data;
  assert.ok(fromAb instanceof Uint8Array);
  assert.deepEqual(Array.from(fromAb), [1, 2, 3, 4]);

  const b64 = decodePacket("bAQIDBA==", "arraybuffer") as EnginePacket;
  assert.ok(b64.data instanceof ArrayBuffer);
  assert.equal(b64.data.byteLength, 4);
  assert.deepEqual(Array.from(new Uint8Array(b64.data)), [1, 2, 3, 4]);
  assert.deepEqual(decodePacket(new Uint8Array(0)), { type: "message", data: new Uint8Array(0) });
});

Deno.test("decodePacket: refusals", () => {
  assert.equal(asError(decodePacket("")).code, "invalid packet type");
  assert.equal(asError(decodePacket("7")).code, "invalid packet type");
  assert.equal(asError(decodePacket("x4hello")).code, "invalid packet type");
  assert.equal(asError(decodePacket("/")).code, "invalid packet type");
  assert.equal(asError(decodePacket(" 4")).code, "invalid packet type");
  assert.equal(asError(decodePacket("B")).code, "invalid packet type");
  assert.equal(asError(decodePacket("bAQ*D")).code, "invalid base64");
  assert.equal(asError(decodePacket("bA")).code, "invalid base64");
  assert.equal(asError(decodePacket("bAQIDBA=")).code, "invalid base64");
  assert.equal(asError(decodePacket("bAQ==AQ==")).code, "invalid base64");
  assert.equal(asError(decodePacket("b€")).code, "invalid base64");
  assert.equal(asError(decodePacket(42 as unknown as string)).code, "invalid data");
  assert.equal(asError(decodePacket(null as unknown as string)).code, "invalid data");
});

Deno.test("encodePayload / decodePayload: wire examples", () => {
  const packets: EnginePacket[] = [
    { type: "message", data: "hello" },
    { type: "message", data: "€" },
    { type: "message", data: BYTES_1234 },
  ];
  const payload = "4hello\x1e4€\x1ebAQIDBA==";
  assert.equal(encodePayload(packets), payload);
  assert.deepEqual(decodePayload(payload), packets);
  assert.equal(encodePayload([]), "");
  assert.equal(encodePayload([{ type: "ping" }]), "2");
  assert.deepEqual(decodePayload("2"), [{ type: "ping" }]);
  assert.deepEqual(decodePayload("6\x1e6"), [{ type: "noop" }, { type: "noop" }]);
  assert.deepEqual(decodePayload("1"), [{ type: "close" }]);
  const ab = (decodePayload("bAQIDBA==", { binaryType: "arraybuffer" }) as EnginePacket[])[0].data;
  assert.ok(ab instanceof ArrayBuffer);
  assert.deepEqual(Array.from(new Uint8Array(ab)), [1, 2, 3, 4]);
});

Deno.test("decodePayload: a bad element refuses the whole payload", () => {
  assert.equal(asError(decodePayload("")).code, "invalid packet type");
  assert.equal(asError(decodePayload("4a\x1e")).code, "invalid packet type");
  assert.equal(asError(decodePayload("\x1e4a")).code, "invalid packet type");
  assert.equal(asError(decodePayload("4a\x1e\x1e4b")).code, "invalid packet type");
  assert.equal(asError(decodePayload("4a\x1e9")).code, "invalid packet type");
  assert.equal(asError(decodePayload("4a\x1eb!!")).code, "invalid base64");
  assert.equal(asError(decodePayload(7 as unknown as string)).code, "invalid data");
});

Deno.test("decodePayload: maxPackets", () => {
  assert.equal(asError(decodePayload("4a\x1e4b\x1e4c", { maxPackets: 2 })).code, "too large");
  assert.equal((decodePayload("4a\x1e4b", { maxPackets: 2 }) as EnginePacket[]).length, 2);
  assert.equal(asError(decodePayload("4a", { maxPackets: 0 })).code, "too large");
  // The limit is hit before the rest of a huge payload is looked at.
  const huge = "4a\x1e".repeat(100_000) + "4a";
  assert.equal(asError(decodePayload(huge, { maxPackets: 16 })).code, "too large");
});

// --- Properties --------------------------------------------------------------------------------

Deno.test("property: packets round-trip", () => {
  fc.assert(
    fc.property(packet, fc.boolean(), fc.constantFrom<BinaryType>("uint8array", "arraybuffer"), (
      p,
      supportsBinary,
      binaryType,
    ) => {
      const decoded = decodePacket(encodePacket(p, supportsBinary), binaryType);
      assert.ok(!isDecodeError(decoded));
      if (decoded.data !== undefined && typeof decoded.data !== "string") {
        assert.ok(
          binaryType === "arraybuffer"
            ? decoded.data instanceof ArrayBuffer
            : decoded.data instanceof Uint8Array,
        );
      }
      assert.deepEqual(norm(decoded), wireForm(p));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: payloads round-trip", () => {
  fc.assert(
    fc.property(fc.array(payloadPacket, { minLength: 1, maxLength: 8 }), (packets) => {
      const decoded = decodePayload(encodePayload(packets));
      assert.ok(!isDecodeError(decoded));
      assert.deepEqual(decoded.map(norm), packets.map(wireForm));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: encodePacket output is identical to engine.io-parser@5", () => {
  fc.assert(
    fc.property(packet, fc.boolean(), (p, supportsBinary) => {
      const ours = encodePacket(p, supportsBinary);
      const theirs = officialEncodePacket(p, supportsBinary);
      if (typeof ours === "string") assert.equal(ours, theirs);
      else assert.deepEqual(Array.from(ours), Array.from(theirs as Uint8Array));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("property: encodePayload output is identical to engine.io-parser@5", () => {
  fc.assert(
    fc.property(fc.array(payloadPacket, { minLength: 1, maxLength: 8 }), (packets) => {
      assert.equal(encodePayload(packets), officialEncodePayload(packets));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: each side decodes the other's output alike", () => {
  fc.assert(
    fc.property(fc.array(payloadPacket, { minLength: 1, maxLength: 8 }), (packets) => {
      const theirsPayload = officialEncodePayload(packets);
      const ours = decodePayload(theirsPayload);
      assert.ok(!isDecodeError(ours));
      assert.deepEqual(ours.map(norm), ep.decodePayload(theirsPayload).map(norm));
      assert.deepEqual(ep.decodePayload(encodePayload(packets)).map(norm), ours.map(norm));
    }),
    { numRuns: 1000 },
  );
  fc.assert(
    fc.property(packet, fc.boolean(), (p, supportsBinary) => {
      const ours = encodePacket(p, supportsBinary);
      const theirs = officialEncodePacket(p, supportsBinary);
      assert.deepEqual(norm(decodePacket(theirs)), norm(ep.decodePacket(ours)));
      assert.deepEqual(norm(ep.decodePacket(ours)), wireForm(p));
    }),
    { numRuns: 2000 },
  );
});

/** Texts made of protocol characters, valid base64 and junk, to exercise every branch. */
const wireish = fc.string({
  unit: fc.constantFrom(
    "0",
    "1",
    "2",
    "4",
    "6",
    "7",
    "b",
    "A",
    "Q",
    "=",
    "/",
    "+",
    "-",
    " ",
    "\x1e",
    "€",
    "\ud800",
    "x",
  ),
  maxLength: 40,
});

Deno.test("fuzz: decoders never throw; whatever they accept the official parser reads alike", () => {
  fc.assert(
    fc.property(fc.oneof(wireish, fc.string({ unit: "binary" })), (input) => {
      const packet = decodePacket(input);
      const theirsPacket = ep.decodePacket(input);
      if (!isDecodeError(packet)) assert.deepEqual(norm(packet), norm(theirsPacket));
      else if (packet.code === "invalid packet type") assert.equal(theirsPacket.type, "error");

      const packets = decodePayload(input, { maxPackets: 64 });
      if (!isDecodeError(packets)) {
        assert.deepEqual(packets.map(norm), ep.decodePayload(input).map(norm));
      }
      decodePayload(input, { binaryType: "arraybuffer" });
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepEqual(norm(decodePacket(bytes)), { type: "message", data: Array.from(bytes) });
      assert.ok(!isDecodeError(decodePacket(bytes.buffer, "arraybuffer")));
    }),
    { numRuns: 500 },
  );
});

Deno.test("official oddity: its arraybuffer view decoding leaks the whole buffer, ours does not", () => {
  const backing = Buffer.from([9, 1, 2, 3, 4, 9]);
  const view = new Uint8Array(backing.buffer, backing.byteOffset + 1, 4);
  const theirs = ep.decodePacket(view, "arraybuffer").data as ArrayBuffer;
  assert.ok(theirs.byteLength >= 6);
  const ours = (decodePacket(view, "arraybuffer") as EnginePacket).data as ArrayBuffer;
  assert.equal(ours.byteLength, 4);
});
