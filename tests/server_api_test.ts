/**
 * The `io` API ported code relies on beyond events: `io.adapter()`, and `io.close()` followed by
 * serving the server again (the official `io.close(); io.listen(port)`), over each transport mode.
 */
import assert from "node:assert/strict";
import { InMemoryAdapter, Server, SessionAwareAdapter } from "../mod.ts";
import { post, request } from "./helpers/engine.ts";
import { serve } from "./helpers/serve.ts";
import {
  type ClientSocket,
  connected,
  eachMode,
  MODES,
  next,
  officialClient,
  settle,
} from "./helpers/socketio.ts";

Deno.test("io.adapter() gives the adapter class", () => {
  assert.equal(new Server().adapter(), InMemoryAdapter);
  const recovering = new Server({ connectionStateRecovery: {} }).adapter();
  assert.ok(recovering.prototype instanceof SessionAwareAdapter);
  class Custom extends InMemoryAdapter {}
  assert.equal(new Server({ adapter: Custom }).adapter(), Custom);
});

eachMode("io.adapter(Class) replaces every namespace's adapter, rooms kept", async (fx) => {
  const made: string[] = [];
  class Counting extends InMemoryAdapter {
    constructor(nsp: ConstructorParameters<typeof InMemoryAdapter>[0]) {
      super(nsp);
      made.push(nsp.name);
    }
  }
  const [client, socket] = await fx.pair();
  socket.join("room");
  assert.equal(fx.io.adapter(Counting), fx.io, "returns the server, for chaining");
  assert.equal(fx.io.adapter(), Counting);
  assert.ok(fx.io.sockets.adapter instanceof Counting);
  assert.deepEqual(made, ["/"]);
  // Namespaces created afterwards get it too.
  assert.ok(fx.io.of("/later").adapter instanceof Counting);
  assert.deepEqual(made, ["/", "/later"]);
  // The connected socket is still in its rooms: broadcasts reach it.
  assert.deepEqual([...socket.rooms].sort(), [socket.id, "room"].sort());
  const got = next(client, "news");
  fx.io.to("room").emit("news", "still here");
  assert.equal(await got, "still here");
  assert.throws(() => fx.io.adapter("redis" as never), TypeError);
});

/** Client options of a transport mode, reconnecting fast. */
function clientOptions(mode: (typeof MODES)[number]) {
  const transports = mode === "polling"
    ? ["polling"]
    : mode === "websocket"
    ? ["websocket"]
    : ["polling", "websocket"];
  return {
    transports,
    forceNew: true,
    reconnectionDelay: 20,
    reconnectionDelayMax: 20,
    randomizationFactor: 0,
  };
}

for (const mode of MODES) {
  Deno.test(`io.close(), then serving io.handler() again: clients come back [${mode}]`, async () => {
    const io = new Server();
    io.on("connection", (socket) => {
      socket.on("ev", (data: unknown, ack: (v: unknown) => void) => ack(data));
    });
    let http = serve(io.handler());
    const port = http.port;
    const client: ClientSocket = officialClient(`http://127.0.0.1:${port}`, clientOptions(mode));
    try {
      await connected(client);
      const gone = next(client, "disconnect");
      await io.close();
      await gone;
      await http.close();

      // As `io.listen(port)` after `io.close()` on the official server.
      const reconnected = next(client.io, "reconnect");
      http = serve(io.handler(), port);
      const base = `${http.origin}/socket.io/`;
      const res = await request(`${base}?EIO=4&transport=polling`);
      assert.equal(res.status, 200, `a handshake after the restart: ${res.body}`);
      await post(base, JSON.parse(res.body.slice(1)).sid, "1");
      await reconnected;
      assert.equal(await client.emitWithAck("ev", "payload"), "payload");
    } finally {
      client.io.reconnection(false);
      const engine = client.io.engine;
      const closed = engine && engine.readyState !== "closed" ? next(engine, "close") : undefined;
      client.disconnect();
      await closed;
      await io.close();
      await http.close();
      await settle();
    }
  });
}

Deno.test("a closed server refuses handshakes until its handler is asked for again", async () => {
  const io = new Server();
  const http = serve(io.handler());
  const base = `${http.origin}/socket.io/`;
  try {
    await io.close();
    const refused = await request(`${base}?EIO=4&transport=polling`);
    assert.equal(refused.status, 400);
    io.handler();
    const res = await request(`${base}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    await post(base, JSON.parse(res.body.slice(1)).sid, "1");
  } finally {
    await io.close();
    await http.close();
  }
});
