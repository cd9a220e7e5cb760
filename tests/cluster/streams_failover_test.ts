/**
 * Connection state recovery when a node dies or restarts, on the Redis Streams adapter: nodes of
 * ours (Deno and Bun) behind a load balancer with no stickiness, 200 clients (half the official
 * socket.io-client, half ours) over WebSocket, numbered broadcasts flowing from a live node.
 *
 * - kill -9 of the node all the clients are on: it never ran its disconnect path, so their
 *   sessions are what it checkpointed while they were connected; each client comes back
 *   through the balancer to another node, recovered, with its id, rooms and data, and gets
 *   every message once, in order (0 lost, 0 duplicated);
 * - the same without connection state recovery, for comparison: what the clients miss while they
 *   reconnect is lost (the figure is printed, not asserted: it depends on timing);
 * - a rolling restart of every node, one by one, under the flow: every client stays or comes
 *   back, recovered, and gets every message once, in order.
 *
 * @module
 */
import assert from "node:assert/strict";
import { redisTest } from "../helpers/redis.ts";
import { settle, within } from "../helpers/socketio.ts";
import { TcpBalancer } from "../helpers/tcp_balancer.ts";
import {
  allReceived,
  closeAll,
  connectClients,
  type Counted,
  Flow,
  spread,
  streamOrder,
  tally,
} from "./failover.ts";
import { type ClusterNode, type NodeRuntime, startNode, unavailable } from "./nodes.ts";

const RECOVERY = { connectionStateRecovery: { maxDisconnectionDuration: 30_000 } };
const CLIENTS = 200;

function config(name: string, redisUrl: string, recovery: boolean) {
  return {
    name,
    adapter: "streams",
    client: "node-redis" as const,
    redisUrl,
    serverOptions: recovery ? RECOVERY : {},
  };
}

function portOf(node: ClusterNode): number {
  return Number(new URL(node.url).port);
}

/** Waits (bounded) until every node counts `count` servers. */
async function serversSeen(nodes: ClusterNode[], count: number): Promise<void> {
  for (const node of nodes) {
    await within(
      (async () => {
        while ((await node.control({ op: "serverCount" })).count !== count) {
          await new Promise((r) => setTimeout(r, 20));
        }
      })(),
      `${count} servers seen by ${node.name}`,
    );
  }
}

/** Waits (bounded) until every client is connected. */
async function allConnected(clients: readonly Counted[]): Promise<void> {
  while (clients.some((c) => !c.socket.connected)) await new Promise((r) => setTimeout(r, 20));
}

/** The runtimes of the two nodes: the one killed on Deno, the one that lives on Bun if here. */
async function runtimes(): Promise<[NodeRuntime, NodeRuntime]> {
  return [
    "deno",
    await unavailable("bun") ? "deno" : "bun",
  ];
}

for (const recovery of [true, false]) {
  redisTest(
    `streams failover: kill -9 of the node of ${CLIENTS} clients while messages flow ` +
      (recovery ? "(recovered: 0 lost, 0 duplicated)" : "(without recovery, for comparison)"),
    async (redis) => {
      const [doomed, survivor] = await runtimes();
      const nodes: ClusterNode[] = [];
      let balancer: TcpBalancer | undefined;
      let clients: Counted[] = [];
      let flow: Flow | undefined;
      try {
        const a = await startNode(doomed, config(`${doomed}-a`, redis.url, recovery));
        nodes.push(a);
        const b = await startNode(survivor, config(`${survivor}-b`, redis.url, recovery));
        nodes.push(b);
        await serversSeen(nodes, 2);
        balancer = new TcpBalancer([portOf(a)]);
        clients = await within(connectClients(balancer, CLIENTS), `${CLIENTS} connections`, 30_000);
        // A first message gives each client an offset to come back with.
        flow = new Flow(() => b);
        await within(flow.reach(1), "the first message");
        await within(allReceived(clients, [0]), "the first message on every client");
        await within(flow.reach(100), "100 messages");

        // The node dies without a word; new connections go to the live node.
        balancer.targets = [portOf(a), portOf(b)];
        const killedAt = performance.now();
        await a.kill();
        await within(flow.reach(flow.sent + 200), "200 messages more", 30_000);
        await within(allConnected(clients), "every client back", 30_000);
        const sent = await flow.stop();
        flow = undefined;
        const order = await streamOrder(redis.url);
        assert.equal(order.length, sent);
        // Bounded: what did not come shows in the counts asserted below.
        if (recovery) {
          await within(allReceived(clients, order), "every message", 30_000).catch(() => {});
        } else await new Promise((r) => setTimeout(r, 500));

        const counts = tally(clients, order);
        const back = spread(clients.map((c) => (c.reconnections[0]?.at ?? killedAt) - killedAt));
        const recovered = clients.filter((c) => c.reconnections[0]?.recovered).length;
        console.log(
          `${recovery ? "with" : "WITHOUT"} recovery, ${doomed} node killed, ${survivor} lives: ` +
            `${sent} messages sent, ${counts.delivered}/${counts.expected} delivered ` +
            `(${(100 * counts.delivered / counts.expected).toFixed(2)}%), ` +
            `${counts.lost} lost, ${counts.duplicated} duplicated, ${counts.outOfOrder} out of ` +
            `order; ${recovered}/${CLIENTS} recovered; back after ${back.median} ms (median), ` +
            `${back.max} ms (max)`,
        );
        for (const c of clients) assert.equal(c.reconnections.length, 1, "one reconnection each");
        if (!recovery) return;

        assert.deepEqual(counts, {
          expected: counts.expected,
          delivered: counts.expected,
          lost: 0,
          duplicated: 0,
          outOfOrder: 0,
        });
        for (const c of clients) {
          assert.deepEqual(c.got, c.expected(order));
          assert.deepEqual(c.reconnections[0], {
            ...c.reconnections[0],
            recovered: true,
            sameId: true,
          });
        }
        // Rooms and data restored (the app no longer gets them from the client's auth).
        const answers = await within(
          Promise.all(clients.map((c) => c.socket.emitWithAck("whoami"))),
          "whoami of every client",
        ) as { node: string; id: string; rooms: string[]; data: unknown }[];
        answers.forEach((me, i) => {
          const c = clients[i];
          assert.equal(me.node, b.name);
          assert.equal(me.id, c.firstId);
          assert.deepEqual(me.rooms.sort(), [c.firstId, c.inNews ? "news" : "other"].sort());
          assert.deepEqual(me.data, { index: i });
        });
      } finally {
        await flow?.stop().catch(() => {});
        await closeAll(clients);
        await settle();
        await balancer?.close();
        for (const node of nodes.reverse()) await node.stop();
      }
    },
  );
}

redisTest(
  "streams failover: a rolling restart of every node under a flow of messages " +
    "(0 lost, 0 duplicated, every client back)",
  async (redis) => {
    const bun = !await unavailable("bun");
    const kinds: NodeRuntime[] = ["deno", bun ? "bun" : "deno", "deno"];
    const nodes: ClusterNode[] = [];
    const all: ClusterNode[] = [];
    let balancer: TcpBalancer | undefined;
    let clients: Counted[] = [];
    let flow: Flow | undefined;
    let generation = 0;
    const start = async (runtime: NodeRuntime) => {
      const node = await startNode(
        runtime,
        config(`${runtime}-${generation++}`, redis.url, true),
      );
      all.push(node);
      return node;
    };
    try {
      for (const runtime of kinds) nodes.push(await start(runtime));
      await serversSeen(nodes, nodes.length);
      balancer = new TcpBalancer(nodes.map(portOf));
      clients = await within(connectClients(balancer, 60), "60 connections", 30_000);
      // The flow goes through a node that is not restarting at that moment.
      let restarting: ClusterNode | undefined;
      let turn = 0;
      flow = new Flow(() => {
        const live = nodes.filter((n) => n !== restarting);
        return live[turn++ % live.length];
      });
      await within(flow.reach(1), "the first message");
      await within(allReceived(clients, [0]), "the first message on every client");
      for (let i = 0; i < nodes.length; i++) {
        await within(flow.reach(flow.sent + 50), "50 messages", 30_000);
        const old = nodes[i];
        restarting = old;
        balancer.targets = nodes.filter((n) => n !== old).map(portOf);
        await old.stop(); // its stdin closes: io.close(), as on SIGTERM
        const fresh = await start(old.runtime);
        nodes[i] = fresh;
        restarting = undefined;
        balancer.targets = nodes.map(portOf);
        await serversSeen(nodes, nodes.length);
        await within(allConnected(clients), "every client back", 30_000);
      }
      await within(flow.reach(flow.sent + 50), "50 messages", 30_000);
      const sent = await flow.stop();
      flow = undefined;
      const order = await streamOrder(redis.url);
      assert.equal(order.length, sent);
      // Bounded: what did not come shows in the counts asserted below.
      await within(allReceived(clients, order), "every message", 30_000).catch(() => {});
      const counts = tally(clients, order);
      const reconnections = clients.reduce((n, c) => n + c.reconnections.length, 0);
      console.log(
        `rolling restart of ${nodes.length} nodes (${kinds.join(", ")}): ${sent} messages sent, ` +
          `${counts.delivered}/${counts.expected} delivered, ${counts.lost} lost, ` +
          `${counts.duplicated} duplicated; ${reconnections} reconnections, ` +
          `${clients.filter((c) => !c.socket.connected).length} clients left disconnected`,
      );
      assert.deepEqual(counts, {
        expected: counts.expected,
        delivered: counts.expected,
        lost: 0,
        duplicated: 0,
        outOfOrder: 0,
      });
      for (const c of clients) {
        assert.ok(c.socket.connected);
        assert.ok(c.reconnections.length >= 1, "each client's node restarted once");
        for (const r of c.reconnections) {
          assert.deepEqual(r, { ...r, recovered: true, sameId: true });
        }
        assert.deepEqual(c.got, c.expected(order));
      }
    } finally {
      await flow?.stop().catch(() => {});
      await closeAll(clients);
      await settle();
      await balancer?.close();
      for (const node of all.reverse()) await node.stop().catch(() => {});
    }
  },
);
