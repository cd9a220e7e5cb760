/**
 * The BroadcastChannel adapter across Workers, what is its own: our server in each (Deno
 * Workers, and Bun Workers of one Bun process; one node the official server with the official
 * `ClusterAdapterWithHeartbeat`), official socket.io-client clients on each node. A node that
 * crashes is found out by its missing heartbeats, one that closes says goodbye, and requests
 * give up after `requestsTimeout` before a crash is noticed. Every cluster operation across
 * nodes (broadcasts, acks, fetchSockets, RemoteSocket, socketsJoin/Leave, disconnectSockets,
 * serverSideEmit, a node stopping or killed) is a shared scenario, run on the same three kinds
 * of clusters by cluster/broadcast_channel_test.ts.
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
  officialClient,
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

interface Fetched {
  id: string;
  remote: boolean;
  auth: { rooms: string[]; data: { label: string } };
  address: string;
  rooms: string[];
  data: { label: string };
}

function clusterTests(runtime: string, start: Start): void {
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
    // Heartbeats time out after 20 s: requests give up first, after 500 ms, as officially (our
    // partial answers off: tests/cluster/partial_responses_test.ts has them).
    const cluster = await start(3, {
      heartbeatTimeout: 20_000,
      requestsTimeout: 500,
      partialResponses: false,
    });
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
