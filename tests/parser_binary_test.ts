import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkData,
  deconstructData,
  deconstructPacket,
  hasBinary,
  isBinary,
  locatePlaceholders,
  reconstructPacket,
} from "../parser/binary.ts";
import { DecodeError } from "../parser/errors.ts";
import type { Packet } from "../parser/socket.ts";

function deepArray(levels: number, leaf: unknown = "leaf"): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

function deepObject(levels: number, leaf: unknown = "leaf"): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
}

Deno.test("isBinary: ArrayBuffer, every view and Blob, nothing else", () => {
  const buffer = new ArrayBuffer(4);
  for (
    const v of [
      buffer,
      new Uint8Array(buffer),
      new Int32Array(1),
      new Float64Array(1),
      new DataView(buffer),
      new Uint8Array(buffer, 1, 2),
      new Blob(["x"]),
      new File(["x"], "x.txt"),
    ]
  ) {
    assert.equal(isBinary(v), true, Object.prototype.toString.call(v));
  }
  for (const v of [null, undefined, 0, "bytes", [1, 2], { byteLength: 1 }, new Date()]) {
    assert.equal(isBinary(v), false, String(v));
  }
});

Deno.test("hasBinary: finds binary in arrays, objects and toJSON results", () => {
  assert.equal(hasBinary(["a", { b: [1, { c: new Uint8Array(1) }] }]), true);
  assert.equal(hasBinary(["a", { b: [1, { c: "x" }] }]), false);
  assert.equal(hasBinary(new ArrayBuffer(1)), true);
  assert.equal(hasBinary({ toJSON: () => ({ x: new Uint8Array(1) }) }), true);
  // A toJSON result's own toJSON is not followed (as in socket.io-parser).
  assert.equal(hasBinary({ toJSON: () => ({ toJSON: () => new Uint8Array(1) }) }), false);
  // Inherited keys are not searched.
  const proto = { hidden: new Uint8Array(1) };
  assert.equal(hasBinary([Object.create(proto)]), false);
  for (const v of [null, undefined, 1, "s", true]) assert.equal(hasBinary(v), false);
});

Deno.test("hasBinary and deconstruct throw a clear Error on 10,000-deep or cyclic data", () => {
  for (const data of [deepArray(10_000), deepObject(10_000)]) {
    for (const run of [() => hasBinary(data), () => deconstructData(data, [], 0)]) {
      assert.throws(run, (e) => {
        assert.ok(e instanceof Error && !(e instanceof RangeError), String(e));
        assert.match(e.message, /nested more than 1000 levels deep/);
        return true;
      });
    }
  }
  const cyclic: unknown[] = [];
  cyclic.push(cyclic);
  assert.throws(() => hasBinary(cyclic), /nested more than 1000 levels deep \(or cyclic\)/);
  // 1000 levels are fine.
  assert.equal(hasBinary(deepArray(999)), false);
});

Deno.test("deconstructPacket: placeholders in order, views as their own bytes", () => {
  const backing = new Uint8Array([0, 1, 2, 3, 4, 5]);
  const view = backing.subarray(2, 4);
  const ints = new Int16Array(backing.buffer, 2, 1);
  const buffer = new Uint8Array([9, 9]).buffer;
  const blob = new Blob(["x"]);
  const input: Packet = {
    type: 2,
    nsp: "/x",
    id: 4,
    data: ["ev", { view, nested: [buffer, ints] }, blob],
  };
  const { packet, buffers } = deconstructPacket(input);
  assert.deepEqual(packet, {
    type: 5,
    nsp: "/x",
    id: 4,
    attachments: 4,
    data: [
      "ev",
      {
        view: { _placeholder: true, num: 0 },
        nested: [{ _placeholder: true, num: 1 }, { _placeholder: true, num: 2 }],
      },
      { _placeholder: true, num: 3 },
    ],
  });
  assert.equal(buffers[0], view); // a Uint8Array is sent as is
  assert.deepEqual([...(buffers[1] as Uint8Array)], [9, 9]);
  assert.deepEqual([...(buffers[2] as Uint8Array)], [2, 3]);
  assert.equal((buffers[2] as Uint8Array).buffer, backing.buffer); // no copy
  assert.equal(buffers[3], blob);
  // The input is left alone.
  assert.equal(((input.data as unknown[])[1] as { view: unknown }).view, view);
  assert.equal(input.type, 2);
  const ack = deconstructPacket({ type: 3, nsp: "/", id: 1, data: [new Uint8Array(1)] });
  assert.equal(ack.packet.type, 6);
});

Deno.test("deconstruct keeps an own __proto__ key as data instead of setting a prototype", () => {
  const data = JSON.parse('[{"__proto__":{"evil":1},"b":1}]');
  data.push(new Uint8Array(1));
  const out = deconstructData(data, [], 0) as Array<Record<string, unknown>>;
  assert.equal(Object.getPrototypeOf(out[0]), Object.prototype);
  assert.deepEqual(Object.keys(out[0]), ["__proto__", "b"]);
  assert.equal(JSON.stringify(out[0]), '{"__proto__":{"evil":1},"b":1}');
});

Deno.test("locatePlaceholders: slots by number, and each refusal", () => {
  const data = ["a", { x: { _placeholder: true, num: 1 } }, [{ _placeholder: true, num: 0 }]];
  const slots = locatePlaceholders(data, 2, 100, true);
  assert.ok(!(slots instanceof DecodeError));
  assert.equal(slots.parents[0], data[2]);
  assert.equal(slots.keys[0], 0);
  assert.equal(slots.parents[1], data[1]);
  assert.equal(slots.keys[1], "x");

  const code = (v: unknown, n: number, depth = 100) => {
    const r = locatePlaceholders(v, n, depth, true);
    return r instanceof DecodeError ? r.code : "ok";
  };
  assert.equal(code(["a", { _placeholder: true, num: 0 }], 0), "ok"); // plain data when n = 0
  assert.equal(code(["a", { _placeholder: true, num: 1 }], 1), "invalid placeholder");
  assert.equal(code(["a", { _placeholder: true, num: 0.5 }], 1), "invalid placeholder");
  assert.equal(code(["a", { _placeholder: true }], 1), "invalid placeholder");
  assert.equal(
    code([{ _placeholder: true, num: 0 }, { _placeholder: true, num: 0 }], 2),
    "invalid placeholder",
  );
  assert.equal(code(["a"], 1), "invalid attachments");
  assert.equal(code("a", 1), "invalid attachments");
  assert.equal(code(JSON.parse('[{"__proto__":1}]'), 0), "forbidden key");
  assert.equal(code([{ constructor: { prototype: 1 } }], 0), "forbidden key");
  assert.equal(code([{ constructor: 1, prototype: { constructor: {} } }], 0), "ok");
  assert.equal(code(deepArray(10_000), 0), "too deep");
  assert.equal(code(deepArray(3, 1), 0, 3), "ok");
  assert.equal(code(deepArray(4, 1), 0, 3), "too deep");
  assert.equal(code([[{ _placeholder: true, num: 0 }]], 1, 2), "ok"); // placeholders aren't levels
  assert.equal(
    locatePlaceholders([{ constructor: { prototype: 1 } }], 0, 100, false) instanceof DecodeError,
    false,
  );
});

Deno.test("checkData: depth and forbidden keys, recursive and iterative alike", () => {
  for (const maxDepth of [10, 5000]) {
    assert.equal(checkData(["a", { b: [1] }], maxDepth), undefined);
    assert.equal(
      checkData(JSON.parse('[{"a":[{"__proto__":{}}]}]'), maxDepth)?.code,
      "forbidden key",
    );
    assert.equal(
      checkData([{ a: { constructor: { prototype: 1 } } }], maxDepth)?.code,
      "forbidden key",
    );
    assert.equal(checkData([{ prototype: 1, constructor: "Ford" }], maxDepth), undefined);
    assert.equal(checkData([{ constructor: { name: "Ford" } }], maxDepth), undefined);
    assert.equal(checkData(deepArray(10_000), maxDepth)?.code, "too deep");
    assert.equal(checkData(deepObject(10_000), maxDepth)?.code, "too deep");
  }
  assert.equal(checkData(deepArray(3, 1), 3), undefined);
  assert.equal(checkData(deepArray(4, 1), 3)?.code, "too deep");
  assert.equal(checkData("text", 1), undefined);
  assert.equal(checkData(null, 1), undefined);
});

Deno.test("reconstructPacket: binary back in place, types back to EVENT / ACK", () => {
  const a = new Uint8Array([1]);
  const packet = reconstructPacket({
    type: 6,
    nsp: "/x",
    id: 3,
    attachments: 1,
    data: [{ f: { _placeholder: true, num: 0 } }],
  }, [a]);
  assert.deepEqual(packet, { type: 3, nsp: "/x", id: 3, data: [{ f: a }] });
  const bad = reconstructPacket({ type: 5, nsp: "/", data: ["e", 1], attachments: 1 }, [a]);
  assert.ok(bad instanceof DecodeError && bad.code === "invalid attachments");
});

Deno.test("property: deconstruct then reconstruct gives the data back", () => {
  const leaf = fc.oneof(
    fc.integer(),
    fc.string(),
    fc.boolean(),
    fc.constant(null),
    fc.uint8Array({ maxLength: 4 }),
  );
  const tree = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.array(tie("v"), { maxLength: 3 }),
      fc.dictionary(
        fc.oneof(fc.string().filter((k) => k !== "__proto__"), fc.constant("constructor")),
        tie("v"),
        { maxKeys: 3 },
      ),
    ),
  })).v;
  fc.assert(
    fc.property(fc.array(tree, { maxLength: 4 }), (data) => {
      const { packet, buffers } = deconstructPacket({ type: 2, nsp: "/", data });
      assert.equal(packet.attachments, buffers.length);
      assert.equal(hasBinary(data), buffers.length > 0);
      const wire = JSON.parse(JSON.stringify(packet.data));
      const back = reconstructPacket({ ...packet, data: wire }, buffers);
      assert.ok(!(back instanceof DecodeError), String(back));
      assert.deepEqual(normalizeBinary(back.data), normalizeBinary(data));
    }),
    { numRuns: 500 },
  );
});

function normalizeBinary(v: unknown): unknown {
  if (v instanceof Uint8Array) return { bin: [...v] };
  if (Array.isArray(v)) return v.map(normalizeBinary);
  if (typeof v === "object" && v !== null) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalizeBinary(x)]));
  }
  return v;
}
