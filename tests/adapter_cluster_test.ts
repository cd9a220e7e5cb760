/**
 * The cluster adapter base (adapter/cluster/) in one process: what goes on the wire (one message
 * per broadcast, none for local operations, the official message objects), messages that are not
 * ours, a node that speaks the protocol by hand, and the base without heartbeats. (The mixed
 * cluster with the official server and adapter is in tests/adapter_broadcast_channel_test.ts.)
 */
import assert from "node:assert/strict";
import { type AdapterConstructor, type AdapterNamespace, Server } from "../mod.ts";
import {
  BroadcastChannelAdapter,
  ClusterAdapter,
  type ClusterMessage,
  type ClusterResponse,
  MessageType,
} from "../adapter/cluster/mod.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  delay,
  next,
  officialClient,
  receivedDuring,
  settle,
  within,
} from "./helpers/socketio.ts";
import { serve, type TestServer } from "./helpers/serve.ts";

const TIMINGS = { heartbeatInterval: 200, heartbeatTimeout: 1_000, requestsTimeout: 5_000 };

/** Our server on a free port with `adapter`, and how to close both. */
function node(adapter: AdapterConstructor): { io: Server; http: TestServer; url: string } {
  const io = new Server({ adapter });
  io.on("connection", (socket) => {
    const { rooms, data } = socket.handshake.auth as { rooms?: string[]; data?: unknown };
    if (rooms) socket.join(rooms);
    socket.data = data;
  });
  const http = serve(io.handler());
  return { io, http, url: http.origin };
}

async function client(
  url: string,
  label: string,
  rooms: string[],
  clients: ClientSocket[],
): Promise<ClientSocket> {
  const socket = officialClient(url, {
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    auth: { rooms, data: { label } },
  });
  clients.push(socket);
  await connected(socket);
  return socket;
}

/** Waits until `count()` is `n` (the nodes' heartbeats went round). */
async function counted(count: () => Promise<number>, n: number): Promise<void> {
  await within(
    (async () => {
      while ((await count()) !== n) await delay(10);
    })(),
    `${n} servers counted`,
  );
}

Deno.test("one message per broadcast whatever the number of nodes and receivers; none for local operations", async () => {
  const channel = `test-${crypto.randomUUID()}`;
  const published: ClusterMessage[] = [];
  class Recording extends BroadcastChannelAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, { channel, ...TIMINGS });
    }
    protected override doPublish(message: ClusterMessage): Promise<undefined> {
      published.push(message);
      return super.doPublish(message);
    }
  }
  const nodes = [node(Recording), node(Recording), node(Recording)];
  const clients: ClientSocket[] = [];
  try {
    for (const [i, n] of nodes.entries()) {
      for (const j of [0, 1]) await client(n.url, `${i}${j}`, ["r"], clients);
    }
    for (const n of nodes) await counted(() => n.io.of("/").adapter.serverCount(), 3);
    const [a] = nodes;
    const uid = (a.io.of("/").adapter as Recording).uid;
    const sent = () => published.filter((m) => m.uid === uid && m.type !== MessageType.HEARTBEAT);
    published.length = 0;

    const got = await receivedDuring(clients, () => {
      a.io.to("r").emit("msg", "hi");
      a.io.emit("marker");
    });
    assert.equal(got.length, 6);
    assert.deepEqual(sent().map((m) => m.type), [MessageType.BROADCAST, MessageType.BROADCAST]);
    // The official message object, keys in the official order (what msgpack encodes).
    const [message] = sent();
    assert.deepEqual(Object.keys(message), ["type", "data", "uid", "nsp"]);
    assert.deepEqual(message, {
      type: MessageType.BROADCAST,
      data: {
        packet: { type: 2, data: ["msg", "hi"] },
        opts: { rooms: ["r"], except: [], flags: {} },
      },
      uid,
      nsp: "/",
    });
    assert.deepEqual(Object.keys(message.data!), ["packet", "opts"]);

    published.length = 0;
    const local = await receivedDuring(clients, () => {
      a.io.local.emit("msg", "local");
      a.io.local.socketsJoin("x");
      a.io.local.socketsLeave("x");
      a.io.emit("marker");
    });
    assert.deepEqual(local, ["0:local", "1:local"]);
    assert.equal((await a.io.local.fetchSockets()).length, 2);
    assert.deepEqual(sent().map((m) => m.type), [MessageType.BROADCAST], "only the marker");

    published.length = 0;
    const acks = clients.map((c) => c.on("ask", (ack: (x: number) => void) => ack(1)));
    assert.equal(acks.length, 6);
    assert.deepEqual(await a.io.timeout(5_000).emitWithAck("ask"), [1, 1, 1, 1, 1, 1]);
    const [withAck] = sent();
    assert.deepEqual(Object.keys(withAck.data!), ["packet", "requestId", "opts"]);
    assert.deepEqual(sent().length, 1);
  } finally {
    await closeClients(clients);
    for (const n of nodes) {
      await n.io.close();
      await n.http.close();
    }
    await settle();
  }
});

Deno.test("messages that are not well-formed are ignored; the emitter's are delivered, and it is no node", async () => {
  const channel = `test-${crypto.randomUUID()}`;
  const ours = node(
    class extends BroadcastChannelAdapter {
      constructor(nsp: AdapterNamespace) {
        super(nsp, { channel, ...TIMINGS });
      }
    },
  );
  const raw = new BroadcastChannel(`${channel}#/#`);
  const clients: ClientSocket[] = [];
  try {
    const c = await client(ours.url, "c", ["r"], clients);
    for (
      const junk of [
        null,
        "text",
        42,
        [],
        { type: MessageType.BROADCAST },
        { uid: "x", nsp: "/", type: MessageType.BROADCAST, data: { opts: 5, packet: {} } },
        { uid: "x", nsp: "/", type: MessageType.BROADCAST, data: { opts: { rooms: [] } } },
        { uid: "x", nsp: "/", type: MessageType.SOCKETS_JOIN, data: { opts: {}, rooms: "r" } },
        { uid: "x", nsp: "/", type: MessageType.FETCH_SOCKETS, data: { opts: {} } },
        { uid: "x", nsp: "/", type: MessageType.SERVER_SIDE_EMIT, data: { packet: "no" } },
        { uid: "x", nsp: "/", type: MessageType.BROADCAST_ACK, data: {} },
        { uid: "x", nsp: "/", type: 99, data: {} },
      ]
    ) raw.postMessage(junk);
    // The official emitter's broadcast (uid "emitter") reaches the room.
    const fromEmitter = next(c, "news");
    raw.postMessage({
      type: MessageType.BROADCAST,
      data: {
        packet: { type: 2, data: ["news", "from the emitter"] },
        opts: { rooms: ["r"], except: [], flags: {} },
      },
      uid: "emitter",
      nsp: "/",
    });
    assert.equal(await within(fromEmitter, "the emitter's broadcast"), "from the emitter");
    // Every junk sender but "emitter" counts as a node ("x" sent well-formed headers).
    assert.equal(await ours.io.of("/").adapter.serverCount(), 2);
    assert.equal(c.connected, true);
  } finally {
    raw.close();
    await closeClients(clients);
    await ours.io.close();
    await ours.http.close();
    await settle();
  }
});

Deno.test("requests wait for exactly the live nodes; close() answers what is pending", async () => {
  const channel = `test-${crypto.randomUUID()}`;
  const ours = node(
    class extends BroadcastChannelAdapter {
      constructor(nsp: AdapterNamespace) {
        super(nsp, { channel, ...TIMINGS, heartbeatTimeout: 60_000 });
      }
    },
  );
  // A node written by hand, speaking the official protocol on the channel.
  const ghost = new BroadcastChannel(`${channel}#/#`);
  const requests: ClusterMessage[] = [];
  const heard: ClusterMessage[] = [];
  ghost.onmessage = (event: MessageEvent) => {
    const message = event.data as ClusterMessage;
    heard.push(message);
    if (
      message.type === MessageType.FETCH_SOCKETS || message.type === MessageType.SERVER_SIDE_EMIT
    ) {
      requests.push(message);
    }
  };
  const nextRequest = () =>
    within(
      (async () => {
        while (requests.length === 0) await delay(5);
        return requests.shift()!;
      })(),
      "a request on the channel",
    );
  const clients: ClientSocket[] = [];
  try {
    await client(ours.url, "c", [], clients);
    ghost.postMessage({ type: MessageType.INITIAL_HEARTBEAT, uid: "ghost", nsp: "/" });
    await counted(() => ours.io.of("/").adapter.serverCount(), 2);
    // Our node answered the ghost's INITIAL_HEARTBEAT with a HEARTBEAT.
    assert.equal(heard.some((m) => m.type === MessageType.HEARTBEAT), true);

    // The ghost answers: its socket comes back as a RemoteSocket.
    const fetching = ours.io.fetchSockets();
    const request = await nextRequest();
    const answer: ClusterResponse = {
      type: MessageType.FETCH_SOCKETS_RESPONSE,
      data: {
        requestId: (request.data as { requestId: string }).requestId,
        sockets: [{
          id: "g1",
          handshake: {
            headers: {},
            time: "",
            address: "10.0.0.1",
            xdomain: false,
            secure: false,
            issued: 0,
            url: "/",
            query: {},
            auth: {},
          },
          rooms: ["g1", "ghost-room"],
          data: { ghost: true },
        }],
      },
      uid: "ghost",
      nsp: "/",
    };
    ghost.postMessage(answer);
    // A second answer of the same node is no answer of another one.
    ghost.postMessage(answer);
    const sockets = await fetching;
    assert.equal(sockets.length, 2);
    const g1 = sockets.find((s) => s.id === "g1")!;
    assert.deepEqual([g1.handshake.address, [...g1.rooms], g1.data], [
      "10.0.0.1",
      ["g1", "ghost-room"],
      { ghost: true },
    ]);

    // The ghost leaves while a request waits for it: the request is answered with what it has.
    const waiting = ours.io.serverSideEmitWithAck("question");
    await nextRequest();
    ghost.postMessage({ type: MessageType.ADAPTER_CLOSE, uid: "ghost", nsp: "/" });
    assert.deepEqual(await waiting, []);
    assert.equal(await ours.io.of("/").adapter.serverCount(), 1);

    // It comes back and stays silent: closing the server answers the pending requests at once.
    ghost.postMessage({ type: MessageType.HEARTBEAT, uid: "ghost", nsp: "/" });
    await counted(() => ours.io.of("/").adapter.serverCount(), 2);
    const pendingFetch = ours.io.fetchSockets();
    const pendingEmit = ours.io.serverSideEmitWithAck("question");
    await nextRequest();
    await nextRequest();
    await closeClients(clients);
    await ours.io.close();
    await assert.rejects(pendingFetch, /the adapter was closed/);
    await assert.rejects(pendingEmit, /the adapter was closed/);
  } finally {
    ghost.close();
    await closeClients(clients);
    await ours.io.close();
    await ours.http.close();
    await settle();
  }
});

Deno.test("ClusterAdapter without heartbeats: requests count the answers of serverCount() - 1 nodes", async () => {
  const bus = new Set<BusAdapter>();
  let servers = 2;
  let counting: Error | undefined;
  class BusAdapter extends ClusterAdapter {
    constructor(nsp: AdapterNamespace) {
      // The official count-based errors (our partial answers off; see partial_responses_test).
      super(nsp, { requestsTimeout: 300, partialResponses: false });
      bus.add(this);
    }
    protected doPublish(message: ClusterMessage): Promise<undefined> {
      for (const n of bus) if (n !== this) n.onMessage(structuredClone(message));
      return Promise.resolve(undefined);
    }
    protected doPublishResponse(_uid: string, response: ClusterResponse): Promise<void> {
      for (const n of bus) if (n !== this) n.onResponse(structuredClone(response));
      return Promise.resolve();
    }
    override serverCount(): Promise<number> {
      return counting ? Promise.reject(counting) : Promise.resolve(servers);
    }
    override close(): void {
      bus.delete(this);
      super.close();
    }
  }
  const a = node(BusAdapter);
  const b = node(BusAdapter);
  const clients: ClientSocket[] = [];
  try {
    const a1 = await client(a.url, "a1", [], clients);
    const b1 = await client(b.url, "b1", [], clients);
    assert.deepEqual((await a.io.fetchSockets()).map((s) => s.id).sort(), [a1.id, b1.id].sort());
    b.io.of("/").on("question", (cb: (x: string) => void) => cb("b"));
    assert.deepEqual(await a.io.serverSideEmitWithAck("question"), ["b"]);
    for (const c of [a1, b1]) {
      c.on("ask", (ack: (x: string) => void) => ack(c === a1 ? "a1" : "b1"));
    }
    assert.deepEqual((await a.io.timeout(5_000).emitWithAck("ask")).sort(), ["a1", "b1"]);
    // One server more than answer: the official count-based timeout errors.
    servers = 3;
    await assert.rejects(
      a.io.fetchSockets(),
      /^Error: timeout reached: only 1 responses received out of 2$/,
    );
    const err = await a.io.serverSideEmitWithAck("question").catch((e) => e);
    assert.equal(err.message, "timeout reached: only 1 responses received out of 2");
    assert.deepEqual(err.responses, ["b"]);

    // The nodes cannot be counted (a transport down): errors where the app awaits, no crash.
    counting = new Error("transport down");
    const reported: unknown[] = [];
    const onError = (event: ErrorEvent) => {
      event.preventDefault();
      reported.push(event.error);
    };
    addEventListener("error", onError);
    try {
      await assert.rejects(a.io.fetchSockets(), /transport down/);
      await assert.rejects(a.io.serverSideEmitWithAck("question"), /transport down/);
      const partial = await a.io.timeout(2_000).emitWithAck("ask").catch((e) => e);
      assert.equal(partial.message, "operation has timed out");
      assert.deepEqual(partial.responses.sort(), ["a1", "b1"]);
      assert.deepEqual(reported, [counting]);
    } finally {
      removeEventListener("error", onError);
      counting = undefined;
    }
  } finally {
    await closeClients(clients);
    for (const n of [a, b]) {
      await n.io.close();
      await n.http.close();
    }
    await settle();
  }
});
