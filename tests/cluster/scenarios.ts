/**
 * The scenarios of the mixed-cluster tests: what official `socket.io-client` clients on
 * different nodes observe when one node broadcasts, collects acks, fetches or moves sockets,
 * emits to the other servers, or stops; written once against the control API (control.ts) and
 * run by cluster.ts on any mix of official and our nodes. A scenario scopes what it asks to its
 * run's room (`run.room`), so that runs never see each other's sockets on the shared cluster.
 * The clients of a run alternate between polling and WebSocket.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type ClientSocket, next, receivedDuring, within } from "../helpers/socketio.ts";
import { type AckResult, bin, type SocketInfo } from "./control.ts";
import { type Capability, type ClusterSpec, type Run, until } from "./cluster.ts";
import type { ClusterNode } from "./nodes.ts";

/** One scenario. */
export interface Scenario {
  /** What it checks, as test names say it. */
  name: string;
  /** The client side; it fails by throwing. */
  run(run: Run): Promise<void>;
  /** The fewest nodes it needs (default 2). */
  nodes?: number;
  /** What the cluster must have for it (else it shows as an ignored step). */
  requires?: readonly Capability[];
  /** The adapters it applies to, when not all. */
  adapters?: readonly string[];
  /** Whether it applies to a cluster, when that depends on more than the adapter. */
  needs?(spec: ClusterSpec): boolean;
}

/** Bound of every wait (a safety net, not a timing). */
const BOUND = 10_000;

/**
 * Which of `clients` get "msg" while `act` runs; then `node` sends "marker" to the run's room the
 * way `act` sent (`via`), since what one node sends one way arrives in order on every node.
 */
function during(
  run: Run,
  clients: ClientSocket[],
  node: ClusterNode,
  act: () => Promise<unknown>,
  via: "emit" | "emitter" = "emit",
): Promise<string[]> {
  let failed: Promise<void> = Promise.resolve();
  const got = receivedDuring(clients, () => {
    failed = (async () => {
      await act();
      await node.control({ op: via, rooms: [run.room], ev: "marker" });
    })();
  }, clients);
  // A failing act rejects first; else what the clients got.
  return Promise.race([failed.then(() => got), got]);
}

/** `emitWithAck` to the server, bounded. */
function ask<T = unknown>(c: ClientSocket, ev: string, ...args: unknown[]): Promise<T> {
  return c.timeout(BOUND).emitWithAck(ev, ...args) as Promise<T>;
}

/** The bytes of a binary value as the client gives it. */
function bytes(value: unknown): number[] {
  if (value instanceof ArrayBuffer) return [...new Uint8Array(value)];
  if (ArrayBuffer.isView(value)) {
    return [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)];
  }
  throw new assert.AssertionError({ message: `not binary: ${String(value)}`, actual: value });
}

/** Makes `c` answer `question` with its id and the question. */
function answers(c: ClientSocket): ClientSocket {
  c.on("question", (q: unknown, cb: (a: unknown) => void) => cb(`${c.id}:${q}`));
  return c;
}

/** Sorted copy. */
const sorted = <T>(xs: T[]) => [...xs].sort();

/** The ids `fetchSockets` gives, sorted. */
function ids(sockets: SocketInfo[]): string[] {
  return sockets.map((s) => s.id).sort();
}

/** Waits until `node`'s `fetchSockets` on `rooms` gives exactly `expected` (ids). */
function fetchedEventually(node: ClusterNode, rooms: string[], expected: string[]) {
  return until(
    async () =>
      JSON.stringify(ids((await node.control({ op: "fetchSockets", rooms })).sockets)) ===
        JSON.stringify(sorted(expected)),
    `fetchSockets of ${rooms} on ${node.name} giving ${expected.length} sockets`,
  );
}

/** The next `observed` events of `node` once there are `n`. */
async function observedEventually(node: ClusterNode, n: number) {
  const events: Awaited<ReturnType<typeof node.control<"observed">>>["events"] = [];
  await until(async () => {
    events.push(...(await node.control({ op: "observed" })).events);
    return events.length >= n;
  }, `${n} server-side events on ${node.name}`);
  return events;
}

/** The scenarios, in the order they run. */
export const SCENARIOS: Scenario[] = [
  {
    name: "serverCount counts every node, on every node",
    nodes: 1,
    async run(run) {
      for (const node of run.nodes) {
        assert.equal((await node.control({ op: "serverCount" })).count, run.nodes.length);
      }
    },
  },
  {
    name: "a broadcast to all reaches every client of every node, once",
    nodes: 1,
    async run(run) {
      const clients = await Promise.all(
        [0, 0, 1, 1].map((i) => run.connect(i % run.nodes.length)),
      );
      for (const node of run.nodes) {
        const got = await during(
          run,
          clients,
          node,
          () => node.control({ op: "emit", ev: "msg", args: [node.name, 1] }),
        );
        assert.deepEqual(got, clients.map((_, i) => `${i}:${node.name},1`));
      }
      // The arguments arrive as sent.
      const arrived = next<unknown[]>(clients[clients.length - 1], "many");
      const values = [1.5, "deux é ☃ 😀", { three: [3] }, null, true];
      await run.nodes[0].control({ op: "emit", ev: "many", args: [values] });
      assert.deepEqual(await within(arrived, '"many" event'), values);
    },
  },
  {
    name: "a broadcast to rooms reaches only their members on every node, once each",
    async run(run) {
      const [a0, b0, c0, a1, b1, c1] = await Promise.all([
        run.connect(0, { rooms: ["a"] }),
        run.connect(0, { rooms: ["b"] }),
        run.connect(0, { rooms: ["a", "b"] }),
        run.connect(1, { rooms: ["a"] }),
        run.connect(1, { rooms: ["b"] }),
        run.connect(1),
      ]);
      const clients = [a0, b0, c0, a1, b1, c1];
      for (const node of run.nodes) {
        const toA = await during(
          run,
          clients,
          node,
          () => node.control({ op: "emit", rooms: ["a"], ev: "msg", args: ["a"] }),
        );
        assert.deepEqual(toA, ["0:a", "2:a", "3:a"]);
        // A socket in both rooms gets it once.
        const toAB = await during(
          run,
          clients,
          node,
          () => node.control({ op: "emit", rooms: ["a", "b"], ev: "msg", args: ["ab"] }),
        );
        assert.deepEqual(toAB, ["0:ab", "1:ab", "2:ab", "3:ab", "4:ab"]);
      }
    },
  },
  {
    name: "a broadcast in a namespace stays in it, across nodes",
    async run(run) {
      const main = await run.connect(1);
      const custom = await run.connect(1, { nsp: "/custom" });
      const marked = [custom, main].map((c) => within(next(c, "marker"), '"marker" event'));
      const got: string[] = [];
      main.on("msg", () => got.push("main"));
      custom.on("msg", () => got.push("custom"));
      const [n0] = run.nodes;
      await n0.control({ op: "emit", nsp: "/custom", ev: "msg" });
      // Sent after it by the same node: once both markers are in, so would the message be.
      await n0.control({ op: "emit", nsp: "/custom", rooms: [run.room], ev: "marker" });
      await n0.control({ op: "emit", nsp: "/", rooms: [run.room], ev: "marker" });
      await Promise.all(marked);
      assert.deepEqual(got, ["custom"]);
    },
  },
  {
    name: "except leaves out the members of its rooms on every node",
    async run(run) {
      const clients = await Promise.all([
        run.connect(0, { rooms: ["x"] }),
        run.connect(0),
        run.connect(1, { rooms: ["x"] }),
        run.connect(1),
      ]);
      for (const node of run.nodes) {
        const got = await during(
          run,
          clients,
          node,
          () =>
            node.control({ op: "emit", rooms: [run.room], except: ["x"], ev: "msg", args: [1] }),
        );
        assert.deepEqual(got, ["1:1", "3:1"]);
      }
    },
  },
  {
    name: "a local broadcast reaches only the clients of its own node",
    async run(run) {
      const clients = await Promise.all([0, 0, 1, 1].map((i) => run.connect(i)));
      for (const [index, node] of run.nodes.entries()) {
        // The marker goes to all: the other node's clients got it, and no "msg" before it.
        const got = await during(
          run,
          clients,
          node,
          () => node.control({ op: "emit", rooms: [run.room], local: true, ev: "msg", args: [1] }),
        );
        const mine = index === 0 ? ["0:1", "1:1"] : ["2:1", "3:1"];
        assert.deepEqual(got, index < 2 ? mine : []);
      }
    },
  },
  {
    name: "a volatile broadcast reaches the clients of other nodes that can take it",
    async run(run) {
      const ws = await run.connect(1, { transport: "websocket" });
      const polling = await run.connect(1, { transport: "polling" });
      // A volatile packet is dropped for a connection that cannot take it at that moment (no
      // poll waiting, a WebSocket frame still being written), which on a busy machine can be
      // any one of a few in a row: so they are sent, one at a time, until each client took one
      // (bounded); each arrives at most once, in order.
      const got: number[][] = [[], []];
      const listeners = [ws, polling].map((c, k) => {
        const listener = (i: number) => got[k].push(i);
        c.on("msg", listener);
        return listener;
      });
      try {
        for (let i = 0; i < 40 && got.some((g) => g.length === 0); i++) {
          await run.nodes[0].control({ op: "emit", volatile: true, ev: "msg", args: [i] });
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        [ws, polling].forEach((c, k) => c.off("msg", listeners[k]));
      }
      for (const k of [0, 1]) {
        assert.ok(got[k].length >= 1, `client ${k} got none of 40: ${got}`);
        assert.deepEqual(got[k], [...new Set(got[k])].sort((a, b) => a - b));
      }
    },
  },
  {
    name: "binary arguments of a broadcast arrive intact on every node",
    nodes: 1,
    async run(run) {
      const clients = await Promise.all(run.nodes.map((_, i) => run.connect(i)));
      for (const node of run.nodes) {
        const arrived = clients.map((c) =>
          within(
            new Promise<unknown[]>((resolve) =>
              c.once("bin", (...args: unknown[]) => resolve(args))
            ),
            '"bin" event',
          )
        );
        await node.control({
          op: "emit",
          ev: "bin",
          args: [bin(1, 2, 3), { nested: bin(0, 255), text: "t" }, [bin()]],
        });
        for (const args of await Promise.all(arrived)) {
          const [a, b, c] = args as [unknown, { nested: unknown; text: string }, unknown[]];
          assert.deepEqual(bytes(a), [1, 2, 3]);
          assert.deepEqual(bytes(b.nested), [0, 255]);
          assert.equal(b.text, "t");
          assert.deepEqual(bytes(c[0]), []);
        }
      }
    },
  },
  {
    name: "a broadcast with acks collects every client's answer from every node",
    nodes: 1,
    async run(run) {
      const clients = await Promise.all(
        [0, 0, 1, 1].map((i) => run.connect(i % run.nodes.length).then(answers)),
      );
      for (const node of run.nodes) {
        const result: AckResult = await node.control({
          op: "emitWithAck",
          rooms: [run.room],
          ev: "question",
          args: [node.name],
          timeout: BOUND,
        });
        assert.equal(result.err, null);
        assert.deepEqual(
          sorted(result.responses),
          sorted(clients.map((c) => `${c.id}:${node.name}`)),
        );
      }
    },
  },
  {
    name: "a broadcast with acks times out with the answers it got when a client does not answer",
    async run(run) {
      const a = answers(await run.connect(0));
      const b = answers(await run.connect(1));
      const silent = await run.connect(1);
      silent.on("question", () => {});
      for (const node of run.nodes) {
        const result = await node.control({
          op: "emitWithAck",
          rooms: [run.room],
          ev: "question",
          args: ["q"],
          timeout: 500,
        });
        assert.equal(result.err, "operation has timed out");
        assert.deepEqual(sorted(result.responses), sorted([`${a.id}:q`, `${b.id}:q`]));
      }
    },
  },
  {
    name:
      "fetchSockets gives the sockets of every node: ids, rooms, data, handshake auth and address",
    async run(run) {
      const a = await run.connect(0, { rooms: ["r"], data: { n: 0 } });
      const b = await run.connect(1, { rooms: ["r"], data: { n: 1 } });
      const c = await run.connect(1, { data: { n: 2 } });
      for (const node of run.nodes) {
        const { sockets } = await node.control({ op: "fetchSockets", rooms: [run.room] });
        const expected: SocketInfo[] = [
          { c: a, rooms: ["r"], n: 0 },
          { c: b, rooms: ["r"], n: 1 },
          { c, rooms: [], n: 2 },
        ].map(({ c, rooms, n }) => ({
          id: c.id!,
          rooms: sorted([c.id!, run.room, ...rooms]),
          data: { n },
          auth: { rooms: [run.room, ...rooms], data: { n } },
          address: "127.0.0.1",
          // a on node 0, b and c on node 1.
          remote: run.nodes.indexOf(node) !== (c === a ? 0 : 1),
        })).sort((x, y) => (x.id < y.id ? -1 : 1));
        assert.deepEqual(sockets, expected);
        const inR = await node.control({ op: "fetchSockets", rooms: ["r"] });
        assert.deepEqual(ids(inR.sockets), sorted([a.id!, b.id!]));
        const notR = await node.control({ op: "fetchSockets", rooms: [run.room], except: ["r"] });
        assert.deepEqual(ids(notR.sockets), [c.id!]);
        const local = await node.control({ op: "fetchSockets", rooms: [run.room], local: true });
        const mine = [[a.id!], [b.id!, c.id!]][run.nodes.indexOf(node)] ?? [];
        assert.deepEqual(ids(local.sockets), sorted(mine));
      }
    },
  },
  {
    name: "socketsJoin and socketsLeave move the sockets of every node",
    async run(run) {
      const clients = await Promise.all([
        run.connect(0, { rooms: ["a"] }),
        run.connect(0),
        run.connect(1, { rooms: ["a"] }),
        run.connect(1),
      ]);
      const [n0, n1] = run.nodes;
      await n0.control({ op: "socketsJoin", rooms: ["a"], room: "joined" });
      await fetchedEventually(n1, ["joined"], [clients[0].id!, clients[2].id!]);
      await fetchedEventually(n0, ["joined"], [clients[0].id!, clients[2].id!]);
      for (const c of [clients[0], clients[2]]) await run.reachable(c, ["joined"]);
      // Broadcasts to the new room reach them, from either node.
      for (const node of run.nodes) {
        const got = await during(
          run,
          clients,
          node,
          () => node.control({ op: "emit", rooms: ["joined"], ev: "msg", args: ["j"] }),
        );
        assert.deepEqual(got, ["0:j", "2:j"]);
      }
      await n1.control({ op: "socketsLeave", rooms: [run.room], room: "joined" });
      await fetchedEventually(n0, ["joined"], []);
      await fetchedEventually(n1, ["joined"], []);
      const got = await during(
        run,
        clients,
        n0,
        () => n0.control({ op: "emit", rooms: ["joined"], ev: "msg", args: ["j"] }),
      );
      assert.deepEqual(got, []);
    },
  },
  {
    name: "disconnectSockets disconnects the matching sockets of every node, and only those",
    async run(run) {
      const [a0, b0, a1, b1] = await Promise.all([
        run.connect(0, { rooms: ["a"] }),
        run.connect(0),
        run.connect(1, { rooms: ["a"] }),
        run.connect(1),
      ]);
      const reasons = [a0, a1].map((c) => within(next<string>(c, "disconnect"), '"disconnect"'));
      await run.nodes[1].control({ op: "disconnectSockets", rooms: ["a"] });
      assert.deepEqual(await Promise.all(reasons), [
        "io server disconnect",
        "io server disconnect",
      ]);
      // The others are still connected and answered.
      assert.equal(await ask(b0, "echo", "still"), "still");
      assert.equal(await ask(b1, "echo", "still"), "still");
      await fetchedEventually(run.nodes[0], [run.room], [b0.id!, b1.id!]);
    },
  },
  {
    name:
      "a socket of another node found with fetchSockets: emit, timeout().emit, join, leave, disconnect",
    async run(run) {
      const far = answers(await run.connect(1));
      const [n0] = run.nodes;
      const got = next<unknown>(far, "direct");
      assert.deepEqual(
        await n0.control({
          op: "remoteSocket",
          id: far.id!,
          action: "emit",
          ev: "direct",
          args: [7],
        }),
        { found: true },
      );
      assert.equal(await within(got, '"direct" event'), 7);
      assert.deepEqual(
        await n0.control({
          op: "remoteSocket",
          id: far.id!,
          action: "emitWithAck",
          ev: "question",
          args: ["r"],
          timeout: BOUND,
        }),
        { found: true, err: null, response: `${far.id}:r` },
      );
      await n0.control({ op: "remoteSocket", id: far.id!, action: "join", room: "far" });
      await fetchedEventually(n0, ["far"], [far.id!]);
      await n0.control({ op: "remoteSocket", id: far.id!, action: "leave", room: "far" });
      await fetchedEventually(n0, ["far"], []);
      const reason = within(next<string>(far, "disconnect"), '"disconnect"');
      await n0.control({ op: "remoteSocket", id: far.id!, action: "disconnect" });
      assert.equal(await reason, "io server disconnect");
    },
  },
  {
    name: "serverSideEmit reaches every other node, not the sender",
    async run(run) {
      const [n0, n1] = run.nodes;
      await n0.control({ op: "serverSideEmit", ev: "sse", args: [1, "two", { three: 3 }] });
      assert.deepEqual(await observedEventually(n1, 1), [
        { nsp: "/", ev: "sse", args: [1, "two", { three: 3 }] },
      ]);
      // (JSON only: the classic adapter sends server-side events as JSON.)
      await n1.control({ op: "serverSideEmit", nsp: "/custom", ev: "sse", args: [[4, 5]] });
      assert.deepEqual(await observedEventually(n0, 1), [
        { nsp: "/custom", ev: "sse", args: [[4, 5]] },
      ]);
      // Each has what the other sent, and nothing of its own; any other node has both.
      for (const node of [n0, n1]) {
        assert.deepEqual((await node.control({ op: "observed" })).events, []);
      }
      for (const node of run.nodes.slice(2)) {
        const events = await observedEventually(node, 2);
        assert.deepEqual(events.sort((x, y) => x.nsp < y.nsp ? -1 : 1), [
          { nsp: "/", ev: "sse", args: [1, "two", { three: 3 }] },
          { nsp: "/custom", ev: "sse", args: [[4, 5]] },
        ]);
      }
    },
  },
  {
    name: "serverSideEmit with acks gets one answer from each other node",
    async run(run) {
      for (const node of run.nodes) {
        const result = await node.control({
          op: "serverSideEmitWithAck",
          ev: "sse-ack",
          args: ["hi"],
        });
        assert.equal(result.err, null);
        assert.deepEqual(
          sorted((result.responses as { node: string }[]).map((r) => JSON.stringify(r))),
          sorted(
            run.nodes.filter((n) => n !== node).map((n) =>
              JSON.stringify({ node: n.name, args: ["hi"] })
            ),
          ),
        );
      }
    },
  },
  {
    name: "serverSideEmit with acks times out with the answers it got when a node does not answer",
    async run(run) {
      const [n0, n1] = run.nodes;
      await n1.control({ op: "configure", answerServerSide: false });
      try {
        const result = await n0.control({ op: "serverSideEmitWithAck", ev: "sse-ack", args: [1] });
        assert.match(String(result.err), /timeout reached/);
        const answered = run.nodes.slice(2).map((n) => n.name);
        assert.deepEqual(
          sorted((result.responses as { node: string }[]).map((r) => r.node)),
          sorted(answered),
        );
        // It was delivered; only the answer is missing.
        assert.deepEqual(await observedEventually(n1, 1), [{ nsp: "/", ev: "sse-ack", args: [1] }]);
      } finally {
        await n1.control({ op: "configure", answerServerSide: true });
      }
    },
  },
  {
    name: "a node stopping: the others' requests are answered without it, never hang",
    async run(run) {
      const stays = await run.connect(0);
      const extra = await run.addNode();
      const c = run.nodes.length;
      assert.equal((await extra.control({ op: "serverCount" })).count, c + 1);
      await extra.stop();
      await run.counted(c);
      const { sockets } = await run.nodes[0].control({ op: "fetchSockets", rooms: [run.room] });
      assert.deepEqual(ids(sockets), [stays.id!]);
      const sse = await run.nodes[0].control({
        op: "serverSideEmitWithAck",
        ev: "sse-ack",
        args: [],
      });
      assert.equal(sse.err, null);
      assert.equal(sse.responses.length, c - 1);
    },
  },
  {
    name:
      "a node killed: the others' requests settle (answered or timed out), then go on without it",
    async run(run) {
      const extra = await run.addNode();
      const gone = await run.connect(extra);
      const lost = within(next<string>(gone, "disconnect"), '"disconnect" of its client');
      await extra.kill();
      // "transport error" over polling (a request failed), "transport close" over WebSocket.
      assert.match(await lost, /^transport (close|error)$/);
      // Whatever the adapter knows yet, a request settles: answered, or failed by its timeout.
      for (const node of run.nodes) {
        await within(
          node.control({ op: "fetchSockets", rooms: [run.room], timeout: run.requestsTimeout })
            .catch(() => undefined),
          `fetchSockets on ${node.name} after a node died`,
          run.requestsTimeout + BOUND,
        );
        await within(
          node.control({ op: "serverSideEmitWithAck", ev: "sse-ack", args: [] }),
          `serverSideEmitWithAck on ${node.name} after a node died`,
          run.requestsTimeout + BOUND,
        );
      }
      await run.counted(run.nodes.length);
      const { sockets } = await run.nodes[0].control({ op: "fetchSockets", rooms: [run.room] });
      assert.deepEqual(ids(sockets), []);
    },
  },
  {
    name: "connection state recovery across nodes: restored on another node with what it missed",
    requires: ["recovery"],
    adapters: ["streams"],
    needs: (spec) => spec.serverOptions?.connectionStateRecovery !== undefined,
    async run(run) {
      const [n0, n1] = run.nodes;
      const first = await run.connect(0, { rooms: ["kept"] });
      const before = next<string>(first, "msg");
      await n1.control({ op: "emit", rooms: [run.room], ev: "msg", args: ["before"] });
      assert.equal(await within(before, '"msg" event'), "before");
      // What the official client sends when it reconnects: its session id and last offset.
      const { _pid: pid, _lastOffset: offset, id } = first as unknown as {
        _pid?: string;
        _lastOffset?: string;
        id: string;
      };
      assert.ok(pid && offset, "no session id or offset: is connectionStateRecovery on?");
      const lost = within(next<string>(first, "disconnect"), '"disconnect" event');
      first.io.engine.close();
      // The connection drops under the socket (not a disconnect() of the client's own).
      assert.equal(await lost, "forced close");
      await fetchedEventually(n1, [run.room], []);
      await n1.control({ op: "emit", rooms: ["kept"], ev: "msg", args: ["missed"] });
      const got: string[] = [];
      const again = await run.connect(1, {
        auth: { pid, offset },
        setup: (c) => c.on("msg", (m: string) => got.push(m)),
      });
      assert.equal(again.id, id);
      assert.deepEqual(got, ["missed"]);
      const { sockets } = await n0.control({ op: "fetchSockets", rooms: ["kept"] });
      assert.deepEqual(sockets.map((s) => [s.id, s.rooms]), [[id, sorted([id, run.room, "kept"])]]);
    },
  },
  {
    name: "the official emitter's messages reach the clients of every node",
    requires: ["redis"],
    adapters: ["classic"],
    needs: (spec) => spec.nodes.includes("official"),
    async run(run) {
      const host = run.nodes.find((n) => n.runtime === "official")!;
      const clients = await Promise.all([
        run.connect(0, { rooms: ["e"] }),
        run.connect(0),
        run.connect(1, { rooms: ["e"] }),
        run.connect(1),
      ]);
      const all = await during(
        run,
        clients,
        host,
        () => host.control({ op: "emitter", ev: "msg", args: ["all"] }),
        // Through Redis, as the emitter sent: the host delivers its own emits at once.
        "emitter",
      );
      assert.deepEqual(all, ["0:all", "1:all", "2:all", "3:all"]);
      const room = await during(
        run,
        clients,
        host,
        () => host.control({ op: "emitter", rooms: ["e"], ev: "msg", args: ["e"] }),
        // Through Redis, as the emitter sent: the host delivers its own emits at once.
        "emitter",
      );
      assert.deepEqual(room, ["0:e", "2:e"]);
      const bytesOf = next<unknown>(clients[3], "bin");
      await host.control({ op: "emitter", rooms: [run.room], ev: "bin", args: [bin(9, 8)] });
      assert.deepEqual(bytes(await within(bytesOf, '"bin" event')), [9, 8]);
    },
  },
  {
    name: "the official emitter's requests reach every node: socketsJoin, socketsLeave, " +
      "disconnectSockets, serverSideEmit",
    requires: ["redis"],
    adapters: ["classic"],
    needs: (spec) => spec.nodes.includes("official"),
    async run(run) {
      const host = run.nodes.find((n) => n.runtime === "official")!;
      const [a0, b0, a1, b1] = await Promise.all([
        run.connect(0, { rooms: ["a"] }),
        run.connect(0),
        run.connect(1, { rooms: ["a"] }),
        run.connect(1),
      ]);
      await host.control({ op: "emitter", action: "socketsJoin", rooms: ["a"], room: "joined" });
      for (const node of run.nodes) await fetchedEventually(node, ["joined"], [a0.id!, a1.id!]);
      await host.control({ op: "emitter", action: "socketsLeave", rooms: ["a"], room: "joined" });
      for (const node of run.nodes) await fetchedEventually(node, ["joined"], []);
      await host.control({ op: "emitter", action: "serverSideEmit", ev: "sse", args: ["e", 1] });
      for (const node of run.nodes) {
        assert.deepEqual(await observedEventually(node, 1), [
          { nsp: "/", ev: "sse", args: ["e", 1] },
        ]);
      }
      const reasons = [a0, a1].map((c) => within(next<string>(c, "disconnect"), '"disconnect"'));
      await host.control({ op: "emitter", action: "disconnectSockets", rooms: ["a"] });
      assert.deepEqual(await Promise.all(reasons), [
        "io server disconnect",
        "io server disconnect",
      ]);
      assert.equal(await ask(b0, "echo", "still"), "still");
      assert.equal(await ask(b1, "echo", "still"), "still");
    },
  },
];
