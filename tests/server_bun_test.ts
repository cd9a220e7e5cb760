/**
 * The Socket.IO server under `Bun.serve`, with the same `io.handler()`: the official client
 * (`socket.io-client@4.8.4`, run by Deno) against tests/fixtures/bun_socketio.ts, over polling,
 * WebSocket and the upgrade. Bun comes from npm when it is not installed; without it the test
 * prints SKIPPED.
 */
import assert from "node:assert/strict";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import { WsClient } from "./helpers/raw.ts";
import {
  type ClientOptions,
  type ClientSocket,
  connected,
  delay,
  MODES,
  next,
  nextArgs,
  officialClient,
  settle,
  upgraded,
} from "./helpers/socketio.ts";

const FIXTURE = new URL("./fixtures/bun_socketio.ts", import.meta.url).pathname;

/** A test against the Bun fixture, skipped with a message where Bun cannot be had. */
function bunTest(name: string, fn: (url: string, t: Deno.TestContext) => Promise<void>): void {
  Deno.test(`Socket.IO on Bun: ${name}`, async (t) => {
    const bun = await findBun();
    if (!bun) {
      console.log("SKIPPED: bun not installed and could not be installed from npm");
      return;
    }
    const server = await startBunFixture(bun, FIXTURE);
    try {
      await fn(`http://127.0.0.1:${server.port}`, t);
    } finally {
      const out = await server.stop();
      assert.doesNotMatch(out, /error/i, out);
    }
  });
}

/** Disconnects the clients and waits until each of their connections is closed. */
async function closeAll(clients: ClientSocket[]): Promise<void> {
  const engines = new Set(clients.map((c) => c.io.engine));
  const closed = [...engines].filter((e) => e && e.readyState !== "closed")
    .map((e) => next(e, "close"));
  for (const c of clients) c.disconnect();
  for (const e of engines) e?.close();
  await Promise.all(closed);
  await settle();
}

bunTest("the official client over polling, websocket and upgrade", async (url, t) => {
  for (const mode of MODES) {
    await t.step(mode, async () => {
      const transports = mode === "polling"
        ? ["polling"]
        : mode === "websocket"
        ? ["websocket"]
        : ["polling", "websocket"];
      const clients: ClientSocket[] = [];
      const open = (nsp = "/", opts: ClientOptions = {}) => {
        const c = officialClient(url + nsp, {
          transports,
          forceNew: true,
          reconnection: false,
          ...opts,
        });
        clients.push(c);
        return c;
      };
      try {
        const a = open();
        const [id, transport] = await nextArgs<[string, string]>(a, "welcome");
        assert.equal(id, a.id);
        assert.equal(transport, mode === "websocket" ? "websocket" : "polling");
        if (mode === "upgrade") await upgraded(a);

        // Acks both ways, mixed and binary arguments.
        const echoed = await a.timeout(2000).emitWithAck(
          "echo",
          "text",
          { n: 1 },
          new Uint8Array([1, 2, 3]),
        );
        assert.equal(echoed, "text");
        const all = await new Promise<unknown[]>((resolve) =>
          a.emit("echo", "x", new Uint8Array([9, 8]), (...args: unknown[]) => resolve(args))
        );
        assert.equal(all[0], "x");
        assert.deepEqual([...new Uint8Array(all[1] as ArrayBuffer)], [9, 8]);
        a.once("question", (_q: string, ack: (answer: string) => void) => ack("42"));
        a.emit("ask-me");
        assert.equal(await next(a, "answered"), "42");

        // Rooms and broadcasts between two clients.
        const b = open();
        await connected(b);
        await a.timeout(2000).emitWithAck("join", "r1");
        const roomMsg = next(a, "room-msg");
        b.emit("to-room", "r1", "hello room");
        assert.equal(await roomMsg, "hello room");
        const got = Promise.all([next(a, "bcast"), next(b, "bcast")]);
        b.emit("broadcast", { p: 1 });
        assert.deepEqual(await got, [{ p: 1 }, { p: 1 }]);

        // Namespaces on one connection, middleware errors with data.
        const denied = open("/admin", { forceNew: false, auth: { token: "no" } });
        const err = await next<Error & { data?: unknown }>(denied, "connect_error");
        assert.equal(err.message, "not authorized");
        assert.deepEqual(err.data, { code: 42 });
        const admin = officialClient(url + "/admin", { auth: { token: "ok" } });
        clients.push(admin);
        await next(admin, "admin-welcome");

        // Heartbeats keep the session (pingInterval 300 ms on the server).
        await delay(800);
        assert.ok(a.connected);

        // A server-side disconnect reaches the client with the official reason.
        const reason = next(a, "disconnect");
        a.emit("disconnect-me");
        assert.equal(await reason, "io server disconnect");
      } finally {
        await closeAll(clients);
      }
    });
  }
});

bunTest("namespace broadcasts go through Bun's publish, once each, in order", async (url) => {
  const clients: ClientSocket[] = [];
  const open = (transports: string[], nsp = "/", forceNew = true) => {
    const c = officialClient(url + nsp, { transports, forceNew, reconnection: false });
    clients.push(c);
    return c;
  };
  const seqs = (c: ClientSocket) => {
    const got: number[] = [];
    c.on("seq", (n: number) => got.push(n));
    return got;
  };
  try {
    const polling = open(["polling"]);
    const ws = open(["websocket"]);
    const upgrading = open(["polling", "websocket"]);
    await Promise.all([connected(polling), connected(ws), connected(upgrading)]);
    await upgraded(upgrading);
    // Sockets on a WebSocket subscribe (after the upgrade, for the upgraded one); polling not.
    const published = (c: ClientSocket) => c.timeout(2000).emitWithAck("published?");
    assert.deepEqual(
      [await published(polling), await published(ws), await published(upgrading)],
      [false, true, true],
    );

    const got = [seqs(polling), seqs(ws), seqs(upgrading)];
    ws.emit("order");
    for (let t = 0; t < 200 && got.some((g, i) => g.length < (i === 1 ? 4 : 2)); t++) {
      await delay(10);
    }
    await delay(200); // nothing more may come: no receiver gets a broadcast twice
    assert.deepEqual(got, [[2, 4], [1, 2, 3, 4], [2, 4]]);
    // socket.broadcast from a subscribed socket, then from a polling one: never to the sender.
    const until = async (ok: () => boolean) => {
      for (let t = 0; t < 200 && !ok(); t++) await delay(10);
    };
    ws.emit("others");
    await until(() => got[0].length === 3 && got[1].length === 6 && got[2].length === 3);
    polling.emit("others");
    await until(() => got[0].length === 5 && got[1].length === 7 && got[2].length === 4);
    await delay(200);
    assert.deepEqual(got, [[2, 4, 6, 5, 7], [1, 2, 3, 4, 5, 7, 6], [2, 4, 6, 6]]);

    // Rooms: io.to(room) and socket.to(room), from subscribed and polling senders, and leave.
    const outsider = open(["websocket"]);
    await connected(outsider);
    const roomMsgs = [polling, ws, upgrading, outsider].map((c) => {
      const msgs: string[] = [];
      c.on("room-msg", (m: string) => msgs.push(m));
      return msgs;
    });
    for (const c of [polling, ws, upgrading]) await c.timeout(2000).emitWithAck("join", "r");
    const settled = async (counts: number[]) => {
      await until(() => roomMsgs.every((m, i) => m.length >= counts[i]));
      await delay(150);
    };
    ws.emit("room-all", "r", "a");
    await settled([1, 1, 1, 0]);
    polling.emit("to-room", "r", "b");
    await settled([1, 2, 2, 0]);
    ws.emit("to-room", "r", "c");
    await settled([2, 2, 3, 0]);
    await upgrading.timeout(2000).emitWithAck("leave", "r");
    ws.emit("room-all", "r", "d");
    await settled([3, 3, 3, 0]);
    assert.deepEqual(roomMsgs, [["a", "c", "d"], ["a", "b", "d"], ["a", "b", "c"], []]);

    // A second namespace on the same WebSocket has its own topic.
    const chat = open(["websocket"], "/chat", false);
    await connected(chat);
    assert.equal(await published(chat), true);
    const chats: number[] = [];
    chat.on("chat", (n: number) => chats.push(n));
    const rootChats: number[] = [];
    ws.on("chat", (n: number) => rootChats.push(n));
    ws.emit("chat-all", 7);
    for (let t = 0; t < 200 && chats.length < 1; t++) await delay(10);
    await delay(100);
    assert.deepEqual(chats, [7]);
    assert.deepEqual(rootChats, []);
    // Left and joined again: still once.
    chat.disconnect();
    await delay(100);
    chat.connect();
    await connected(chat);
    ws.emit("chat-all", 8);
    for (let t = 0; t < 200 && chats.length < 2; t++) await delay(10);
    await delay(100);
    assert.deepEqual(chats, [7, 8]);
  } finally {
    await closeAll(clients);
  }
});

bunTest("a room joined on polling reaches the socket once after the upgrade", async (url) => {
  const clients: ClientSocket[] = [];
  try {
    // Joined at connection, on polling; then upgraded: its room's broadcasts come by Bun's
    // publish, once.
    const early = officialClient(url, { forceNew: true, reconnection: false, auth: { room: "e" } });
    const sender = officialClient(url, { forceNew: true, reconnection: false });
    clients.push(early, sender);
    await Promise.all([connected(early), connected(sender)]);
    await upgraded(early);
    assert.equal(await early.timeout(2000).emitWithAck("published?"), true);
    const msgs: string[] = [];
    early.on("room-msg", (m: string) => msgs.push(m));
    sender.emit("room-all", "e", "one");
    for (let t = 0; t < 200 && msgs.length < 1; t++) await delay(10);
    // Its own sends ride the same WebSocket, after the broadcast: nothing more came before.
    assert.deepEqual(await early.timeout(2000).emitWithAck("echo", "after"), "after");
    assert.deepEqual(msgs, ["one"]);
    // left: no more of the room's broadcasts, by publish or otherwise.
    await early.timeout(2000).emitWithAck("leave", "e");
    sender.emit("room-all", "e", "two");
    sender.emit("broadcast", "everyone");
    assert.equal(await next(early, "bcast"), "everyone");
    assert.deepEqual(msgs, ["one"]);
  } finally {
    await closeAll(clients);
  }
});

bunTest("a namespace left on a connection that stays gets none of its broadcasts", async (url) => {
  const sender = officialClient(url, { forceNew: true, reconnection: false });
  // A raw client, which sees every frame: the official client drops packets of a namespace it
  // left, so it could not tell.
  const raw = new WsClient(`${url.replace(/^http/, "ws")}/socket.io/?EIO=4&transport=websocket`);
  // The next text frame but pings, which it answers (the fixture pings every 300 ms).
  const text = async (): Promise<string> => {
    for (;;) {
      const frame = String(await raw.next());
      if (frame !== "2") return frame;
      raw.send("3");
    }
  };
  try {
    await connected(sender);
    assert.match(await text(), /^0\{/);
    raw.send("40");
    assert.match(await text(), /^40\{"sid"/);
    assert.match(await text(), /^42\["welcome"/);
    raw.send("40/chat,");
    assert.match(await text(), /^40\/chat,\{"sid"/);
    raw.send('42/chat,1["join","r"]');
    assert.equal(await text(), "43/chat,1[]");
    raw.send('42/chat,2["published?"]');
    assert.equal(await text(), "43/chat,2[true]");
    await sender.timeout(2000).emitWithAck("chat-room", "r", 1);
    assert.equal(await text(), '42/chat,["chat",1]');

    raw.send("41/chat,");
    // Whatever the server sends after this echo's answer comes after it on the WebSocket.
    raw.send('423["echo","left"]');
    assert.equal(await text(), '433["left"]');
    await sender.timeout(2000).emitWithAck("chat-room", "r", 2);
    sender.emit("chat-all", 3);
    await sender.timeout(2000).emitWithAck("echo", "sent");
    raw.send('424["echo","last"]');
    assert.equal(await text(), '434["last"]');
    assert.deepEqual(raw.pending.filter((f) => f !== "2"), []);
  } finally {
    sender.disconnect();
    await raw.close();
    await closeAll([sender]);
  }
});
