/**
 * Connection state recovery on the wire, with hand-written packets: the packets a client missed
 * come before the CONNECT answer, in the order the official server sends them. (The official
 * client's side, `recovered` and the missed events, is in `server_interop_test.ts`.)
 */
import assert from "node:assert/strict";
import type { ExtendedError } from "../mod.ts";
import { handshake, poll, post } from "./helpers/engine.ts";
import { RawServer, rawTest } from "./helpers/raw_server.ts";

/** A server with recovery on, whose sockets join "news". */
class Harness extends RawServer {
  constructor(skipMiddlewares: boolean) {
    super({ connectionStateRecovery: { skipMiddlewares } });
    this.io.on("connection", (socket) => socket.join("news"));
  }

  /**
   * A session that joined, got one broadcast (its offset), then dropped its WebSocket; two
   * broadcasts follow while it is away.
   */
  async missed(): Promise<{ sid: string; pid: string; offset: string }> {
    const ws = await this.ws();
    const gone = new Promise((resolve) =>
      this.io.once("connection", (s) => s.once("disconnect", resolve))
    );
    ws.send("40");
    const { sid, pid } = JSON.parse((await ws.next() as string).slice(2));
    this.io.to("news").emit("news", 0);
    const first = JSON.parse((await ws.next() as string).slice(2));
    await ws.close();
    assert.equal(await gone, "transport close");
    this.io.to("news").emit("news", 1);
    this.io.emit("news", 2);
    return { sid, pid, offset: first[first.length - 1] };
  }
}

function test(name: string, fn: (h: Harness) => Promise<void>, skipMiddlewares = true): void {
  rawTest(name, () => new Harness(skipMiddlewares), fn);
}

/** Each packet as its event name and first argument when an EVENT, else as it is. */
function summary(packets: string[]): unknown[] {
  return packets.map((p) => (p.startsWith("42") ? JSON.parse(p.slice(2)).slice(0, 2) : p));
}

test("websocket: the missed packets come before the CONNECT answer", async (h) => {
  const { sid, pid, offset } = await h.missed();
  const ws = await h.ws();
  ws.send("40" + JSON.stringify({ pid, offset }));
  const frames = [await ws.next(), await ws.next(), await ws.next()] as string[];
  assert.deepEqual(summary(frames), [
    ["news", 1],
    ["news", 2],
    `40{"sid":"${sid}","pid":"${pid}"}`,
  ]);
});

test("polling: the missed packets come before the CONNECT answer", async (h) => {
  const { sid, pid, offset } = await h.missed();
  const session = await handshake(h.base);
  await post(h.base, session.sid, "40" + JSON.stringify({ pid, offset }));
  const packets: string[] = [];
  while (packets.length < 3) packets.push(...(await poll(h.base, session.sid)).split("\x1e"));
  assert.deepEqual(summary(packets), [
    ["news", 1],
    ["news", 2],
    `40{"sid":"${sid}","pid":"${pid}"}`,
  ]);
});

test(
  "a restored session refused by a middleware still gets its missed packets first",
  async (h) => {
    h.io.use((socket, next) => {
      if (!socket.recovered) return next();
      const err: ExtendedError = new Error("not any more");
      next(err);
    });
    const { pid, offset } = await h.missed();
    const ws = await h.ws();
    ws.send("40" + JSON.stringify({ pid, offset }));
    const frames = [await ws.next(), await ws.next(), await ws.next()] as string[];
    assert.deepEqual(summary(frames), [["news", 1], ["news", 2], '44{"message":"not any more"}']);
  },
  false,
);
