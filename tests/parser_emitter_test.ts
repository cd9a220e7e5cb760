import assert from "node:assert/strict";
import { Emitter } from "../parser/emitter.ts";

type Events = { msg: [text: string, n: number]; ping: [] };

Deno.test("on/emit: listeners run in order with the arguments and this = emitter", () => {
  const e = new Emitter<Events>();
  const calls: unknown[] = [];
  e.on("msg", function (this: unknown, text, n) {
    calls.push(["a", text, n, this === e]);
  });
  e.on("msg", (text) => calls.push(["b", text]));
  assert.equal(e.emit("msg", "hi", 2), true);
  assert.deepEqual(calls, [["a", "hi", 2, true], ["b", "hi"]]);
  assert.equal(e.emit("ping"), false);
  assert.equal(e.listenerCount("msg"), 2);
});

Deno.test("once: called a single time, and removable by the original listener", () => {
  const e = new Emitter<Events>();
  let count = 0;
  const listener = () => count++;
  e.once("ping", listener);
  e.emit("ping");
  e.emit("ping");
  assert.equal(count, 1);
  assert.equal(e.listenerCount("ping"), 0);
  e.once("ping", listener).off("ping", listener);
  e.emit("ping");
  assert.equal(count, 1);
});

Deno.test("off: one listener, all of an event, or everything", () => {
  const e = new Emitter<Events>();
  const a = () => {};
  const b = () => {};
  e.on("ping", a).on("ping", b).on("ping", a).on("msg", a);
  e.off("ping", a);
  assert.equal(e.listenerCount("ping"), 2);
  e.off("ping", () => {}); // unknown listener: no change
  assert.equal(e.listenerCount("ping"), 2);
  e.off("ping");
  assert.equal(e.listenerCount("ping"), 0);
  assert.equal(e.listenerCount("msg"), 1);
  e.off();
  assert.equal(e.listenerCount("msg"), 0);
  e.off("msg", a); // nothing to remove
});

Deno.test("changes during an emit apply from the next emit", () => {
  const e = new Emitter<Events>();
  const calls: string[] = [];
  const second = () => calls.push("second");
  e.on("ping", () => {
    calls.push("first");
    e.off("ping", second);
    e.on("ping", () => calls.push("added"));
  });
  e.on("ping", second);
  e.emit("ping");
  assert.deepEqual(calls, ["first", "second"]);
  calls.length = 0;
  e.emit("ping");
  assert.deepEqual(calls, ["first", "added"]);
});

Deno.test("a throwing listener propagates out of emit", () => {
  const e = new Emitter<Events>();
  e.on("ping", () => {
    throw new Error("boom");
  });
  assert.throws(() => e.emit("ping"), /boom/);
});
