import assert from "node:assert/strict";
import vm from "node:vm";
import fc from "fast-check";
import * as sp from "socket.io-parser";
import * as msgpack from "socket.io-msgpack-parser";
import {
  Decoder,
  type DecoderOptions,
  Encoder,
  type Packet,
  PacketType,
  type Parser,
  protocol,
  RESERVED_EVENTS,
} from "../parser/socket.ts";
import { DecodeError, type DecodeErrorCode } from "../parser/errors.ts";
import { RESERVED_EVENT_NAMES } from "./helpers/reserved.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

type Chunk = string | Uint8Array | ArrayBuffer;

/** Feeds chunks to a fresh (or given) decoder; returns decoded packets and the first error. */
function decodeAll(
  chunks: readonly Chunk[],
  decoder: Decoder = new Decoder(),
): { packets: Packet[]; error: DecodeError | undefined } {
  const packets: Packet[] = [];
  const listener = (p: Packet) => packets.push(p);
  decoder.on("decoded", listener);
  let error: DecodeError | undefined;
  for (const chunk of chunks) {
    const result = decoder.add(chunk);
    if (result !== undefined && error === undefined) error = result;
  }
  decoder.off("decoded", listener);
  return { packets, error };
}

function decodeOne(...chunks: Chunk[]): Packet {
  const { packets, error } = decodeAll(chunks);
  assert.equal(error, undefined, error?.message);
  assert.equal(packets.length, 1);
  return packets[0];
}

/** Asserts that the chunks are refused with `code`, and that the decoder works afterwards. */
function assertRefused(
  chunks: readonly Chunk[],
  code: DecodeErrorCode,
  opts?: DecoderOptions,
): void {
  const decoder = new Decoder(opts);
  const { packets, error } = decodeAll(chunks, decoder);
  assert.ok(error instanceof DecodeError, `expected ${code} for ${JSON.stringify(chunks)}`);
  assert.equal(error.code, code, error.message);
  assert.deepEqual(packets, []);
  assertUsable(decoder);
}

function assertUsable(decoder: Decoder): void {
  const after = decodeAll(['2["ok",1]'], decoder);
  assert.equal(after.error, undefined, after.error?.message);
  assert.deepEqual(after.packets, [{ type: 2, nsp: "/", data: ["ok", 1] }]);
}

function bytesOf(value: ArrayBuffer | ArrayBufferView): number[] {
  return value instanceof ArrayBuffer
    ? [...new Uint8Array(value)]
    : [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
}

/** Replaces binary values with `{ bin: bytes }` so packets compare by content. */
function normalize(value: unknown): unknown {
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return { bin: bytesOf(value) };
  if (Array.isArray(value)) return value.map(normalize);
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = normalize(v);
    return out;
  }
  return value;
}

/** What a packet looks like once decoded: binary types become plain, absent fields stay absent. */
function expectedDecoded(packet: Packet): unknown {
  const type = packet.type === 5 ? 2 : packet.type === 6 ? 3 : packet.type;
  const out: Record<string, unknown> = { type, nsp: packet.nsp || "/" };
  if (packet.id !== undefined) out.id = packet.id;
  if (packet.data !== undefined) out.data = normalize(packet.data);
  return out;
}

function chunksOf(encoded: readonly unknown[]): Chunk[] {
  return encoded.map((c) => {
    if (typeof c === "string" || c instanceof ArrayBuffer || c instanceof Uint8Array) return c;
    if (ArrayBuffer.isView(c)) return new Uint8Array(c.buffer, c.byteOffset, c.byteLength);
    throw new Error(`unexpected chunk ${String(c)}`);
  });
}

function officialDecode(chunks: readonly unknown[]): unknown[] {
  // Generated packets may carry more than the default 10 attachments: limits are tested apart.
  const decoder = new sp.Decoder({ maxAttachments: 1000 });
  const out: unknown[] = [];
  decoder.on("decoded", (p: unknown) => out.push(p));
  for (const c of chunks) decoder.add(c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Wire examples (socket.io-protocol v5), without the engine's "4" prefix

const WIRE: Array<[string, Packet]> = [
  ["0", { type: 0, nsp: "/" }],
  ["0/admin,", { type: 0, nsp: "/admin" }],
  ['0{"token":"123"}', { type: 0, nsp: "/", data: { token: "123" } }],
  ['0/admin,{"token":"123"}', { type: 0, nsp: "/admin", data: { token: "123" } }],
  ["1/admin,", { type: 1, nsp: "/admin" }],
  ["1", { type: 1, nsp: "/" }],
  ['2["hello"]', { type: 2, nsp: "/", data: ["hello"] }],
  ['2["hey","Jude"]', { type: 2, nsp: "/", data: ["hey", "Jude"] }],
  ['2/admin,1["hey"]', { type: 2, nsp: "/admin", id: 1, data: ["hey"] }],
  ['212["bar"]', { type: 2, nsp: "/", id: 12, data: ["bar"] }],
  ['3/admin,1["hi"]', { type: 3, nsp: "/admin", id: 1, data: ["hi"] }],
  ["30[]", { type: 3, nsp: "/", id: 0, data: [] }],
  ['4{"message":"Not authorized"}', { type: 4, nsp: "/", data: { message: "Not authorized" } }],
  ['4/admin,"Not authorized"', { type: 4, nsp: "/admin", data: "Not authorized" }],
];

Deno.test("protocol is 5 and PacketType matches the official numbering", () => {
  assert.equal(protocol, 5);
  assert.deepEqual(PacketType, {
    CONNECT: 0,
    DISCONNECT: 1,
    EVENT: 2,
    ACK: 3,
    CONNECT_ERROR: 4,
    BINARY_EVENT: 5,
    BINARY_ACK: 6,
  });
});

Deno.test("wire examples encode byte for byte, as the official encoder does", () => {
  const encoder = new Encoder();
  const official = new sp.Encoder();
  for (const [text, packet] of WIRE) {
    assert.deepEqual(encoder.encode(packet), [text]);
    assert.deepEqual(official.encode(packet as sp.Packet), [text]);
  }
});

Deno.test("wire examples decode to the same packets as the official decoder", () => {
  for (const [text, packet] of WIRE) {
    assert.deepEqual(decodeOne(text), packet);
    assert.deepEqual(officialDecode([text]), [packet]);
  }
});

Deno.test("binary event: 51-[...placeholder] plus one attachment frame", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const encoded = new Encoder().encode({ type: 2, nsp: "/", data: ["hello", bytes] });
  assert.deepEqual(encoded, ['51-["hello",{"_placeholder":true,"num":0}]', bytes]);
  const decoder = new Decoder();
  const { packets, error } = decodeAll(['51-["hello",{"_placeholder":true,"num":0}]'], decoder);
  assert.equal(error, undefined);
  assert.deepEqual(packets, []); // waits for the attachment
  const done = decodeAll([bytes], decoder);
  assert.deepEqual(done.packets, [{ type: 2, nsp: "/", data: ["hello", bytes] }]);
  assert.equal(done.packets[0].data && (done.packets[0].data as unknown[])[1], bytes);
});

Deno.test("binary ack: 61-/admin,1[placeholder] plus one attachment frame", () => {
  const bytes = new Uint8Array([9]).buffer;
  const encoded = new Encoder().encode({ type: 3, nsp: "/admin", id: 1, data: [bytes] });
  assert.equal(encoded[0], '61-/admin,1[{"_placeholder":true,"num":0}]');
  assert.deepEqual(bytesOf(encoded[1] as Uint8Array), [9]);
  const packet = decodeOne('61-/admin,1[{"_placeholder":true,"num":0}]', bytes);
  assert.deepEqual(packet, { type: 3, nsp: "/admin", id: 1, data: [bytes] });
});

Deno.test("several attachments are placed by number, in any order in the JSON", () => {
  const a = new Uint8Array([1]), b = new Uint8Array([2]);
  const packet = decodeOne(
    '52-["x",{"b":{"_placeholder":true,"num":1},"a":[{"_placeholder":true,"num":0}]}]',
    a,
    b,
  );
  assert.deepEqual(packet.data, ["x", { b, a: [a] }]);
});

Deno.test("views encode only their own bytes; BINARY_* inputs are treated as EVENT/ACK", () => {
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7]);
  const view = new Uint16Array(backing.buffer, 2, 2);
  const [text, attachment] = new Encoder().encode({ type: 5, nsp: "/", data: ["v", view] });
  assert.equal(text, '51-["v",{"_placeholder":true,"num":0}]');
  assert.deepEqual(bytesOf(attachment as Uint8Array), [2, 3, 4, 5]);
  assert.deepEqual(new Encoder().encode({ type: 6, nsp: "/", id: 3, data: [1] }), ["33[1]"]);
});

Deno.test("ack ids: 0 and 2^31-1 are accepted, larger ones refused", () => {
  assert.deepEqual(decodeOne("30[]"), { type: 3, nsp: "/", id: 0, data: [] });
  assert.deepEqual(decodeOne('22147483647["a"]'), {
    type: 2,
    nsp: "/",
    id: 2147483647,
    data: ["a"],
  });
  assert.deepEqual(new Encoder().encode({ type: 3, nsp: "/", id: 2147483647, data: [] }), [
    "32147483647[]",
  ]);
  assertRefused(["32147483648[]"], "invalid ack id");
  assertRefused(['2123456789012345678901234567890["a"]'], "invalid ack id");
});

Deno.test("encoder mirrors the official handling of null, undefined and empty values", () => {
  const encoder = new Encoder();
  const official = new sp.Encoder();
  const packets: Packet[] = [
    { type: 3, nsp: "/", id: 1, data: [undefined, null] },
    { type: 2, nsp: "", data: ["a", { u: undefined, n: null, f: () => 1 }] },
    { type: 0, nsp: "/x", data: null },
    { type: 0, nsp: "/x", data: undefined },
    { type: 2, nsp: "/", data: ["d", new Date(0), { toJSON: () => "j" }] },
    { type: 2, nsp: "/", data: ["b", new Date(0), new Uint8Array(1), [0, "", false]] },
    { type: 4, nsp: "/", data: "boom" },
  ];
  for (const packet of packets) {
    assert.deepEqual(encoder.encode(packet), official.encode(packet as sp.Packet));
  }
});

Deno.test("encoder uses the replacer, and decoder the reviver, like the official ones", () => {
  const replacer = (_k: string, v: unknown) => typeof v === "bigint" ? `${v}n` : v;
  const packet = { type: 2 as const, nsp: "/", data: ["big", 12n] };
  const encoded = new Encoder(replacer).encode(packet);
  assert.deepEqual(encoded, new sp.Encoder(replacer).encode(packet as sp.Packet));
  assert.deepEqual(encoded, ['2["big","12n"]']);
  const reviver = (_k: string, v: unknown) =>
    typeof v === "string" && v.endsWith("n") ? BigInt(v.slice(0, -1)) : v;
  const { packets } = decodeAll(encoded, new Decoder(reviver));
  assert.deepEqual(packets, [{ type: 2, nsp: "/", data: ["big", 12n] }]);
  const viaOptions = decodeAll(encoded, new Decoder({ reviver }));
  assert.deepEqual(viaOptions.packets, packets);
});

Deno.test("encode throws a clear Error (not a stack overflow) on 10,000-deep event data", () => {
  let deep: unknown = "leaf";
  for (let i = 0; i < 10_000; i++) deep = [deep];
  const encoder = new Encoder();
  assert.throws(() => encoder.encode({ type: 2, nsp: "/", data: ["deep", deep] }), (e) => {
    assert.ok(e instanceof Error && !(e instanceof RangeError));
    assert.match(e.message, /nested more than 1000 levels/);
    return true;
  });
  // CONNECT data is not searched for binary: JSON.stringify copes with it.
  assert.equal(typeof encoder.encode({ type: 0, nsp: "/", data: { deep } })[0], "string");
});

Deno.test("number event names are accepted, as officially", () => {
  assert.deepEqual(decodeOne('2[1,"a"]'), { type: 2, nsp: "/", data: [1, "a"] });
});

Deno.test("a placeholder-looking object in a non-binary packet stays plain data", () => {
  const decoder = new Decoder();
  const { packets } = decodeAll(['2["a",{"_placeholder":true,"num":0}]'], decoder);
  assert.deepEqual(packets, [{ type: 2, nsp: "/", data: ["a", { _placeholder: true, num: 0 }] }]);
  // ...and no attachment is expected afterwards.
  assert.equal(decoder.add(new Uint8Array(1))?.code, "unexpected binary");
});

Deno.test("destroy drops a partial binary packet", () => {
  const decoder = new Decoder();
  const seen: Packet[] = [];
  decoder.on("decoded", (p) => seen.push(p));
  assert.equal(
    decoder.add('52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'),
    undefined,
  );
  assert.equal(decoder.add(new Uint8Array(1)), undefined);
  decoder.destroy();
  assert.equal(decoder.add(new Uint8Array(1))?.code, "unexpected binary");
  assertUsable(decoder);
  assert.equal(seen.length, 1);
});

Deno.test("exceptions from decoded listeners propagate, and the decoder stays consistent", () => {
  const decoder = new Decoder();
  decoder.on("decoded", () => {
    throw new Error("listener");
  });
  assert.throws(() => decoder.add('2["a"]'), /listener/);
  assert.throws(
    () => decoder.add('51-["a",{"_placeholder":true,"num":0}]') ?? decoder.add(new Uint8Array(1)),
    /listener/,
  );
  decoder.off("decoded");
  assertUsable(decoder);
});

// ---------------------------------------------------------------------------------------------
// Hostile input: one test each, with the refusal code, then the decoder still works

Deno.test("hostile: unknown or missing packet type", () => {
  for (const text of ["", "7", "9[]", "a", " 0", "-1", '\t2["a"]']) {
    assertRefused([text], "invalid packet type");
  }
});

Deno.test("a namespace without its comma ends with the packet, as the official decoder reads it", () => {
  // The official protocol test suite connects and disconnects with 40/random and 41/custom.
  assert.deepEqual(decodeOne("0/random"), { type: 0, nsp: "/random" });
  assert.deepEqual(decodeOne("1/custom"), { type: 1, nsp: "/custom" });
  for (
    const text of [
      "0/admin",
      "1/admin",
      "0/",
      "1/a/b.c-d",
      '0/admin{"token":1}', // all of it is the name, as officially
      "0/admin12",
    ]
  ) {
    const packet = decodeOne(text);
    assert.deepEqual(officialDecode([text]), [packet], text);
    assert.equal(packet.nsp, text.slice(1));
  }
  // Officially accepted too, as packets without data; here an event, an ack or an error needs
  // its data (the stricter rules above), so these stay refused.
  for (
    const [text, code] of [
      ['2/admin["a"]', "invalid data"],
      ["2/admin", "invalid data"],
      ["3/admin1[]", "invalid ack id"],
      ["4/admin", "invalid data"],
      ["51-/admin", "invalid data"],
      ["61-/admin", "invalid ack id"],
    ] as const
  ) {
    assert.equal(
      officialDecode([text]).length,
      text.startsWith("5") || text.startsWith("6") ? 0 : 1,
    );
    assertRefused([text], code);
  }
});

Deno.test("hostile: invalid JSON", () => {
  for (const text of ['2["a"', "2[undefined]", "0{'a':1}", '2["a"]x', '2x["a"]', "0{,}"]) {
    assertRefused([text], "invalid payload");
  }
});

Deno.test("hostile: data of the wrong shape for its type", () => {
  for (
    const text of [
      "0[]",
      '0"token"',
      "0null",
      "1{}",
      '1["a"]',
      "2",
      "2[]",
      '2{"a":1}',
      '2"a"',
      "21",
      '31"a"',
      "31",
      "4",
      "4[]",
      "41",
      "4null",
    ]
  ) {
    assertRefused([text], "invalid data");
  }
});

Deno.test("hostile: ACK without id", () => {
  assertRefused(['3["a"]'], "invalid ack id");
  assertRefused(['61-[{"_placeholder":true,"num":0}]'], "invalid ack id");
});

Deno.test("hostile: event name not a string (or number), or reserved", () => {
  for (
    const name of ["null", "{}", "[]", "true", '{"_placeholder":true,"num":0}', '{"toString":0}']
  ) {
    assertRefused([`2[${name},1]`], "invalid event name");
  }
  for (const name of RESERVED_EVENT_NAMES) {
    assertRefused([`2["${name}"]`], "invalid event name");
    assertRefused([`2/admin,5["${name}",1]`], "invalid event name");
  }
  // Reserved names are fine as ack arguments.
  assert.deepEqual(decodeOne('31["connect"]'), { type: 3, nsp: "/", id: 1, data: ["connect"] });
});

Deno.test("hostile: attachment counts missing, zero, malformed or too many", () => {
  const ph = '{"_placeholder":true,"num":0}';
  for (
    const text of [
      `5-["a",${ph}]`,
      `50-["a",${ph}]`,
      `51["a",${ph}]`,
      `5a-["a",${ph}]`,
      `5 1-["a",${ph}]`,
      `51.5-["a",${ph}]`,
      `511-["a",${ph}]`,
      `5999999999999999999999-["a",${ph}]`,
      "5",
      "51",
    ]
  ) {
    assertRefused([text], "invalid attachments");
  }
  assertRefused([`53-["a",${ph}]`], "invalid attachments", { maxAttachments: 2 });
});

Deno.test("hostile: attachment count not matching the placeholders", () => {
  assertRefused(['52-["a",{"_placeholder":true,"num":0}]'], "invalid attachments");
  assertRefused(['51-["a",1]'], "invalid attachments");
});

Deno.test("hostile: placeholder num out of range, not an integer, or duplicated", () => {
  for (const num of ["1", "-1", "0.5", '"0"', "null", "1e400"]) {
    assertRefused([`51-["a",{"_placeholder":true,"num":${num}}]`], "invalid placeholder");
  }
  assertRefused(
    ['52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":0}]'],
    "invalid placeholder",
  );
});

Deno.test("hostile: binary frame with no packet pending", () => {
  assertRefused([new Uint8Array([1, 2])], "unexpected binary");
  assertRefused([new ArrayBuffer(2)], "unexpected binary");
  const decoder = new Decoder();
  assert.equal(decoder.add('2["a"]'), undefined);
  assert.equal(decoder.add(new Uint8Array(1))?.code, "unexpected binary");
  assertUsable(decoder);
});

Deno.test("hostile: text frame while attachments are pending", () => {
  const decoder = new Decoder();
  assert.equal(decoder.add('51-["a",{"_placeholder":true,"num":0}]'), undefined);
  const error = decoder.add('2["b"]');
  assert.ok(error instanceof DecodeError);
  assert.equal(error.code, "invalid attachments");
  // The partial packet is dropped: a late attachment is now unexpected.
  assert.equal(decoder.add(new Uint8Array(1))?.code, "unexpected binary");
  assertUsable(decoder);
});

Deno.test("hostile: frames that are neither text nor bytes", () => {
  for (const chunk of [42, null, undefined, {}, { base64: true, data: "AA==" }, new Blob(["x"])]) {
    const decoder = new Decoder();
    assert.equal(decoder.add(chunk as unknown as string)?.code, "invalid payload");
    assertUsable(decoder);
  }
});

Deno.test("hostile: the two ways to a prototype are refused anywhere", () => {
  const pad = "p".repeat(60); // the long-text path: JSON.parse and a walk
  const cases = [
    '2["a",{"__proto__":{"polluted":1}}]',
    '2["a",[[{"x":{"constructor":{"prototype":{"polluted":1}}}}]]]',
    '2["a",{"\\u005f_proto__":{"polluted":1}}]',
    '2["a",{"\\u0063onstructor":{"prototype":1}}]',
    '2["a",{"constructor":{"constructor":{"prototype":{}}}}]',
    '2["a",{"constructor":{"a":1},"constructor":{"prototype":null}}]', // the last one counts
    '2["a",{"constructor":{"__proto__":1}}]',
    '31[{"__proto__":null}]',
    '4{"__proto__":"x"}',
    '51-["a",{"__proto__":{"polluted":1},"b":{"_placeholder":true,"num":0}}]',
    '51-["a",{"constructor":{"prototype":{"_placeholder":true,"num":0}}}]',
  ];
  for (const text of cases) {
    assertRefused([text], "forbidden key");
    assertRefused([text.replace('["a",', `["a","${pad}",`)], "forbidden key");
    // ...also when a reviver is used.
    assertRefused([text], "forbidden key", { reviver: (_k, v) => v });
  }
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("keys named constructor or prototype are data, as officially", () => {
  const pad = "p".repeat(60);
  const cases = [
    '2["chat",{"constructor":"Ford"}]',
    '2["a",{"prototype":1,"constructor":2,"toString":3,"hasOwnProperty":4,"valueOf":5}]',
    '2["a",{"constructor":{"name":"Ford","country":"US"}}]',
    '2["a",{"constructor":[{"prototype":1}]}]', // an array is not a constructor object
    '2["a",{"prototype":{"constructor":1}}]',
    '2["a",{"constructor":{"prototype":1},"constructor":"x"}]', // the last one counts
    '2["__proto__","constructor",{"k":"prototype"}]',
    '0{"constructor":"x","prototype":{}}',
    '4{"constructor":"x"}',
    '51-["a",{"constructor":{"_placeholder":true,"num":0}}]',
  ];
  for (const text of cases) {
    for (const t of [text, text.replace(/^(\d+-?)\[("[^"]*"),/, `$1[$2,"${pad}",`)]) {
      const { packets, error } = decodeAll(
        t.startsWith("51-") ? [t, new Uint8Array([1])] : [t],
      );
      assert.equal(error, undefined, `${t}: ${error?.message}`);
      if (!t.startsWith("51-")) assert.deepEqual(packets[0].data, JSON.parse(t.slice(1)), t);
    }
  }
});

Deno.test("hostile: short and long texts (two JSON paths) are checked alike", () => {
  const pad = "p".repeat(60);
  const cases: Array<[string, DecodeErrorCode]> = [
    ['2["a",{"__proto__":{"x":1}}]', "forbidden key"],
    ['2["a",{"\\u005f_proto__":1}]', "forbidden key"],
    ['2["a",[{"constructor":{"prototype":1}}]]', "forbidden key"],
    ['2["a",[{"constructor":1,"prototype":2}]]', "ok" as DecodeErrorCode],
    ['2["a",[[[[1]]]]]', "too deep"],
    ['2["a",[1,]]', "invalid payload"],
    ['2["a","\u0001"]', "invalid payload"],
    ['2["a",01]', "invalid payload"],
    ['2["a",{"_placeholder":true,"num":0}]', "ok" as DecodeErrorCode],
  ];
  for (const [short, code] of cases) {
    const long = short.replace('2["a",', `2["a","${pad}",`);
    assert.ok(short.length - 1 <= 48 && long.length - 1 > 48);
    for (const text of [short, long]) {
      const decoder = new Decoder({ maxDepth: 4 });
      const error = decoder.add(text);
      assert.equal(error?.code ?? "ok", code, text);
      assertUsable(decoder);
    }
  }
});

Deno.test("hostile: 10,000-deep data is refused without a stack overflow", () => {
  const deep = "[".repeat(10_000) + "]".repeat(10_000);
  const deepObject = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
  assertRefused([`2["a",${deep}]`], "too deep");
  assertRefused([`0${deepObject}`], "too deep");
  assertRefused([`31${deep}`], "too deep");
  assertRefused([`51-["a",${deep},{"_placeholder":true,"num":0}]`], "too deep");
  assertRefused([`2["a",${deep}]`], "too deep", { reviver: (_k, v) => v });
  assertRefused([`2["a",${deep}]`], "too deep", { maxDepth: 5000 }); // iterative walk
  // Brackets inside strings do not count.
  assert.equal(decodeOne(`2["a","${"[".repeat(10_000)}"]`).type, 2);
});

Deno.test("hostile: maxDepth is exact (the outer array is level 1)", () => {
  assert.equal(decodeAll(['2["a",[[1]]]'], new Decoder({ maxDepth: 3 })).error, undefined);
  assertRefused(['2["a",[[[1]]]]'], "too deep", { maxDepth: 3 });
  assertRefused(['2["a",{"b":{"c":{}}}]'], "too deep", { maxDepth: 3 });
  assertRefused(['51-["a",[[{"_placeholder":true,"num":0}]]]'], "too deep", { maxDepth: 2 });
  const deflt = "[".repeat(99) + "]".repeat(99);
  assert.equal(decodeOne(`2["a",${deflt}]`).type, 2);
  assertRefused([`2["a",[${deflt}]]`], "too deep");
});

Deno.test("hostile: oversized text frame", () => {
  assertRefused([`2["a","${"x".repeat(100)}"]`], "too large", { maxStringLength: 50 });
  assertRefused([`2["a","${"x".repeat(1_000_000)}"]`], "too large");
  assert.equal(decodeOne(`2["a","${"x".repeat(999_000)}"]`).type, 2);
});

// ---------------------------------------------------------------------------------------------
// Property tests against the official socket.io-parser 4.2.7

const RESERVED = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

// Keys named like Object.prototype's own are data too (no "prototype" under them here, and no
// "__proto__": the ways to a prototype are refused, tested on their own below).
const keyArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 6 }).filter((k) => k !== "__proto__"),
  fc.constantFrom("constructor", "toString", "hasOwnProperty", "valueOf"),
);
const jsonLeaf = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0)),
  fc.string({ unit: "binary", maxLength: 10 }),
);
const binaryArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.uint8Array({ maxLength: 8 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 12 }), fc.nat(), fc.nat()).map(
    ([a, x, y]) => {
      const start = x % a.length;
      return a.subarray(start, start + (y % (a.length - start + 1)));
    },
  ),
  fc.uint8Array({ maxLength: 8 }).map((a) => a.slice().buffer),
  fc.uint8Array({ minLength: 4, maxLength: 12 }).map((a) => new Uint16Array(a.buffer, 2, 1)),
  fc.uint8Array({ minLength: 3, maxLength: 12 }).map((a) => new DataView(a.buffer, 1, 2)),
);
const { value: jsonValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonLeaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(keyArb, tie("value"), { maxKeys: 4 }),
  ),
}));
const { value: valueWithBinary } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    jsonLeaf,
    binaryArb,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(keyArb, tie("value"), { maxKeys: 4 }),
  ),
}));
const nspArb = fc.oneof(
  fc.constant("/"),
  fc.string({ unit: "binary", maxLength: 8 }).filter((s) => !s.includes(",")).map((s) => "/" + s),
);
const idArb = fc.integer({ min: 0, max: 2147483647 });
const eventName = fc.oneof(
  fc.string({ unit: "binary", maxLength: 8 }).filter((s) => !RESERVED.has(s)),
  fc.integer({ min: 0, max: 1000 }),
);
const objectArb = fc.dictionary(keyArb, jsonValue, { maxKeys: 4 });

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record({
    type: fc.constant(PacketType.CONNECT),
    nsp: nspArb,
    data: fc.option(objectArb, { nil: undefined }),
  }, { requiredKeys: ["type", "nsp"] }),
  fc.record({ type: fc.constant(PacketType.DISCONNECT), nsp: nspArb }),
  fc.record({
    type: fc.constant(PacketType.CONNECT_ERROR),
    nsp: nspArb,
    data: fc.oneof(fc.string({ unit: "binary" }), objectArb),
  }),
  fc.record({
    type: fc.constant(PacketType.EVENT),
    nsp: nspArb,
    id: idArb,
    data: fc.tuple(eventName, fc.array(valueWithBinary, { maxLength: 4 })).map((
      [name, args],
    ) => [name, ...args]),
  }, { requiredKeys: ["type", "nsp", "data"] }),
  fc.record({
    type: fc.constant(PacketType.ACK),
    nsp: nspArb,
    id: idArb,
    data: fc.array(valueWithBinary, { maxLength: 4 }),
  }),
);

function encodedForm(chunks: readonly unknown[]): unknown[] {
  return chunks.map((c) => typeof c === "string" ? c : bytesOf(c as ArrayBuffer));
}

Deno.test("property: our encoder's output is identical to the official encoder's", () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const ours = new Encoder().encode(packet);
      const official = new sp.Encoder().encode(packet as sp.Packet);
      assert.deepEqual(encodedForm(ours), encodedForm(official));
      for (const c of ours.slice(1)) assert.ok(c instanceof Uint8Array);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: encode then decode round-trips every packet", () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const { packets, error } = decodeAll(
        new Encoder().encode(packet) as Chunk[],
        new Decoder({ maxAttachments: 1000 }),
      );
      assert.equal(error, undefined, error?.message);
      assert.deepEqual(packets.map(normalize), [expectedDecoded(packet)]);
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: each side decodes the other's output to the same packet", () => {
  fc.assert(
    fc.property(packetArb, (packet) => {
      const expected = [expectedDecoded(packet)];
      // official encoder -> our decoder
      const official = new sp.Encoder().encode(packet as sp.Packet);
      const ours = decodeAll(chunksOf(official), new Decoder({ maxAttachments: 1000 }));
      assert.equal(ours.error, undefined, ours.error?.message);
      assert.deepEqual(ours.packets.map(normalize), expected);
      // our encoder -> official decoder
      assert.deepEqual(officialDecode(new Encoder().encode(packet)).map(normalize), expected);
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: rich values (Dates, toJSON, undefined, functions) encode as officially", () => {
  const rich = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      jsonLeaf,
      binaryArb,
      fc.constant(undefined),
      fc.constant(() => 1),
      fc.date({ noInvalidDate: true }),
      fc.constant(new Date(Number.NaN)),
      tie("value").map((v) => ({ toJSON: () => v })),
      fc.array(tie("value"), { maxLength: 3 }),
      fc.dictionary(keyArb, tie("value"), { maxKeys: 3 }),
    ),
  })).value;
  fc.assert(
    fc.property(
      fc.constantFrom(PacketType.EVENT, PacketType.ACK),
      nspArb,
      fc.option(idArb, { nil: undefined }),
      fc.array(rich, { maxLength: 4 }),
      (type, nsp, id, data) => {
        const packet: Packet = id === undefined ? { type, nsp, data } : { type, nsp, id, data };
        assert.deepEqual(
          encodedForm(new Encoder().encode(packet)),
          encodedForm(new sp.Encoder().encode(packet as sp.Packet)),
        );
      },
    ),
    { numRuns: 500 },
  );
});

// ---------------------------------------------------------------------------------------------
// Decoded data and prototypes

/** JSON text written out by hand, so that any key (also "__proto__") is text like another. */
type JsonTree = null | boolean | number | string | { items: JsonTree[] } | {
  entries: [string, JsonTree][];
};

const treeKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "toString", "polluted", "name"),
  fc.string({ maxLength: 3 }),
);
const { tree: jsonTree } = fc.letrec<{ tree: JsonTree }>((tie) => ({
  tree: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 4 })),
    fc.array(tie("tree"), { maxLength: 3 }).map((items) => ({ items })),
    fc.array(fc.tuple(treeKey, tie("tree")), { maxLength: 3 }).map((entries) => ({ entries })),
    // A constructor key, holding a prototype key or not (rare from random keys).
    fc.tuple(tie("tree"), fc.boolean()).map(([v, proto]): JsonTree => ({
      entries: [["constructor", proto ? { entries: [["prototype", v]] } : v]],
    })),
  ),
}));

function jsonText(tree: JsonTree): string {
  if (tree === null || typeof tree !== "object") return JSON.stringify(tree);
  if ("items" in tree) return `[${tree.items.map(jsonText).join(",")}]`;
  return `{${tree.entries.map(([k, v]) => `${JSON.stringify(k)}:${jsonText(v)}`).join(",")}}`;
}

/** Whether JSON.parse's result holds one of the two ways to a prototype the decoder refuses. */
function leadsToPrototype(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some(leadsToPrototype);
  for (const [key, v] of Object.entries(value)) {
    if (key === "__proto__") return true;
    if (
      key === "constructor" && typeof v === "object" && v !== null && Object.hasOwn(v, "prototype")
    ) {
      return true;
    }
    if (leadsToPrototype(v)) return true;
  }
  return false;
}

/**
 * Whether the text names a way to a prototype, also one that a later duplicate key replaces
 * (`{"a":{"__proto__":1},"a":null}`), which JSON.parse's result no longer shows.
 */
function textLeadsToPrototype(tree: JsonTree): boolean {
  if (tree === null || typeof tree !== "object") return false;
  if ("items" in tree) return tree.items.some(textLeadsToPrototype);
  return tree.entries.some(([key, v]) =>
    key === "__proto__" ||
    (key === "constructor" && v !== null && typeof v === "object" && "entries" in v &&
      v.entries.some(([k]) => k === "prototype")) ||
    textLeadsToPrototype(v)
  );
}

/**
 * Copies `data` in a fresh realm the ways apps do (spread, `Object.assign`, `structuredClone`,
 * and the naive deep merge of vulnerable libraries, which walks into whatever object or
 * function the target already holds) and returns the names of that realm's prototypes that
 * changed. A realm of its own: Node's, with the `__proto__` accessor that Deno's lacks, and no
 * harm done to this one.
 */
function prototypesChangedByCopies(data: unknown): string[] {
  if (typeof data !== "object" || data === null) return [];
  const realm = vm.createContext({ data, cloned: structuredClone(data) });
  // An array of this realm, for deepEqual.
  return Array.from<string>(vm.runInContext(
    `
    function merge(target, source) {
      for (const key of Object.keys(source)) {
        const v = source[key];
        const t = target[key];
        if (v !== null && typeof v === "object" && t !== null &&
          (typeof t === "object" || typeof t === "function")) merge(t, v);
        else target[key] = v;
      }
      return target;
    }
    const protos = {
      Object: Object.prototype, Array: Array.prototype, Function: Function.prototype,
    };
    // Each own property's descriptor, read without calling getters.
    const own = (p) => Reflect.ownKeys(p).flatMap((k) => {
      const d = Object.getOwnPropertyDescriptor(p, k);
      return [k, d.value, d.get, d.set];
    });
    const before = Object.entries(protos).map(([n, p]) => [n, own(p)]);
    const copies = [
      { ...data }, Object.assign({}, data), merge({}, data), merge({}, cloned), merge([], data),
    ];
    const injected = copies.some((c) =>
      !Array.isArray(c) && Object.getPrototypeOf(c) !== Object.prototype
    );
    const changed = before.filter(([n, values]) => {
      const now = own(protos[n]);
      return now.length !== values.length || now.some((v, i) => v !== values[i]);
    }).map(([n]) => n);
    injected ? [...changed, "a copy's prototype"] : changed;
    `,
    realm,
  ));
}

Deno.test("what is refused would change a prototype when copied; what is accepted would not", () => {
  assert.deepEqual(prototypesChangedByCopies(JSON.parse('{"__proto__":{"polluted":1}}')), [
    "Object",
    "Array",
    "a copy's prototype",
  ]);
  assert.deepEqual(
    prototypesChangedByCopies(JSON.parse('{"constructor":{"prototype":{"polluted":1}}}')),
    ["Object", "Array"], // {}.constructor.prototype, [].constructor.prototype
  );
  for (
    const text of [
      '{"constructor":"Ford"}',
      '{"constructor":{"name":"Ford"},"prototype":{"polluted":1}}',
      '{"toString":{"prototype":{"polluted":1}}}',
    ]
  ) {
    assert.deepEqual(prototypesChangedByCopies(JSON.parse(text)), [], text);
  }
});

Deno.test("property: decoded data is JSON.parse's, unless it leads to a prototype", () => {
  // The seed that found a duplicate key replacing the object that held "__proto__".
  const dup = decodeAll(['2["ev",{"":{"__proto__":false},"":null}]']);
  assert.ok(
    dup.error?.code === "forbidden key" ||
      (dup.error === undefined && JSON.stringify(dup.packets[0].data) === '["ev",{"":null}]'),
  );
  const pad = "p".repeat(60); // past 48 characters: the JSON.parse path
  fc.assert(
    fc.property(jsonTree, fc.boolean(), (tree, long) => {
      const json = jsonText(tree);
      const frame = long ? `2["ev","${pad}",${json}]` : `2["ev",${json}]`;
      const { packets, error } = decodeAll([frame]);
      const expected = JSON.parse(frame.slice(1));
      if (leadsToPrototype(expected)) {
        assert.equal(error?.code, "forbidden key", frame);
        return;
      }
      // A way to a prototype that a duplicate key replaced: refusing it is as safe as not.
      if (error?.code === "forbidden key" && textLeadsToPrototype(tree)) return;
      assert.equal(error, undefined, `${frame}: ${error?.message}`);
      assert.deepEqual(packets[0].data, expected);
      const data = packets[0].data as unknown[];
      assert.deepEqual(prototypesChangedByCopies(data[data.length - 1]), [], frame);
      assert.deepEqual(prototypesChangedByCopies(data), [], frame);
    }),
    { numRuns: 500 },
  );
  assert.equal(({} as { polluted?: unknown }).polluted, undefined);
});

// ---------------------------------------------------------------------------------------------
// Fuzz: never throws, never hangs

const wireAlphabet = fc.constantFrom(
  ...'0123456789-/,[]{}":\\u_placeholdrnumtf. 5612e+aé\u2028\ud800'.split(""),
);

Deno.test("fuzz: random text and byte frames never make add() throw", () => {
  const chunk = fc.oneof(
    fc.string({ unit: "binary", maxLength: 40 }),
    fc.string({ unit: wireAlphabet, maxLength: 40 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 8 }).map((a) => a.slice().buffer),
    fc.constantFrom<Chunk>(
      '51-["a",{"_placeholder":true,"num":0}]',
      '52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]',
      '61-1[{"_placeholder":true,"num":0}]',
    ),
  );
  fc.assert(
    fc.property(fc.array(chunk, { maxLength: 8 }), (chunks) => {
      const decoder = new Decoder();
      let count = 0;
      decoder.on("decoded", () => count++);
      for (const c of chunks) {
        const result = decoder.add(c);
        assert.ok(result === undefined || result instanceof DecodeError);
      }
      assert.ok(count <= chunks.length);
    }),
    { numRuns: 3000 },
  );
});

Deno.test("fuzz: mutated valid frames never make add() throw, and accepted ones are sane", () => {
  fc.assert(
    fc.property(
      packetArb,
      fc.array(fc.tuple(fc.nat(), fc.string({ unit: wireAlphabet, maxLength: 3 })), {
        maxLength: 3,
      }),
      (packet, edits) => {
        const chunks = new Encoder().encode(packet) as Chunk[];
        let text = chunks[0] as string;
        for (const [at, insert] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + insert + text.slice(i + 1);
        }
        const decoder = new Decoder();
        const seen: Packet[] = [];
        decoder.on("decoded", (p) => seen.push(p));
        for (const c of [text, ...chunks.slice(1)]) {
          const result = decoder.add(c);
          assert.ok(result === undefined || result instanceof DecodeError);
        }
        for (const p of seen) {
          assert.ok(p.type >= 0 && p.type <= 4);
          assert.ok(p.nsp.startsWith("/"));
          assert.ok(p.id === undefined || (Number.isSafeInteger(p.id) && p.id <= 2147483647));
        }
      },
    ),
    { numRuns: 2000 },
  );
});

// ---------------------------------------------------------------------------------------------
// Custom parsers through the `Parser` interface

/** The calling code the server and client use for any parser: encode, decode, collect. */
function roundTrip(parser: Parser, packet: Packet): Packet[] {
  const decoded: Packet[] = [];
  const decoder = new parser.Decoder();
  decoder.on("decoded", (p) => decoded.push(p));
  for (const chunk of new parser.Encoder().encode(packet)) decoder.add(chunk);
  decoder.destroy();
  return decoded;
}

Deno.test("Parser: ours, the official parser and socket.io-msgpack-parser plug in alike", () => {
  const ours: Parser = { Encoder, Decoder };
  const official: Parser = { Encoder: sp.Encoder, Decoder: sp.Decoder };
  const viaMsgpack: Parser = {
    // Its index.d.ts declares encode() as returning ArrayBuffer; it returns [Buffer].
    Encoder: msgpack.Encoder as unknown as Parser["Encoder"],
    Decoder: msgpack.Decoder,
  };
  const packet: Packet = { type: 2, nsp: "/chat", id: 7, data: ["msg", { text: "hi", n: 1 }] };
  for (const parser of [ours, official, viaMsgpack]) {
    assert.deepEqual(roundTrip(parser, packet), [packet]);
  }
  const bytes = new Uint8Array([1, 2, 3]);
  const binary: Packet = { type: 2, nsp: "/", data: ["file", bytes] };
  assert.deepEqual(roundTrip(ours, binary).map(normalize), [normalize(binary)]);
  assert.deepEqual(roundTrip(viaMsgpack, binary).map(normalize), [normalize(binary)]);
});

Deno.test("Parser: custom decoders may throw, so callers must catch", () => {
  const decoder = new msgpack.Decoder();
  assert.throws(() => decoder.add(new Uint8Array([0xc1])));
});

Deno.test("every name of RESERVED_EVENTS is refused as an event name, and only those", () => {
  for (const name of RESERVED_EVENTS) {
    assertRefused([`2[${JSON.stringify(name)}]`], "invalid event name");
  }
  for (const name of ["connected", "Connect", "message", "error", "disconnect "]) {
    const { error } = decodeAll([`2[${JSON.stringify(name)}]`]);
    assert.equal(error, undefined, name);
  }
});

Deno.test("decode errors start with npm socket.io-parser's message for the same input", async () => {
  const official = await import("socket.io-parser");
  const cases: [string | Uint8Array, RegExp][] = [
    ["5woooot", /^Illegal attachments/],
    ["5-[]", /^Illegal attachments/],
    ["9", /^unknown packet type/],
    [new Uint8Array([1]), /^got binary data when not reconstructing a packet/],
  ];
  for (const [input, words] of cases) {
    const ours = new Decoder().add(input);
    assert.ok(ours instanceof DecodeError, String(input));
    assert.match(ours.message, words);
    // The same words as the official decoder throws for this input.
    assert.throws(() => new official.Decoder().add(input), (e: Error) => words.test(e.message));
  }
});
