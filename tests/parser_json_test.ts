import assert from "node:assert/strict";
import fc from "fast-check";
import { internShort, parseJson } from "../parser/json.ts";
import { checkData } from "../parser/binary.ts";
import { DecodeError } from "../parser/errors.ts";

/** parseJson must accept what JSON.parse accepts, return the same value, refuse the rest. */
function assertLikeJsonParse(text: string, maxDepth = 100): void {
  const ours = parseJson("xy" + text, 2, maxDepth);
  let expected: unknown;
  try {
    expected = JSON.parse(text);
  } catch {
    assert.ok(ours instanceof DecodeError, `accepted invalid JSON ${JSON.stringify(text)}`);
    return;
  }
  const unsafe = checkData(expected, maxDepth);
  if (unsafe !== undefined) {
    assert.ok(ours instanceof DecodeError, `accepted unsafe ${JSON.stringify(text)}`);
    assert.ok(ours.code === "forbidden key" || ours.code === "too deep", ours.message);
    return;
  }
  if (ours instanceof DecodeError) assert.fail(`refused ${JSON.stringify(text)}: ${ours.message}`);
  assert.deepStrictEqual(ours, expected);
}

Deno.test("parseJson: literals, numbers, strings and containers", () => {
  const valid = [
    "0",
    "-0",
    "1",
    "-12",
    "123456789012345",
    "1234567890123456789",
    "-1234567890123456",
    "1.5",
    "-0.0",
    "1e3",
    "1E-3",
    "2e+2",
    "1e400",
    "-1e400",
    "5e-324",
    "0.1",
    "9007199254740993",
    "true",
    "false",
    "null",
    '""',
    '"a"',
    '"\\"\\\\\\/\\b\\f\\n\\r\\t"',
    '"\\u0041\\u00e9\\uD83D\\uDE00\\ud800"',
    '"caf\u00e9 \u2028 \ud83d\ude00 \ud800"',
    "[]",
    "{}",
    ' [ 1 , "a" , { "b" : [ ] } ] ',
    '\t\n\r{"a":1,"a":2}',
    '{"1":1,"b":2,"0":0}',
    '{"toString":1,"hasOwnProperty":2,"__defineGetter__":3}',
    '{"a_long_key_of_many_chars":1,"a_long_key_of_many_chars":2}',
  ];
  for (const text of valid) assertLikeJsonParse(text);
});

Deno.test("parseJson: refuses exactly what JSON.parse refuses", () => {
  const invalid = [
    "",
    " ",
    "01",
    "-",
    "+1",
    ".5",
    "1.",
    "1.e3",
    "1e",
    "1e+",
    "0x10",
    "Infinity",
    "NaN",
    "tru",
    "nul",
    "True",
    "[1,]",
    "[,1]",
    "[1 2]",
    '{"a":1,}',
    '{"a" 1}',
    "{a:1}",
    "{'a':1}",
    '{"a":}',
    '"abc',
    '"a\nb"',
    '"a\u0000b"',
    '"\\x41"',
    '"\\u12"',
    '"\\u12G4"',
    '"\\',
    "[1]]",
    "[",
    "{",
    "1 2",
    "\u00a01",
    "\f1",
  ];
  for (const text of invalid) {
    const ours = parseJson(text, 0, 100);
    assert.ok(ours instanceof DecodeError, JSON.stringify(text));
    assert.equal(ours.code, "invalid payload");
    assert.throws(() => JSON.parse(text));
  }
});

Deno.test("parseJson: the ways to a prototype are refused, also escaped; depth", () => {
  for (
    const text of [
      '{"__proto__":1}',
      '[{"a":{"constructor":{"prototype":1}}}]',
      '{"\\u005f_proto__":1}',
      '{"constructor":{"\\u0070rototype":1}}',
      '{"constructor":1,"constructor":{"prototype":1}}',
    ]
  ) {
    const ours = parseJson(text, 0, 100);
    assert.ok(ours instanceof DecodeError && ours.code === "forbidden key", text);
  }
  for (
    const text of [
      '{"constructor":"Ford"}',
      '{"prototype":{}}',
      '{"\\u0070rototype":1}',
      '{"constructor":{"prototype":1},"constructor":1}',
      '[{"a":{"constructor":{"name":1}}}]',
    ]
  ) {
    assert.deepEqual(parseJson(text, 0, 100), JSON.parse(text), text);
  }
  assert.deepEqual(parseJson("[[1]]", 0, 2), [[1]]);
  assert.equal((parseJson("[[[1]]]", 0, 2) as DecodeError).code, "too deep");
  assert.equal((parseJson('{"a":{"b":{}}}', 0, 2) as DecodeError).code, "too deep");
  const deep = "[".repeat(10_000) + "]".repeat(10_000);
  assert.equal((parseJson(deep, 0, 100) as DecodeError).code, "too deep");
  // A refused text does not disturb the next parse (shared state is reset).
  assert.deepEqual(parseJson('{"a":[1,"b"]}', 0, 100), { a: [1, "b"] });
});

Deno.test("parseJson: the key cache never confuses keys", () => {
  // Same length and colliding prefixes, in alternation.
  for (let i = 0; i < 50; i++) {
    assert.deepEqual(parseJson('{"ab":1,"ba":2,"abc":3}', 0, 10), { ab: 1, ba: 2, abc: 3 });
    assert.deepEqual(parseJson('{"ba":1,"ab":2}', 0, 10), { ba: 1, ab: 2 });
  }
  const keys = Array.from({ length: 600 }, (_, i) => `k${i}`);
  const text = JSON.stringify(Object.fromEntries(keys.map((k, i) => [k, i])));
  for (let round = 0; round < 2; round++) {
    assert.deepEqual(parseJson(text, 0, 10), JSON.parse(text));
  }
});

Deno.test("parseJson: __proto__ seen as a value or interned is still refused as a key", () => {
  for (const name of ["__proto__", "constructor", "prototype"]) {
    assert.deepEqual(parseJson(`["${name}"]`, 0, 10), [name]);
    assert.equal(internShort(name), name);
    const ours = parseJson(`{"${name}":{"prototype":1}}`, 0, 10);
    const refused = ours instanceof DecodeError && ours.code === "forbidden key";
    assert.equal(refused, name !== "prototype", name);
  }
  // Interned strings come back equal, whatever collides in the cache.
  for (let i = 0; i < 600; i++) assert.equal(internShort(`e${i}`), `e${i}`);
  assert.deepEqual(parseJson('["e1",{"e1":"e2"}]', 0, 10), ["e1", { e1: "e2" }]);
});

Deno.test("property: parseJson equals JSON.parse on stringified values", () => {
  const key = fc.string({ unit: "binary", maxLength: 14 });
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 4 }).chain((v) =>
        fc.constant(v).map((x) => x === undefined ? null : x)
      ),
      fc.dictionary(key, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
      fc.constantFrom(0, 1, 2),
      (value, object, indent) => {
        assertLikeJsonParse(JSON.stringify(value, null, indent));
        assertLikeJsonParse(JSON.stringify(object, null, indent));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("property: parseJson equals JSON.parse on random near-JSON text", () => {
  const alphabet = fc.constantFrom(
    ...'[]{}",:0123456789-+.eE tfrualsn\\u/bA\n\t\u0001\u00e9_proto'.split(""),
  );
  fc.assert(
    fc.property(fc.string({ unit: alphabet, maxLength: 24 }), fc.nat(4), (text, depth) => {
      assertLikeJsonParse(text, depth + 1);
    }),
    { numRuns: 5000 },
  );
  fc.assert(
    fc.property(
      fc.jsonValue({ maxDepth: 3 }),
      fc.nat(),
      fc.string({ unit: alphabet, maxLength: 2 }),
      (value, at, insert) => {
        const text = JSON.stringify(value) ?? "null";
        const i = at % (text.length + 1);
        assertLikeJsonParse(text.slice(0, i) + insert + text.slice(i + 1));
      },
    ),
    { numRuns: 3000 },
  );
});
