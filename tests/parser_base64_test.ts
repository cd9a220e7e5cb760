import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import fc from "fast-check";
import {
  decodeBase64,
  decodeBase64Portable,
  encodeBase64,
  encodeBase64Portable,
} from "../parser/base64.ts";
import { type DecodeError, isDecodeError } from "../parser/errors.ts";

/** Bytes of every size class (the portable encoder switches strategy at 192), often as views. */
const bytes = fc
  .tuple(
    fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.uint8Array({ maxLength: 700 })),
    fc.nat(5),
    fc.nat(5),
  )
  .map(([data, before, after]) => {
    const backing = new Uint8Array(before + data.length + after).fill(0xaa);
    backing.set(data, before);
    return backing.subarray(before, before + data.length);
  });

function result(value: Uint8Array | DecodeError): string {
  return isDecodeError(value) ? `error:${value.code}` : Array.from(value).join(",");
}

Deno.test("base64: known vectors", () => {
  const vectors: [number[], string][] = [
    [[], ""],
    [[0], "AA=="],
    [[1, 2], "AQI="],
    [[1, 2, 3], "AQID"],
    [[1, 2, 3, 4], "AQIDBA=="],
    [[0xff, 0xfe, 0xfd], "//79"],
    [[0xfb, 0xff], "+/8="],
  ];
  for (const [data, b64] of vectors) {
    assert.equal(encodeBase64(new Uint8Array(data)), b64);
    assert.equal(encodeBase64Portable(new Uint8Array(data)), b64);
    assert.deepEqual(Array.from(decodeBase64(b64) as Uint8Array), data);
    assert.deepEqual(Array.from(decodeBase64Portable(b64) as Uint8Array), data);
    assert.deepEqual(Array.from(decodeBase64Portable("b" + b64, 1) as Uint8Array), data);
  }
});

Deno.test("base64: loose rules, both decoders", () => {
  const accepted: [string, number[]][] = [
    ["AQIDBA", [1, 2, 3, 4]],
    ["AQI", [1, 2]],
    [" AQ ID\nBA==\t", [1, 2, 3, 4]],
    ["AQ= =", [1]],
    ["AR==", [1]], // non-zero spare bits are ignored
  ];
  for (const [text, data] of accepted) {
    assert.deepEqual(Array.from(decodeBase64(text) as Uint8Array), data, text);
    assert.deepEqual(Array.from(decodeBase64Portable(text) as Uint8Array), data, text);
  }
  for (const text of ["A", "AQIDB", "AQ=", "AQI==", "A===", "=", "AQ==AQ==", "AQ==x", "-_", "A€"]) {
    assert.ok(isDecodeError(decodeBase64(text)), text);
    assert.ok(isDecodeError(decodeBase64Portable(text)), text);
  }
});

Deno.test("base64: decoded arrays own exactly their buffer", () => {
  for (const text of ["AQIDBA==", "AQID", " AQ ID ", "AQ"]) {
    for (const out of [decodeBase64(text), decodeBase64Portable(text)]) {
      assert.ok(!isDecodeError(out));
      assert.equal(out.byteOffset, 0);
      assert.equal(out.buffer.byteLength, out.byteLength);
    }
  }
});

Deno.test("property: encoders agree with Buffer and with each other; decoding round-trips", () => {
  fc.assert(
    fc.property(bytes, (data) => {
      const expected = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString(
        "base64",
      );
      assert.equal(encodeBase64(data), expected);
      assert.equal(encodeBase64Portable(data), expected);
      assert.deepEqual(decodeBase64Portable(expected), data.slice());
      assert.deepEqual(decodeBase64(expected), data.slice());
    }),
    { numRuns: 1000 },
  );
});

Deno.test("fuzz: the portable decoder accepts and refuses exactly like the native one", () => {
  const unit = fc.constantFrom("A", "Q", "/", "+", "w", "=", " ", "\n", "-", "_", "*", "é");
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 24 }), fc.nat(3), (text, start) => {
      assert.equal(result(decodeBase64Portable(text, start)), result(decodeBase64(text, start)));
    }),
    { numRuns: 5000 },
  );
});
