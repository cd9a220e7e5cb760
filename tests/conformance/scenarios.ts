/**
 * The scenarios of the conformance matrix: what a client observes of the app (app.ts), written
 * once against the `socket.io-client` API and run by matrix.ts with each client, over each mode,
 * on each runtime. A scenario uses only its run's namespace (`run.nsp`, `run.nsp + "-<suffix>"`),
 * so that runs never see each other's broadcasts on the shared server.
 *
 * @module
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  type ClientSocket,
  connected,
  type Mode,
  next,
  nextArgs,
  receivedDuring,
  upgraded,
  within,
} from "../helpers/socketio.ts";
import { rawUpgrade } from "../helpers/raw.ts";
import type { Spec } from "./app.ts";
import type { ClientKind, Run } from "./matrix.ts";

/** One scenario. */
export interface Scenario {
  /** What it checks, as test names say it. */
  name: string;
  /** The client side; it fails by throwing. */
  run(run: Run): Promise<void>;
  /**
   * The errors the server reports (logs) on each run, in order; a function when they differ by
   * runtime (a documented difference) or mode.
   */
  reports?: string[] | ((runtime: string, mode: Mode) => string[]);
  /** The modes it runs in, when not all (it chooses its clients' transports itself). */
  modes?: readonly Mode[];
  /** The clients it runs with, when not both (it uses none, or only as a bystander). */
  clients?: readonly ClientKind[];
}

/** What the app's `whoami` answers. */
interface Who {
  id: string;
  nsp: string;
  conn: string;
  transport: string;
  rooms: string[];
  data: unknown;
}

/** What the app's `fetch` answers, per socket. */
interface Fetched {
  id: string;
  rooms: string[];
  data: { name: string | null; score?: number } | null;
}

/** What the app's `disconnect` listener tells the namespace. */
interface Left {
  id: string;
  reason: string;
  rooms: string[];
}

/** Bound of every wait (a safety net, not a timing). */
const BOUND = 10_000;

/** `emitWithAck`, bounded. */
function ask<T = unknown>(c: ClientSocket, ev: string, ...args: unknown[]): Promise<T> {
  return c.timeout(BOUND).emitWithAck(ev, ...args) as Promise<T>;
}

/** The first argument of the next `ev`, bounded. */
function nextOf<T = unknown>(emitter: Parameters<typeof next>[0], ev: string): Promise<T> {
  return within(next<T>(emitter, ev), `"${ev}" event`, BOUND);
}

/** The arguments of the next `ev`, bounded. */
function argsOf<T extends unknown[] = unknown[]>(c: ClientSocket, ev: string): Promise<T> {
  return within(nextArgs<T>(c, ev), `"${ev}" event`, BOUND);
}

/** Emits with a plain callback; resolves with what it was called with, bounded. */
function withCallback(c: ClientSocket, ev: string, ...args: unknown[]): Promise<unknown[]> {
  return within(
    new Promise((resolve) => c.emit(ev, ...args, (...answer: unknown[]) => resolve(answer))),
    `answer to "${ev}"`,
    BOUND,
  );
}

/** The bytes of a binary value as the clients give it (ArrayBuffer, Buffer or a view). */
function bytes(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  }
  throw new assert.AssertionError({ message: `not binary: ${String(value)}`, actual: value });
}

/** Connects `n` clients of `nsp`, all at once. */
function crowd(run: Run, n: number, nsp = run.nsp): Promise<ClientSocket[]> {
  return Promise.all(Array.from({ length: n }, () => run.connect(nsp)));
}

/**
 * Which of `clients` receive `ev` while `act` runs; `act` asks the app for something after which
 * it sends `marker` to the namespace.
 */
const receivers = receivedDuring;

/** `c` asks the app to emit `msg` with `n` through `spec`. */
function emitVia(c: ClientSocket, spec: Spec, n: unknown): () => void {
  return () => c.emit("emit", spec, "msg", n);
}

/** The scenarios, in the order they run. */
export const SCENARIOS: Scenario[] = [
  {
    name: "connect: ids, namespace and transport match on both sides",
    async run(run) {
      const nsps = ["/", run.nsp];
      const clients = await Promise.all(nsps.map((nsp) => run.connect(nsp)));
      for (const [i, c] of clients.entries()) {
        const nsp = nsps[i];
        const me = await ask<Who>(c, "whoami");
        assert.equal(me.id, c.id);
        assert.equal(me.nsp, nsp);
        assert.equal(me.conn, c.io.engine.id);
        assert.equal(me.transport, run.mode === "polling" ? "polling" : "websocket");
        assert.equal(c.io.engine.transport.name, me.transport);
      }
    },
  },
  {
    name: "events with mixed arguments go both ways",
    async run(run) {
      const c = await run.connect();
      const values = [1.5, "deux é ☃ 😀", { trois: { x: [1, 2] } }, null, [], false];
      assert.deepEqual(await withCallback(c, "echo", ...values), values);
      const back = argsOf(c, "mixed");
      c.emit("emit", { from: "socket" }, "mixed", 1, "two", { three: [3] }, null, true);
      assert.deepEqual(await back, [1, "two", { three: [3] }, null, true]);
    },
  },
  {
    name: "many messages arrive in order, both ways",
    async run(run) {
      const c = await run.connect();
      const got: number[] = [];
      c.on("n", (n: number) => got.push(n));
      for (let i = 0; i < 100; i++) c.emit("emit", { from: "socket" }, "n", i);
      // Answered after every emit before it, so after all their packets.
      assert.equal(await ask(c, "echo", "done"), "done");
      assert.deepEqual(got, [...Array(100).keys()]);
    },
  },
  {
    name: "binary arguments go both ways and reach server code as Buffer",
    async run(run) {
      const c = await run.connect();
      assert.deepEqual(
        await ask(
          c,
          "describe",
          new Uint8Array([1, 2, 3]),
          { nested: Buffer.from([4, 5]), list: [new Uint8Array([6]).buffer] },
          "text",
        ),
        ["Buffer 010203", { nested: "Buffer 0405", list: ["Buffer 06"] }, "text"],
      );
      const back = argsOf(c, "bin");
      c.emit(
        "emit",
        { from: "socket" },
        "bin",
        new Uint8Array([7, 8]),
        { deep: { view: new Uint8Array([0, 12, 13, 0]).subarray(1, 3) } },
        new Uint8Array([10, 11]).buffer,
      );
      const [d, e, f] = await back;
      assert.deepEqual(bytes(d), [7, 8]);
      assert.deepEqual(bytes((e as { deep: { view: unknown } }).deep.view), [12, 13]);
      assert.deepEqual(bytes(f), [10, 11]);
      // 60 kB: several WebSocket frames' worth, and base64 over polling.
      const big = new Uint8Array(60_000).map((_, i) => i % 251);
      assert.deepEqual(await ask(c, "describe", big), ["Buffer of 60000"]);
      assert.deepEqual(bytes(await ask(c, "echo", big)), [...big]);
    },
  },
  {
    name: "acks go both ways, with several values and binary",
    async run(run) {
      const c = await run.connect();
      assert.deepEqual(await withCallback(c, "echo", 2, "three", { four: 4 }), [
        2,
        "three",
        { four: 4 },
      ]);
      c.on("question", (q: string, ack: (...a: unknown[]) => void) => {
        ack({ echo: q, bin: new Uint8Array([1]) }, "second");
      });
      assert.deepEqual(await ask(c, "ask", "question", ["why"]), [
        { echo: "why", bin: "Buffer 01" },
        "second",
      ]);
    },
  },
  {
    name: "emitWithAck both ways",
    async run(run) {
      const c = await run.connect();
      c.on("triple", (n: number, ack: (n: number) => void) => ack(n * 3));
      assert.equal(await within(c.emitWithAck("echo", 21), "answer to emitWithAck"), 21);
      assert.deepEqual(
        await ask(c, "emit-with-ack", { from: "socket" }, "triple", BOUND, [3]),
        { value: 9 },
      );
    },
  },
  {
    name: "timeout(ms).emit times out both ways; a late answer is dropped",
    async run(run) {
      const c = await run.connect();
      c.on("silent-client", () => {});
      c.on("quick", (ack: (v: string) => void) => ack("ok"));
      let late: (v: string) => void = () => {};
      c.on("slow", (ack: (v: string) => void) => (late = ack));
      const socket = { from: "socket" } as const;
      // All at once: each waits for its own timeout.
      const [[err], silent, silentWithAck, quick, slow] = await Promise.all([
        within(
          new Promise<unknown[]>((resolve) =>
            c.timeout(50).emit("silent", (...args: unknown[]) => resolve(args))
          ),
          "client-side timeout",
        ),
        ask(c, "emit-ack", socket, "silent-client", 50, []),
        ask(c, "emit-with-ack", socket, "silent-client", 50, []),
        ask(c, "emit-ack", socket, "quick", BOUND, []),
        ask(c, "emit-ack", socket, "slow", 50, []),
      ]);
      assert.ok(err instanceof Error);
      assert.equal(err.message, "operation has timed out");
      assert.deepEqual(silent, { error: "operation has timed out", rest: [] });
      assert.deepEqual(silentWithAck, { error: "operation has timed out" });
      assert.deepEqual(quick, { error: null, rest: ["ok"] });
      assert.deepEqual(slow, { error: "operation has timed out", rest: [] });
      late("too late");
      assert.equal(await ask(c, "echo", "still here"), "still here");
    },
  },
  {
    name: "namespaces are multiplexed on one connection",
    async run(run) {
      const main = await run.connect();
      const admin = run.track(main.io.socket(run.nsp + "-admin"));
      await within(connected(admin), "connection of the second namespace");
      const [a, b] = [await ask<Who>(main, "whoami"), await ask<Who>(admin, "whoami")];
      assert.equal(a.nsp, run.nsp);
      assert.equal(b.nsp, run.nsp + "-admin");
      assert.equal(b.id, admin.id);
      assert.notEqual(a.id, b.id);
      assert.equal(a.conn, b.conn, "one Engine.IO connection");
      admin.disconnect();
      // Leaving one namespace keeps the other.
      assert.equal((await ask<Who>(main, "whoami")).conn, a.conn);
      assert.ok(main.connected);
    },
  },
  {
    name: "dynamic namespaces from a RegExp and a function; unknown names are refused",
    async run(run) {
      const fnName = `/fn-${run.nsp.slice(1)}`;
      // (A child that exists takes any client, as officially: the refused one is new.)
      const refused = run.open(fnName + "-no", { auth: { ok: false } });
      const unknown = run.open(`/nothing-${run.nsp.slice(1)}`);
      const errors = [
        nextOf<Error>(refused, "connect_error"),
        nextOf<Error>(unknown, "connect_error"),
      ];
      const [fn, a, b] = await Promise.all([
        run.connect(fnName, { auth: { ok: true } }),
        run.connect(run.nsp),
        run.connect(run.nsp + "-b"),
      ]);
      assert.equal((await ask<Who>(fn, "whoami")).nsp, fnName);
      assert.deepEqual((await Promise.all(errors)).map((e) => e.message), [
        "Invalid namespace",
        "Invalid namespace",
      ]);
      // The RegExp parent broadcasts to a room across its children.
      const room = `${run.nsp}-members`;
      await ask(a, "join", room);
      await ask(b, "join", room);
      const both = Promise.all([nextOf(a, "news"), nextOf(b, "news")]);
      a.emit("parent-emit", room, "news", "for members");
      assert.deepEqual(await both, ["for members", "for members"]);
    },
  },
  {
    name: "middleware: a refusal reaches connect_error with err.data; async middleware in order",
    async run(run) {
      const refuse = { code: 42, content: "Please retry later" };
      const refusals = ["/", run.nsp].map((nsp) =>
        nextOf<Error & { data: unknown }>(run.open(nsp, { auth: { refuse } }), "connect_error")
      );
      const thrown = nextOf<Error>(run.open(run.nsp, { auth: { throw: true } }), "connect_error");
      const c = await run.connect(run.nsp, { auth: { slow: true, name: "ann" } });
      for (const err of await Promise.all(refusals)) {
        assert.equal(err.message, "not authorized");
        assert.deepEqual(err.data, refuse);
      }
      assert.equal((await thrown).message, "middleware failed on purpose");
      const me = await ask<Who>(c, "whoami");
      assert.deepEqual(me.data, { name: "ann", order: ["first", "second"] });
      assert.deepEqual(me.rooms, ["from-middleware"]);
      // The refused ones never joined.
      assert.deepEqual((await ask<Fetched[]>(c, "fetch", {})).map((s) => s.id), [c.id]);
    },
  },
  {
    name: "socket.use: per-packet middleware refuses one event and rewrites another",
    async run(run) {
      const c = await run.connect();
      const reached: unknown[] = [];
      c.on("reached", (ev: unknown) => reached.push(ev));
      const error = nextOf(c, "middleware-error");
      c.emit("blocked");
      assert.equal(await error, "blocked event");
      assert.equal(await ask(c, "rewrite", "original"), "rewritten");
      assert.deepEqual(reached, []);
    },
  },
  {
    name: "rooms: join, leave, to, in, except and chains",
    async run(run) {
      const cs = await crowd(run, 4);
      await ask(cs[0], "join", ["a", "b"]);
      await ask(cs[1], "join", "a");
      await ask(cs[2], "join", "b");
      // 3 is in no room; it sends.
      const to = (spec: Spec, n: number) => receivers(cs, emitVia(cs[3], spec, n));
      assert.deepEqual(await to({ steps: [["to", "a"]] }, 1), ["0:1", "1:1"]);
      assert.deepEqual(await to({ steps: [["in", "b"]] }, 2), ["0:2", "2:2"]);
      // A socket in both rooms receives once.
      assert.deepEqual(await to({ steps: [["to", "a"], ["to", "b"]] }, 3), ["0:3", "1:3", "2:3"]);
      assert.deepEqual(await to({ steps: [["to", ["a", "b"]]] }, 4), ["0:4", "1:4", "2:4"]);
      assert.deepEqual(await to({ steps: [["except", "a"]] }, 5), ["2:5", "3:5"]);
      assert.deepEqual(await to({ steps: [["to", "a"], ["except", "b"]] }, 6), ["1:6"]);
      assert.deepEqual(await to({ steps: [["except", ["a", "b"]]] }, 7), ["3:7"]);
      // A socket's own room.
      assert.deepEqual(await to({ steps: [["to", cs[2].id!]] }, 8), ["2:8"]);
      assert.deepEqual(await ask(cs[0], "leave", "a"), ["b"]);
      assert.deepEqual(await to({ steps: [["to", "a"]] }, 9), ["1:9"]);
      assert.deepEqual(await ask(cs[1], "leave", "a"), []);
      assert.deepEqual(await to({ steps: [["to", "a"]] }, 10), []);
    },
  },
  {
    name: "socket.broadcast, socket.to and socket.except leave the sender out",
    async run(run) {
      const cs = await crowd(run, 3);
      await ask(cs[0], "join", "r");
      await ask(cs[1], "join", "r");
      const from = (i: number, steps: Spec["steps"], n: number) =>
        receivers(cs, emitVia(cs[i], { from: "socket", steps }, n));
      assert.deepEqual(await from(0, [["broadcast"]], 1), ["1:1", "2:1"]);
      assert.deepEqual(await from(0, [["to", "r"]], 2), ["1:2"]);
      assert.deepEqual(await from(2, [["to", "r"]], 3), ["0:3", "1:3"]);
      assert.deepEqual(await from(2, [["except", "r"]], 4), []);
      assert.deepEqual(await from(1, [["broadcast"], ["except", "r"]], 5), ["2:5"]);
      assert.deepEqual(await from(0, [["compress", false], ["broadcast"]], 6), ["1:6", "2:6"]);
      assert.deepEqual(await from(0, [["local"]], 7), ["1:7", "2:7"]);
      // A direct emit after all that still reaches the sender alone.
      assert.deepEqual(await from(0, [], 8), ["0:8"]);
    },
  },
  {
    name: "one broadcast reaches polling, WebSocket and upgraded clients once each",
    modes: ["websocket"],
    async run(run) {
      const transports = [["polling"], ["websocket"], ["polling", "websocket"]];
      const cs = await Promise.all(transports.map((t) => run.connect(run.nsp, { transports: t })));
      await within(upgraded(cs[2]), "upgrade to WebSocket");
      const from = (i: number, spec: Spec, n: number) => receivers(cs, emitVia(cs[i], spec, n));
      assert.deepEqual(await from(0, {}, 1), ["0:1", "1:1", "2:1"]);
      assert.deepEqual(await from(1, { from: "socket", steps: [["broadcast"]] }, 2), [
        "0:2",
        "2:2",
      ]);
      assert.deepEqual(await from(0, { from: "socket", steps: [["broadcast"]] }, 3), [
        "1:3",
        "2:3",
      ]);
      await ask(cs[0], "join", "r");
      await ask(cs[1], "join", "r");
      assert.deepEqual(await from(2, { from: "socket", steps: [["to", "r"]] }, 4), ["0:4", "1:4"]);
      assert.deepEqual(await from(1, { steps: [["to", "r"]] }, 5), ["0:5", "1:5"]);
      // Left and back, on the same connection: still once, and no longer in the room.
      const websocket = cs[1];
      const left = nextOf<Left>(cs[0], "left");
      websocket.disconnect();
      await left;
      websocket.connect();
      await within(connected(websocket), "connection again");
      assert.deepEqual(await from(0, {}, 6), ["0:6", "1:6", "2:6"]);
      assert.deepEqual(await from(2, { steps: [["to", "r"]] }, 7), ["0:7"]);
    },
  },
  {
    name: "direct emits and broadcasts of one tick arrive in order, once each",
    async run(run) {
      const [a, b] = await crowd(run, 2);
      const seqs = (c: ClientSocket) => {
        const got: number[] = [];
        c.on("seq", (n: number) => got.push(n));
        return got;
      };
      const got = [seqs(a), seqs(b)];
      const marked = async (c: ClientSocket, ev: string) => {
        const markers = [nextOf(a, "marker"), nextOf(b, "marker")];
        c.emit(ev);
        await Promise.all(markers);
      };
      await marked(a, "order");
      assert.deepEqual(got, [[1, 2, 3, 4], [2, 4]]);
      await marked(a, "others");
      assert.deepEqual(got, [[1, 2, 3, 4, 5, 7], [2, 4, 6]]);
      await marked(b, "others");
      assert.deepEqual(got, [[1, 2, 3, 4, 5, 7, 6], [2, 4, 6, 5, 7]]);
    },
  },
  {
    name: "volatile: a connection that takes a packet at once gets it",
    async run(run) {
      const c = await run.connect();
      const got: unknown[] = [];
      c.on("v", (v: unknown) => got.push(v));
      assert.equal(await ask(c, "volatile", "v"), true);
      assert.deepEqual(got, ["volatile"]);
    },
  },
  {
    name: "broadcast acks collect every answer, and time out with the answers so far",
    async run(run) {
      const cs = await crowd(run, 3);
      cs.forEach((c, i) => c.on("count", (ack: (n: number) => void) => ack(i)));
      const sorted = (list: unknown) => [...list as number[]].sort();
      const all = await ask<{ error: null; rest: [number[]] }>(
        cs[0],
        "emit-ack",
        {},
        "count",
        BOUND,
        [],
      );
      assert.equal(all.error, null);
      assert.deepEqual(sorted(all.rest[0]), [0, 1, 2]);
      const withAck = (c: ClientSocket, spec: Spec, ms = BOUND) =>
        ask<{ value?: number[]; error?: string; responses?: number[] }>(
          c,
          "emit-with-ack",
          spec,
          "count",
          ms,
          [],
        );
      assert.deepEqual(sorted((await withAck(cs[0], {})).value), [0, 1, 2]);
      await ask(cs[1], "join", "r");
      assert.deepEqual(await withAck(cs[0], { steps: [["to", "r"]] }), { value: [1] });
      assert.deepEqual(
        sorted((await withAck(cs[0], { from: "socket", steps: [["broadcast"]] })).value),
        [1, 2],
      );
      // No receiver: an empty answer at once.
      assert.deepEqual(await withAck(cs[0], { steps: [["to", "nobody"]] }), { value: [] });
      // One client never answers: the others' answers come with the timeout error.
      cs[2].off("count");
      cs[2].on("count", () => {});
      const [partial, rejected] = await Promise.all([
        ask<{ error: string; rest: [number[]] }>(cs[0], "emit-ack", {}, "count", 100, []),
        withAck(cs[0], {}, 100),
      ]);
      assert.equal(partial.error, "operation has timed out");
      assert.deepEqual(sorted(partial.rest[0]), [0, 1]);
      assert.equal(rejected.error, "operation has timed out");
      assert.deepEqual(sorted(rejected.responses), [0, 1]);
    },
  },
  {
    name: "fetchSockets, socketsJoin, socketsLeave, disconnectSockets",
    async run(run) {
      const cs = await crowd(run, 3);
      const [id0, id1, id2] = cs.map((c) => c.id!);
      await ask(cs[0], "join", "a");
      await ask(cs[1], "join", "a");
      const fetch = (spec: Spec) => ask<Fetched[]>(cs[1], "fetch", spec);
      const ids = (list: Fetched[]) => list.map((s) => s.id);
      const rooms = async () => (await fetch({})).map((s) => [s.id, s.rooms]);
      assert.deepEqual(ids(await fetch({})), [id0, id1, id2].sort());
      assert.deepEqual(ids(await fetch({ steps: [["in", "a"]] })), [id0, id1].sort());
      assert.deepEqual(ids(await fetch({ steps: [["except", "a"]] })), [id2]);
      assert.deepEqual(ids(await fetch({ steps: [["in", id2]] })), [id2]);

      await ask(cs[1], "sockets-join", { steps: [["in", "a"]] }, ["b", "c"]);
      await ask(cs[1], "sockets-join", { steps: [["except", "a"]] }, "d");
      const byId = (entries: [string, string[]][]) => Object.fromEntries(entries);
      assert.deepEqual(byId(await rooms() as [string, string[]][]), {
        [id0]: ["a", "b", "c"],
        [id1]: ["a", "b", "c"],
        [id2]: ["d"],
      });
      await ask(cs[1], "sockets-leave", {}, "b");
      await ask(cs[1], "sockets-leave", { steps: [["in", id0]] }, "c");
      assert.deepEqual(byId(await rooms() as [string, string[]][]), {
        [id0]: ["a"],
        [id1]: ["a", "c"],
        [id2]: ["d"],
      });

      // In the namespace only: the connection stays for another namespace.
      const admin = run.track(cs[0].io.socket(run.nsp + "-admin"));
      await within(connected(admin), "connection of the second namespace");
      const gone = nextOf(cs[0], "disconnect");
      cs[1].emit("disconnect-sockets", { steps: [["in", id0]] }, false);
      assert.equal(await gone, "io server disconnect");
      assert.ok(admin.connected);
      // With close: the whole connections go.
      const closed = [nextOf(cs[1].io.engine, "close"), nextOf(cs[2].io.engine, "close")];
      const reasons = Promise.all([nextOf(cs[1], "disconnect"), nextOf(cs[2], "disconnect")]);
      cs[1].emit("disconnect-sockets", {}, true);
      assert.deepEqual(await reasons, ["io server disconnect", "io server disconnect"]);
      await Promise.all(closed);
      assert.ok(admin.connected);
      assert.equal((await ask<Who>(admin, "whoami")).nsp, run.nsp + "-admin");
    },
  },
  {
    name: "broadcasts stay in their namespace",
    async run(run) {
      const [main] = await crowd(run, 1);
      const admins = await crowd(run, 2, run.nsp + "-admin");
      await ask(admins[0], "join", "r");
      const everyone = [main, ...admins];
      assert.deepEqual(
        await receivers(everyone, emitVia(admins[1], { steps: [["to", "r"]] }, "r"), admins),
        ["1:r"],
      );
      assert.deepEqual(await receivers(everyone, emitVia(admins[1], {}, "all"), admins), [
        "1:all",
        "2:all",
      ]);
      // Anything wrongly sent to main before would arrive before this.
      assert.deepEqual(await receivers(everyone, emitVia(main, {}, "main"), [main]), ["0:main"]);
    },
  },
  {
    name: "socket.data is set by middleware, changed by handlers, seen by fetchSockets",
    async run(run) {
      const [, b] = await Promise.all([
        run.connect(run.nsp, { auth: { name: "a" } }),
        run.connect(run.nsp, { auth: { name: "b" } }),
      ]);
      const names = async () =>
        (await ask<Fetched[]>(b, "fetch", {})).map((s) => s.data).sort((x, y) =>
          x!.name! < y!.name! ? -1 : 1
        );
      assert.deepEqual(await names(), [
        { name: "a", order: ["first", "second"] },
        { name: "b", order: ["first", "second"] },
      ]);
      assert.deepEqual(await ask(b, "data", { score: 3 }), {
        name: "b",
        order: ["first", "second"],
        score: 3,
      });
      assert.deepEqual((await names())[1], { name: "b", order: ["first", "second"], score: 3 });
    },
  },
  {
    name: "socket.handshake: query, auth and headers as plain objects; __proto__ stays a key",
    async run(run) {
      // An own key "__proto__", as a client puts it in the URL: ?__proto__=...
      const query = JSON.parse('{"token":"abc","__proto__":"{\\"polluted\\":1}"}');
      const c = await run.connect(run.nsp, {
        query,
        auth: { user: "u1" },
        extraHeaders: { "x-custom": "yes" },
      });
      assert.deepEqual(await ask(c, "handshake"), {
        query: { token: "abc", EIO: "4" },
        proto: [["__proto__", '{"polluted":1}']],
        auth: { user: "u1" },
        header: "yes",
        host: "string",
        plain: true,
        polluted: null,
        address: "127.0.0.1",
        secure: false,
        url: true,
        time: "string",
        issued: "number",
        xdomain: false,
      });
    },
  },
  {
    name: "a client leaving: 'client namespace disconnect', and disconnecting sees the rooms",
    async run(run) {
      const [observer, a] = await crowd(run, 2);
      const id = a.id;
      await ask(a, "join", ["r1", "r2"]);
      const left = nextOf<Left>(observer, "left");
      a.disconnect();
      assert.deepEqual(await left, {
        id,
        reason: "client namespace disconnect",
        rooms: ["r1", "r2"],
      });
    },
  },
  {
    name: "socket.disconnect(): 'io server disconnect'; disconnect(true) closes the connection",
    async run(run) {
      const [observer, a, b] = await crowd(run, 3);
      const id = a.id;
      const reason = nextOf(a, "disconnect");
      const left = nextOf<Left>(observer, "left");
      a.emit("disconnect-me", false);
      assert.equal(await reason, "io server disconnect");
      assert.deepEqual(await left, { id, reason: "server namespace disconnect", rooms: [] });

      const admin = run.track(b.io.socket(run.nsp + "-admin"));
      await within(connected(admin), "connection of the second namespace");
      const reasons = Promise.all([nextOf(b, "disconnect"), nextOf(admin, "disconnect")]);
      const closed = nextOf(b.io.engine, "close");
      const bLeft = nextOf<Left>(observer, "left");
      b.emit("disconnect-me", true);
      // Over polling too: the close packet follows on the next poll, after the DISCONNECTs.
      assert.deepEqual(await reasons, ["io server disconnect", "io server disconnect"]);
      await closed;
      assert.equal((await bLeft).reason, "server namespace disconnect");
    },
  },
  {
    name: "a closed transport: 'transport close' on both sides",
    async run(run) {
      const [observer, a, b] = await crowd(run, 3);
      // The server closes it.
      const reason = nextOf(a, "disconnect");
      const left = nextOf<Left>(observer, "left");
      a.emit("close-conn");
      assert.equal(await reason, "transport close");
      assert.equal((await left).reason, "forced close");
      // The client drops it: over polling a close packet, over WebSocket a close frame.
      const bReason = nextOf(b, "disconnect");
      const bLeft = nextOf<Left>(observer, "left");
      (b.io.engine as unknown as { transport: { close(): void } }).transport.close();
      assert.equal(await bReason, "transport close");
      assert.equal((await bLeft).reason, "transport close");
    },
  },
  {
    name: "a message over maxHttpBufferSize closes its connection, and only that one",
    async run(run) {
      const [observer, a] = await crowd(run, 2);
      const id = a.id;
      const left = nextOf<Left>(observer, "left");
      const gone = nextOf(a, "disconnect");
      a.emit("silent", "x".repeat(150_000));
      // Over polling the POST is refused (413) and the client closes; over WebSocket the frame
      // is an error.
      assert.deepEqual(await left, {
        id,
        reason: run.mode === "polling" ? "transport close" : "transport error",
        rooms: [],
      });
      await gone;
      assert.equal(await ask(observer, "echo", "still here"), "still here");
    },
  },
  {
    name: "heartbeat: the server pings, the client's pongs keep the session",
    async run(run) {
      const c = await run.connect();
      // A second ping comes only after the first pong was taken (pingInterval 150 ms).
      await nextOf(c.io, "ping");
      await nextOf(c.io, "ping");
      assert.ok(c.connected);
      assert.equal(await ask(c, "echo", "alive"), "alive");
    },
  },
  {
    name: "rooms of any value: an object room is not the room 'x'",
    // A Durable Object keeps a WebSocket session's sockets in its storage, which cannot clone
    // a room holding a function (README's Workers notes): the socket is saved without it, and
    // that is reported. (A session on polling is never saved.)
    reports: (runtime, mode) =>
      runtime === "workerd" && mode !== "polling" ? ["room that cannot be structured-cloned"] : [],
    async run(run) {
      const [inObject, inX, sent] = await crowd(run, 3);
      assert.deepEqual(await ask(inObject, "join-object"), ["(object)"]);
      assert.deepEqual(await ask(inX, "join", "x"), ["x"]);
      // 42["join",{"toString":"x"}]: what the client sends becomes a room, as it is.
      assert.deepEqual(await ask(sent, "join", { toString: "x" }), ["(object)"]);
      assert.deepEqual(
        await receivers([inObject, inX, sent], () => inX.emit("to-object", "msg")),
        ["0:to the object room"],
      );
    },
  },
  {
    name: "refusals: the official errors, as JSON over HTTP and as text on an upgrade",
    modes: ["polling"],
    clients: ["official"],
    async run(run) {
      const refusal = async (query: string, init?: RequestInit) => {
        const res = await fetch(`${run.url}/socket.io/?${query}`, init);
        return [res.status, await res.json()];
      };
      assert.deepEqual(await refusal("EIO=4&transport=nope"), [
        400,
        { code: 0, message: "Transport unknown" },
      ]);
      assert.deepEqual(await refusal("EIO=4&transport=polling&sid=nope"), [
        400,
        { code: 1, message: "Session ID unknown" },
      ]);
      assert.deepEqual(
        await refusal("EIO=4&transport=polling&sid=nope", { method: "POST", body: "4hello" }),
        [400, { code: 1, message: "Session ID unknown" }],
      );
      assert.deepEqual(await refusal("EIO=5&transport=polling"), [
        400,
        { code: 5, message: "Unsupported protocol version" },
      ]);
      const port = Number(new URL(run.url).port);
      const upgrade = await rawUpgrade(port, "/socket.io/?EIO=4&transport=websocket&sid=nope");
      assert.deepEqual([upgrade.status, upgrade.body], [400, "Session ID unknown"]);
    },
  },
  {
    name: "the client bundle: ETag, 304, and compressed once as asked",
    modes: ["polling"],
    clients: ["official"],
    async run(run) {
      const url = `${run.url}/socket.io/socket.io.min.js`;
      const plain = await fetch(url, { headers: { "accept-encoding": "identity" } });
      assert.equal(plain.status, 200);
      assert.match(plain.headers.get("content-type") ?? "", /^application\/javascript/);
      const etag = plain.headers.get("etag");
      assert.ok(etag, "an ETag");
      const body = await plain.text();
      assert.match(body, /\bio\b/);
      for (const encoding of ["gzip", "br"]) {
        const res = await fetch(url, { headers: { "accept-encoding": encoding } });
        assert.equal(res.headers.get("content-encoding"), encoding);
        // fetch decodes it once: compressed twice, it would still be compressed.
        assert.equal(await res.text(), body, encoding);
      }
      const again = await fetch(url, { headers: { "if-none-match": etag } });
      assert.equal(again.status, 304);
      await again.body?.cancel();
    },
  },
  {
    name: "listeners that throw are reported, and the server serves on",
    reports: [
      "listener failed on purpose",
      "connection listener failed on purpose",
      "disconnect listener failed on purpose",
    ],
    async run(run) {
      const [c, observer] = await crowd(run, 2);
      c.emit("throw");
      assert.equal(await ask(c, "echo", "after"), "after");
      // The client connected before its connection listener ran.
      await run.connect("/throws");
      await ask(c, "throw-on-disconnect");
      const left = nextOf(observer, "left");
      c.disconnect();
      await left;
      assert.equal(await ask(observer, "echo", "still here"), "still here");
      assert.equal(await ask(await run.connect(), "echo", "new one"), "new one");
    },
  },
  {
    // (Over polling, it ends the POST's request instead, which no runtime minds.)
    name: "an Engine.IO listener that throws is reported, and the connection serves on",
    reports: ["packet listener failed on purpose", "close listener failed on purpose"],
    modes: ["websocket", "upgrade"],
    async run(run) {
      const [c, observer] = await crowd(run, 2);
      await ask(c, "throw-on-packet");
      c.emit("silent", "the message the listener failed on");
      assert.equal(await ask(c, "echo", "after"), "after");
      assert.ok(c.connected);
      await ask(c, "throw-on-close");
      const closed = nextOf(observer, "conn-closed");
      c.disconnect();
      assert.equal(await closed, "transport close");
      assert.equal(await ask(observer, "echo", "still here"), "still here");
    },
  },
];
