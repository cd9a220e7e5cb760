/**
 * The BroadcastChannel adapter across Workers: our server in each (Deno Workers, and Bun Workers
 * of one Bun process), official socket.io-client clients on each node, every cluster operation
 * observed from the clients or from the other nodes.
 */
import assert from "node:assert/strict";
import {
  type Cluster,
  type ClusterNode,
  startBunCluster,
  startDenoCluster,
} from "./helpers/cluster.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  next,
  nextArgs,
  officialClient,
  receivedDuring,
  settle,
  within,
} from "./helpers/socketio.ts";

type Start = (count: number, options?: Record<string, unknown>) => Promise<Cluster | undefined>;

interface Client {
  socket: ClientSocket;
  label: string;
}

/** Connects an official client to `node` over `transport`, in `rooms`, with `data`. */
async function client(
  node: ClusterNode,
  label: string,
  transport: "websocket" | "polling",
  rooms: string[],
  clients: ClientSocket[],
): Promise<Client> {
  const socket = officialClient(node.url, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    auth: { rooms, data: { label } },
  });
  clients.push(socket);
  await connected(socket);
  return { socket, label };
}

/** The labels of `clients` that got "msg" while `act` ran (`act` ends with a "marker"). */
async function receivers(all: Client[], act: () => void, markers = all): Promise<string[]> {
  const got = await receivedDuring(
    all.map((c) => c.socket),
    act,
    markers.map((c) => c.socket),
  );
  return got.map((entry) => all[Number(entry.split(":")[0])].label).sort();
}

interface Fetched {
  id: string;
  remote: boolean;
  auth: { rooms: string[]; data: { label: string } };
  address: string;
  rooms: string[];
  data: { label: string };
}

function clusterTests(runtime: string, start: Start): void {
  Deno.test(`BroadcastChannel cluster of ${runtime} workers: every operation across nodes`, async (t) => {
    const cluster = await start(2);
    if (cluster === undefined) {
      console.log(`SKIPPED: no ${runtime} to run the workers`);
      return;
    }
    const [a, b] = cluster.nodes;
    const sockets: ClientSocket[] = [];
    try {
      const a1 = await client(a, "a1", "websocket", ["r1"], sockets);
      const a2 = await client(a, "a2", "polling", ["r2"], sockets);
      const b1 = await client(b, "b1", "websocket", ["r1"], sockets);
      const b2 = await client(b, "b2", "polling", ["r2", "muted"], sockets);
      const all = [a1, a2, b1, b2];
      // Emits `msg` with `opts` from `node`, then a marker to everyone.
      const emitted = (node: ClusterNode, opts: Record<string, unknown>, markers = all) =>
        receivers(all, () => {
          void node.call("emit", { event: "msg", args: ["hi"], ...opts });
          void node.call("emit", { event: "marker" });
        }, markers);

      await t.step("serverCount counts both nodes", async () => {
        assert.equal(await a.call("serverCount"), 2);
        assert.equal(await b.call("serverCount"), 2);
      });

      await t.step("broadcasts: to all, to a room, with except, volatile, local", async () => {
        assert.deepEqual(await emitted(a, {}), ["a1", "a2", "b1", "b2"]);
        assert.deepEqual(await emitted(b, { rooms: ["r1"] }), ["a1", "b1"]);
        assert.deepEqual(await emitted(a, { except: ["muted"] }), ["a1", "a2", "b1"]);
        assert.deepEqual(await emitted(b, { rooms: ["r2"], except: ["muted"] }), ["a2"]);
        // Volatile to the WebSocket clients, idle and so writable.
        assert.deepEqual(await emitted(a, { rooms: ["r1"], volatile: true }), ["a1", "b1"]);
        // A local broadcast stays on its node: the marker (to all) shows b's clients got none.
        assert.deepEqual(await emitted(a, { local: true }), ["a1", "a2"]);
      });

      await t.step("binary payloads cross as they are", async () => {
        const got = all.map((c) => nextArgs<[string, ArrayBuffer | Uint8Array]>(c.socket, "bin"));
        await a.call("emit", { event: "bin", args: ["bytes"], binary: [0, 1, 2, 255] });
        for (const [text, bytes] of await within(Promise.all(got), "binary broadcast")) {
          assert.equal(text, "bytes");
          assert.deepEqual([...new Uint8Array(bytes as ArrayBuffer)], [0, 1, 2, 255]);
        }
      });

      await t.step(
        "a broadcast with acks gets every client's answer, from both nodes",
        async () => {
          for (const c of all) {
            c.socket.on("ask", (q: string, ack: (a: string) => void) => ack(`${c.label}:${q}`));
          }
          const answer = await b.call<{ ok: string[] }>("emitWithAck", {
            event: "ask",
            args: ["q"],
            timeout: 5_000,
          });
          assert.deepEqual(answer.ok.sort(), ["a1:q", "a2:q", "b1:q", "b2:q"]);
          const inRoom = await a.call<{ ok: string[] }>("emitWithAck", {
            event: "ask",
            args: ["r"],
            rooms: ["r2"],
            timeout: 5_000,
          });
          assert.deepEqual(inRoom.ok.sort(), ["a2:r", "b2:r"]);
        },
      );

      await t.step("a broadcast with acks times out with the answers so far", async () => {
        for (const c of [a1, a2, b1]) {
          c.socket.on("ask2", (ack: (a: string) => void) => ack(c.label));
        }
        b2.socket.on("ask2", () => {}); // never answers
        const answer = await a.call<{ error: string; responses: string[] }>("emitWithAck", {
          event: "ask2",
          timeout: 2_000,
        });
        assert.equal(answer.error, "operation has timed out");
        assert.deepEqual(answer.responses.sort(), ["a1", "a2", "b1"]);
      });

      await t.step("fetchSockets: local Sockets and RemoteSockets with their details", async () => {
        const found = await a.call<Fetched[]>("fetchSockets");
        const byLabel = Object.fromEntries(found.map((s) => [s.data.label, s]));
        assert.deepEqual(Object.keys(byLabel).sort(), ["a1", "a2", "b1", "b2"]);
        for (const label of ["a1", "a2"]) assert.equal(byLabel[label].remote, false);
        for (const label of ["b1", "b2"]) assert.equal(byLabel[label].remote, true);
        const remote = byLabel.b2;
        assert.equal(remote.id, b2.socket.id);
        assert.deepEqual(remote.auth, { rooms: ["r2", "muted"], data: { label: "b2" } });
        assert.equal(remote.address, "127.0.0.1");
        assert.deepEqual(remote.rooms, [b2.socket.id!, "muted", "r2"].sort());
        const inRoom = await b.call<Fetched[]>("fetchSockets", { rooms: ["r1"] });
        assert.deepEqual(inRoom.map((s) => s.data.label).sort(), ["a1", "b1"]);
        const except = await b.call<Fetched[]>("fetchSockets", { except: ["r1"] });
        assert.deepEqual(except.map((s) => s.data.label).sort(), ["a2", "b2"]);
      });

      await t.step("a RemoteSocket's emit, emitWithAck, join, leave and disconnect", async () => {
        const [remote] = await a.call<Fetched[]>("fetchSockets", { rooms: [b1.socket.id] });
        assert.equal(remote.remote, true);
        const direct = next(b1.socket, "direct");
        await a.call("remote", { id: remote.id, op: "emit", event: "direct", args: ["for b1"] });
        assert.equal(await within(direct, "remote emit"), "for b1");

        b1.socket.on("ping", (ack: (a: string) => void) => ack("pong"));
        const acked = await a.call<{ ok: string }>("remote", {
          id: remote.id,
          op: "emitWithAck",
          event: "ping",
          ms: 5_000,
        });
        assert.deepEqual(acked, { ok: "pong" });

        await a.call("remote", { id: remote.id, op: "join", room: "vip" });
        assert.deepEqual(await emitted(a, { rooms: ["vip"] }), ["b1"]);
        await a.call("remote", { id: remote.id, op: "leave", room: "vip" });
        assert.deepEqual(await emitted(a, { rooms: ["vip"] }), []);

        const gone = next(b1.socket, "disconnect");
        await a.call("remote", { id: remote.id, op: "disconnect" });
        assert.equal(await within(gone, "remote disconnect"), "io server disconnect");
        const left = await b.call<Fetched[]>("fetchSockets");
        assert.deepEqual(left.map((s) => s.data.label).sort(), ["a1", "a2", "b2"]);
      });

      await t.step("socketsJoin, socketsLeave and disconnectSockets across nodes", async () => {
        const rest = [a1, a2, b2];
        // Messages of one node reach the others in order: the join, then the broadcast.
        await a.call("socketsJoin", { rooms: ["r2"], join: ["j"] });
        const joined = await receivers(rest, () => {
          void a.call("emit", { event: "msg", rooms: ["j"] });
          void a.call("emit", { event: "marker" });
        });
        assert.deepEqual(joined, ["a2", "b2"]);
        await b.call("socketsLeave", { rooms: ["j"], leave: ["j"] });
        const afterLeave = await receivers(rest, () => {
          void b.call("emit", { event: "msg", rooms: ["j"] });
          void b.call("emit", { event: "marker" });
        });
        assert.deepEqual(afterLeave, []);
        const gone = next(b2.socket, "disconnect");
        await a.call("disconnectSockets", { rooms: ["muted"] });
        assert.equal(await within(gone, "disconnectSockets"), "io server disconnect");
        assert.equal(a1.socket.connected && a2.socket.connected, true);
      });

      await t.step("serverSideEmit, with and without acks", async () => {
        const greeted = b.nextEvent("greet");
        await a.call("serverSideEmit", { event: "greet", args: ["hello", { n: 1 }] });
        assert.deepEqual(await greeted, ["hello", { n: 1 }]);
        assert.deepEqual(
          await a.call("serverSideEmitWithAck", { event: "question", args: ["q"] }),
          {
            ok: ["b:q"],
          },
        );
        assert.deepEqual(
          await b.call("serverSideEmitWithAck", { event: "question", args: ["r"] }),
          {
            ok: ["a:r"],
          },
        );
      });
    } finally {
      await closeClients(sockets);
      await cluster.stop();
      await settle();
    }
  });

  Deno.test(`BroadcastChannel cluster of ${runtime} workers: nodes that stop`, async (t) => {
    const cluster = await start(3);
    if (cluster === undefined) {
      console.log(`SKIPPED: no ${runtime} to run the workers`);
      return;
    }
    const [a, b, c] = cluster.nodes;
    const sockets: ClientSocket[] = [];
    try {
      const a1 = await client(a, "a1", "websocket", [], sockets);
      await client(b, "b1", "websocket", [], sockets);
      const c1 = await client(c, "c1", "websocket", [], sockets);
      a1.socket.on("ask", (ack: (x: string) => void) => ack("a1"));
      c1.socket.on("ask", (ack: (x: string) => void) => ack("c1"));

      await t.step(
        "a node that crashes: requests are answered once its heartbeats stop",
        async () => {
          assert.equal(await a.call("serverCount"), 3);
          const closed = next(c1.socket, "disconnect");
          c.terminate();
          await within(closed, "the crashed node's client disconnecting");
          // Waits for c until c counts as gone (2 s without heartbeat), never for ever.
          const found = await a.call<Fetched[]>("fetchSockets");
          assert.deepEqual(found.map((s) => s.data.label).sort(), ["a1", "b1"]);
          assert.equal(await a.call("serverCount"), 2);
          assert.deepEqual(
            await b.call("serverSideEmitWithAck", { event: "question", args: ["q"] }),
            {
              ok: ["a:q"],
            },
          );
        },
      );

      await t.step("a node that closes says goodbye: it is not waited for", async () => {
        await b.close();
        // b's goodbye reaches a by the channel, this test's commands by another way: the
        // request goes first, as it is answered whether or not a heard the goodbye already
        // (at the latest when b's heartbeats are found missing).
        assert.deepEqual(
          await a.call("serverSideEmitWithAck", { event: "question", args: ["q"] }),
          {
            ok: [],
          },
        );
        assert.equal(await a.call("serverCount"), 1);
        const found = await a.call<Fetched[]>("fetchSockets");
        assert.deepEqual(found.map((s) => s.data.label), ["a1"]);
      });
    } finally {
      await closeClients(sockets);
      await cluster.stop();
      await settle();
    }
  });

  Deno.test(`BroadcastChannel cluster of ${runtime} workers: requestsTimeout before a crash is noticed`, async () => {
    // Heartbeats time out after 20 s: requests give up first, after 500 ms, as officially.
    const cluster = await start(3, { heartbeatTimeout: 20_000, requestsTimeout: 500 });
    if (cluster === undefined) {
      console.log(`SKIPPED: no ${runtime} to run the workers`);
      return;
    }
    const [a, b, c] = cluster.nodes;
    const sockets: ClientSocket[] = [];
    try {
      const a1 = await client(a, "a1", "websocket", [], sockets);
      const b1 = await client(b, "b1", "websocket", [], sockets);
      const c1 = await client(c, "c1", "websocket", [], sockets);
      a1.socket.on("ask", (ack: (x: string) => void) => ack("a1"));
      b1.socket.on("ask", (ack: (x: string) => void) => ack("b1"));
      const closed = next(c1.socket, "disconnect");
      c.terminate();
      await within(closed, "the crashed node's client disconnecting");
      const fetched = await a.call<{ error: string }>("fetchError");
      assert.equal(fetched.error, "timeout reached: missing 1 responses");
      assert.deepEqual(await a.call("serverSideEmitWithAck", { event: "question", args: ["q"] }), {
        error: "timeout reached: missing 1 responses",
        responses: ["b:q"],
      });
      // A broadcast with acks waits for c's count until its timeout: the answers so far.
      const answer = await a.call<{ error: string; responses: string[] }>("emitWithAck", {
        event: "ask",
        timeout: 2_000,
      });
      assert.equal(answer.error, "operation has timed out");
      assert.deepEqual(answer.responses.sort(), ["a1", "b1"]);
      // b closes and says goodbye: a's requests stop waiting for b (but still for c).
      await b.close();
      assert.deepEqual(await a.call("serverSideEmitWithAck", { event: "question", args: ["q"] }), {
        error: "timeout reached: missing 1 responses",
        responses: [],
      });
    } finally {
      await closeClients(sockets);
      await cluster.stop();
      await settle();
    }
  });
}

clusterTests("Deno", startDenoCluster);
clusterTests("Bun", startBunCluster);
// Node b runs the official socket.io server with the official ClusterAdapterWithHeartbeat.
clusterTests(
  "Deno (b: the official server)",
  (n, o) => startDenoCluster(n, o, ["ours", "official", "ours"]),
);
