/**
 * What the server does with a client breaking the Socket.IO protocol, and with packets that
 * follow a leave in one payload, read on the wire over raw long-polling and WebSocket: the
 * answers of the official server, byte for byte (its `test/close.ts` "protocol violations").
 */
import assert from "node:assert/strict";
import type { Socket } from "../mod.ts";
import { handshake, poll, post } from "./helpers/engine.ts";
import { RawServer, rawTest } from "./helpers/raw_server.ts";

const SID = "[A-Za-z0-9_-]{20}";

/** A server on a free port that tells which socket connects next. */
class Harness extends RawServer {
  /** The next socket to connect to `/`. */
  nextSocket(): Promise<Socket> {
    return new Promise((resolve) => this.io.once("connection", resolve));
  }
}

function test(name: string, fn: (h: Harness) => Promise<void>): void {
  rawTest(name, () => new Harness(), fn);
}

/** Resolves with the reason of `socket`'s disconnect. */
function disconnectOf(socket: Socket): Promise<string> {
  return new Promise((resolve) => socket.once("disconnect", resolve));
}

/** A polling session joined to `/`, its CONNECT answer read. */
async function joined(h: Harness): Promise<[string, Socket]> {
  const socket = h.nextSocket();
  const { sid } = await handshake(h.base);
  await post(h.base, sid, "40");
  assert.match(await poll(h.base, sid), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  return [sid, await socket];
}

// --- Protocol violations over polling: the session closes cleanly -------------------------

test("polling: a second CONNECT for a joined namespace: the CONNECT answer, then 6\\x1e1", async (h) => {
  const reason = h.nextSocket().then(disconnectOf);
  const { sid } = await handshake(h.base);
  await post(h.base, sid, "40");
  await post(h.base, sid, "40");
  assert.match(await poll(h.base, sid), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  assert.equal(await poll(h.base, sid), "6\x1e1");
  assert.equal(await reason, "forced server close");
  assert.equal(h.io.engine.clientsCount, 0);
});

test("polling: an EVENT before any CONNECT is answered 6\\x1e1", async (h) => {
  const { sid } = await handshake(h.base);
  await post(h.base, sid, '42["some event"]');
  assert.equal(await poll(h.base, sid), "6\x1e1");
  assert.equal(h.io.engine.clientsCount, 0);
});

test("polling: an invalid packet: the CONNECT answer still goes, then 6\\x1e1", async (h) => {
  const errors: string[] = [];
  const reason = h.nextSocket().then((s) => {
    s.on("error", (err) => errors.push(err.message));
    return disconnectOf(s);
  });
  const { sid } = await handshake(h.base);
  await post(h.base, sid, "40");
  await post(h.base, sid, "4abc");
  assert.equal(errors.length, 1);
  assert.match(await poll(h.base, sid), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  assert.equal(await poll(h.base, sid), "6\x1e1");
  // The socket stays until the close went out; its reason is then the engine's, as official.
  assert.equal(await reason, "forced close");
  assert.equal(h.io.engine.clientsCount, 0);
});

test("polling: an invalid packet right after the CONNECT in one payload: only 6\\x1e1", async (h) => {
  let connected = false;
  h.io.on("connection", () => (connected = true));
  const { sid } = await handshake(h.base);
  await post(h.base, sid, "40\x1e4abc");
  // The connection closed before the namespace took the socket: no CONNECT answer.
  assert.equal(await poll(h.base, sid), "6\x1e1");
  assert.equal(connected, false);
});

test("polling: an invalid packet while a poll waits: that poll gets the close", async (h) => {
  const [sid, s] = await joined(h);
  const reason = disconnectOf(s);
  const errors: unknown[] = [];
  s.on("error", (err) => errors.push(err));
  const pending = poll(h.base, sid);
  // The poll reaches the server before the POST: a payload answers it only then.
  while (!s.conn.writable) await new Promise((r) => setTimeout(r, 5));
  await post(h.base, sid, "4abc");
  assert.equal(await pending, "1");
  assert.equal(await reason, "forced close");
  assert.equal(errors.length, 1);
  assert.equal(h.io.engine.clientsCount, 0);
});

test("polling: a DISCONNECT for a namespace not joined closes", async (h) => {
  const { sid } = await handshake(h.base);
  await post(h.base, sid, "41");
  assert.equal(await poll(h.base, sid), "6\x1e1");
});

// --- Packets after a leave, in the same payload ---------------------------------------------

test("polling: an EVENT after the DISCONNECT in one payload is ignored; the connection stays", async (h) => {
  const [sid, s] = await joined(h);
  const seen: string[] = [];
  s.on("ev", () => seen.push("ev"));
  s.onAny(() => seen.push("any"));
  const reason = disconnectOf(s);
  assert.equal((await post(h.base, sid, '41\x1e42["ev"]')).body, "ok");
  assert.equal(await reason, "client namespace disconnect");
  // Still open: joining again works on the same session.
  const again = h.nextSocket();
  await post(h.base, sid, "40");
  assert.match(await poll(h.base, sid), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  const other = await again;
  const got = new Promise((resolve) => other.once("ev", resolve));
  await post(h.base, sid, '42["ev",2]');
  assert.equal(await got, 2);
  assert.deepEqual(seen, []);
});

test("polling: a CONNECT right after the DISCONNECT in one payload closes", async (h) => {
  const [sid, s] = await joined(h);
  const reason = disconnectOf(s);
  await post(h.base, sid, "41\x1e40");
  assert.equal(await reason, "client namespace disconnect");
  assert.equal(await poll(h.base, sid), "6\x1e1");
  assert.equal(h.io.engine.clientsCount, 0);
});

test("polling: after a server-side disconnect in a listener, the payload's rest is ignored", async (h) => {
  const [sid, s] = await joined(h);
  const seen: unknown[] = [];
  s.on("bye", () => s.disconnect());
  s.on("ev", (n) => seen.push(n));
  const reason = disconnectOf(s);
  await post(h.base, sid, '42["ev",1]\x1e42["bye"]\x1e42["ev",2]');
  assert.equal(await reason, "server namespace disconnect");
  assert.equal(await poll(h.base, sid), "41");
  assert.deepEqual(seen, [1]);
  // Still open.
  await post(h.base, sid, "40");
  assert.match(await poll(h.base, sid), new RegExp(`^40\\{"sid":"${SID}"\\}$`));
});

// --- The same over WebSocket -------------------------------------------------------------

test("websocket: an invalid packet closes after what was sent; the reason is forced close", async (h) => {
  const socket = h.nextSocket();
  const ws = await h.ws();
  ws.send("40");
  assert.match(await ws.next() as string, new RegExp(`^40\\{"sid":"${SID}"\\}$`));
  const s = await socket;
  const reason = disconnectOf(s);
  const errors: unknown[] = [];
  s.on("error", (err) => errors.push(err));
  ws.send("4abc");
  await ws.closed;
  assert.equal(await reason, "forced close");
  assert.equal(errors.length, 1);
});

test("websocket: an EVENT before any CONNECT closes", async (h) => {
  const ws = await h.ws();
  ws.send('42["some event"]');
  await ws.closed;
  assert.deepEqual(ws.pending, []);
});

test("websocket: an EVENT after the DISCONNECT is not delivered", async (h) => {
  const socket = h.nextSocket();
  const ws = await h.ws();
  ws.send("40");
  await ws.next();
  const s = await socket;
  const seen: string[] = [];
  s.on("ev", () => seen.push("ev"));
  s.onAny(() => seen.push("any"));
  const reason = disconnectOf(s);
  ws.send("41");
  ws.send('42["ev"]');
  assert.equal(await reason, "client namespace disconnect");
  // Frames are read one at a time: the EVENT finds no socket, and the connection closes, as
  // the official server does when the two frames reach it apart.
  await ws.closed;
  assert.deepEqual(seen, []);
});
