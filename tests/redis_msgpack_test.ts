// The Redis adapters' msgpack codec against notepack.io@3.0.1, the codec of the official Redis
// adapter and emitter: the same bytes for what the adapters send, and the value the official
// side meant when decoding its bytes (binary as Uint8Array).
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import notepack from "notepack.io";
import { decode, encode } from "../adapter/redis/msgpack.ts";

const bytesOf = (b: Uint8Array) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const notepackEncode = (v: unknown) => bytesOf(notepack.encode(v));

// notepack's decoded value as the official side means it: binary as a plain Uint8Array.
function meant(value: unknown): unknown {
  if (value instanceof Uint8Array) return new Uint8Array(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (Array.isArray(value)) return value.map(meant);
  if (value !== null && typeof value === "object" && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, meant(v)]));
  }
  return value;
}

// Any UTF-16 code unit, lone surrogates included.
const codeUnit = fc.nat(0xffff).map((c) => String.fromCharCode(c));
const anyString = fc.oneof(
  fc.string({ unit: codeUnit, maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 300 }),
);
// Keys over 32 code units that are not well-formed are a documented difference.
const key = fc.oneof(fc.string({ unit: codeUnit, maxLength: 32 }), fc.string({ maxLength: 50 }));

const integers = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }).map(Number).filter((n) => n < 2 ** 64),
  fc.constantFrom(
    0x7f,
    0x80,
    0xff,
    0x100,
    0xffff,
    0x10000,
    2 ** 32 - 1,
    2 ** 32,
    -0x20,
    -0x21,
    -0x80,
    -0x81,
    -0x8000,
    -0x8001,
    -(2 ** 31),
    -(2 ** 31) - 1,
    2 ** 53,
    2 ** 63,
    -(2 ** 63),
    2 ** 64 - 2048,
  ),
);

const binary = fc.uint8Array({ maxLength: 300 }).chain((u8) =>
  fc.constantFrom<unknown>(
    u8,
    Buffer.from(u8),
    u8.slice().buffer,
    new Uint8Array([9, ...u8, 9]).subarray(1, 1 + u8.length),
    new Int8Array(u8.slice().buffer),
    new Uint8ClampedArray(u8.slice().buffer),
  )
);

class WithToJson {
  constructor(readonly value: unknown) {}
  toJSON(): unknown {
    return this.value;
  }
}

const leaf = fc.oneof(
  fc.constant(null),
  fc.constant(undefined),
  fc.boolean(),
  integers,
  // Integers from 2^64 (and below -2^63) are a documented difference.
  fc.double().filter((n) => !Number.isInteger(n) || (n >= -(2 ** 63) && n < 2 ** 64)),
  anyString,
  binary,
  fc.date(),
);

const { value: anyValue } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 20 }),
    fc.dictionary(key, tie("value"), { maxKeys: 20 }),
    tie("value").map((v) => new WithToJson(v)),
    fc.dictionary(key, fc.constant(() => {}), { maxKeys: 3 }),
  ),
}));

// What the classic adapter publishes for a broadcast.
const broadcastMessage = fc.tuple(
  fc.string(),
  fc.record({
    type: fc.constantFrom(2, 5),
    data: fc.array(anyValue, { maxLength: 4 }),
    nsp: fc.string(),
    id: fc.option(fc.nat(), { nil: undefined }),
  }),
  fc.record({
    rooms: fc.array(fc.string()),
    except: fc.array(fc.string()),
    flags: fc.record({ volatile: fc.boolean(), compress: fc.boolean(), timeout: fc.nat() }, {
      requiredKeys: [],
    }),
  }),
);

Deno.test("msgpack: encodes the bytes notepack.io encodes", () => {
  fc.assert(
    fc.property(fc.oneof(anyValue, broadcastMessage), (value) => {
      assert.deepStrictEqual(encode(value), notepackEncode(value));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("msgpack: decodes notepack.io's bytes into what the official side meant", () => {
  const noProtoKeys = (v: unknown): boolean => {
    const bytes = notepackEncode(v);
    return !new TextDecoder().decode(bytes).includes("__proto__");
  };
  fc.assert(
    fc.property(fc.oneof(anyValue, broadcastMessage).filter(noProtoKeys), (value) => {
      const bytes = notepackEncode(value);
      const decoded = decode(Buffer.from(bytes));
      assert.deepStrictEqual(decoded, meant(notepack.decode(Buffer.from(bytes))));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("msgpack: binary decodes as plain Uint8Array, from a Buffer or not", () => {
  const bytes = notepackEncode([Buffer.from([1, 2, 3]), { b: new Uint8Array([4]) }]);
  for (const input of [bytes, Buffer.from(bytes)]) {
    const [a, { b }] = decode(input) as [Uint8Array, { b: Uint8Array }];
    assert.equal(a.constructor, Uint8Array);
    assert.deepStrictEqual(a, new Uint8Array([1, 2, 3]));
    assert.equal(b.constructor, Uint8Array);
    assert.deepStrictEqual(b, new Uint8Array([4]));
  }
});

Deno.test("msgpack: notepack's legacy extension 0 and unknown extensions decode as notepack's", () => {
  const ms = Date.UTC(2020, 1, 2, 3, 4, 5, 678);
  const date = new Uint8Array([0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
  new DataView(date.buffer).setUint32(2, Math.floor(ms / 2 ** 32));
  new DataView(date.buffer).setUint32(6, ms >>> 0);
  const cases: Uint8Array[] = [
    new Uint8Array([0x92, 0xd4, 0x00, 0x00, 0x01]), // [undefined, 1]
    date,
    new Uint8Array([0xc7, 0x03, 0x00, 1, 2, 3]), // ArrayBuffer
    new Uint8Array([0xc7, 0x01, 0x00, 7]), // ArrayBuffer of one byte, not undefined
    new Uint8Array([0xc8, 0x00, 0x08, 0x00, 1, 2, 3, 4, 5, 6, 7, 8]), // ArrayBuffer of 8, no Date
    new Uint8Array([0xd6, 0x05, 1, 2, 3, 4]), // [5, bytes]
    new Uint8Array([0xd5, 0x00, 1, 2]), // [0, bytes]
    new Uint8Array([0xd5, 0xff, 1, 2]), // a timestamp of 2 bytes: [-1, bytes]
    new Uint8Array([0xc7, 0x02, 0x80, 1, 2]), // [-128, bytes]
  ];
  for (const bytes of cases) {
    assert.deepStrictEqual(decode(bytes), meant(notepack.decode(Buffer.from(bytes))), `${bytes}`);
  }
  assert.deepStrictEqual(decode(date), new Date(ms));
  assert.deepStrictEqual(decode(cases[0]), [undefined, 1]);
});

Deno.test("msgpack: where notepack loses data, the value survives and notepack still decodes it", () => {
  // notepack wraps integers modulo 2^64 and truncates wider typed arrays to bytes.
  for (const n of [2 ** 64, 1e20, -(2 ** 63) - 4096, -1e300]) {
    assert.equal(notepack.decode(Buffer.from(encode(n))), n);
    assert.equal(decode(encode(n)), n);
  }
  const floats = new Float32Array([1.5, -2]);
  const bytes = new Uint8Array(floats.buffer);
  assert.deepStrictEqual(meant(notepack.decode(Buffer.from(encode(floats)))), bytes);
  assert.deepStrictEqual(decode(encode(new DataView(floats.buffer))), bytes);
});

Deno.test("msgpack: bigint, symbol and functions without toJSON are refused, as by notepack", () => {
  for (const value of [1n, Symbol("s"), () => {}, [1n], { a: Symbol("s") }]) {
    assert.throws(() => notepack.encode(value));
    assert.throws(() => encode(value), TypeError);
  }
  // With toJSON, both encode its result.
  const big = Object.assign(Object(5n), { toJSON: () => "5" });
  assert.deepStrictEqual(encode([big]), notepackEncode([big]));
});

Deno.test("msgpack: a cycle or too deep a value is a RangeError, not a crash", () => {
  const cycle: unknown[] = [];
  cycle.push(cycle);
  assert.throws(() => encode(cycle), RangeError);
  let deep: unknown = 1;
  for (let i = 0; i < 2000; i++) deep = { a: deep };
  assert.throws(() => encode(deep), RangeError);
  for (let i = 0; i < 990; i++) deep = [i];
  assert.deepStrictEqual(decode(encode(deep)), deep);
});

Deno.test("msgpack: malformed input is an error; a __proto__ key is refused", () => {
  for (const bytes of [[0xc1], [0x92, 0x01], [0x01, 0x02], [0xdb, 0xff, 0xff, 0xff, 0xff]]) {
    assert.throws(() => decode(new Uint8Array(bytes)));
  }
  const proto = notepackEncode(JSON.parse('{"__proto__": {"polluted": 1}}'));
  assert.throws(() => decode(proto), /__proto__/);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

// The msgpack dependency must not reach users who never import a Redis adapter.
Deno.test("msgpack: no entry but ./redis loads @msgpack/msgpack", async () => {
  const entries = [
    "mod.ts",
    "adapter/mod.ts",
    "client/mod.ts",
    "parser/mod.ts",
    "server/engine/mod.ts",
    "node/mod.ts",
    "workers/mod.ts",
  ];
  const root = new URL("../", import.meta.url);
  for (const entry of entries) {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr));
    const info = JSON.parse(new TextDecoder().decode(stdout));
    const npm = info.modules.map((m: { specifier: string }) => m.specifier)
      .filter((s: string) => s.startsWith("npm:"));
    assert.deepStrictEqual(
      npm.filter((s: string) => /msgpack\/msgpack|notepack/.test(s)),
      [],
      entry,
    );
  }
  const { stdout } = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "adapter/redis/mod.ts"],
    cwd: root,
    stdout: "piped",
  }).output();
  // The check above would see the dependency if an entry reached it.
  const info = JSON.parse(new TextDecoder().decode(stdout));
  assert.ok(
    info.modules.some((m: { specifier: string }) =>
      m.specifier.startsWith("npm:/@msgpack/msgpack@")
    ),
  );
});
