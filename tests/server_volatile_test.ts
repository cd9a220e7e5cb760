/**
 * Volatile packets against the official `socket.io-client@4.8.4`, over polling and WebSocket: a
 * volatile packet is dropped while the connection cannot take it at once (a packet ahead of it
 * still on its way), as the official server's volatile tests expect.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import type { Socket } from "../mod.ts";
import { type ClientSocket, Fixture, next, writable } from "./helpers/socketio.ts";

/** Polling and WebSocket, the transports of the official server's volatile tests. */
const TRANSPORTS = ["polling", "websocket"] as const;

/** Runs `fn` with a connected pair, once per transport. */
function test(name: string, fn: (client: ClientSocket, socket: Socket) => Promise<void>): void {
  for (const mode of TRANSPORTS) {
    Deno.test(`${name} [${mode}]`, async () => {
      const fx = new Fixture(mode);
      try {
        const [client, socket] = await fx.pair();
        await fn(client, socket);
      } finally {
        await fx.close();
      }
    });
  }
}

/**
 * How many `ev` the client receives from what `act` sends: `act` ends with a regular `end`
 * packet, and packets arrive in order, so once `end` came everything before it did.
 */
async function count(client: ClientSocket, act: () => void): Promise<number> {
  let n = 0;
  client.on("ev", () => n++);
  const end = next(client, "end");
  act();
  await end;
  return n;
}

test("a volatile packet right after a regular one is dropped", async (client, socket) => {
  await writable(socket);
  const n = await count(client, () => {
    socket.emit("ev", "data");
    socket.volatile.emit("ev", "data");
    socket.emit("end");
  });
  assert.equal(n, 1);
});

test("a volatile packet on an idle connection is sent", async (client, socket) => {
  await writable(socket);
  const n = await count(client, () => {
    socket.volatile.emit("ev", "data");
    socket.emit("end");
  });
  assert.equal(n, 1);
});

test("of two consecutive volatile packets only the first is sent", async (client, socket) => {
  await writable(socket);
  const n = await count(client, () => {
    socket.volatile.emit("ev", "data");
    socket.volatile.emit("ev", "data");
    socket.emit("end");
  });
  assert.equal(n, 1);
});

test(
  "of two consecutive volatile binary packets only the first is sent",
  async (client, socket) => {
    await writable(socket);
    const got = new Promise<Uint8Array>((resolve) => client.once("ev", resolve));
    const n = await count(client, () => {
      socket.volatile.emit("ev", Buffer.from([1, 2, 3]));
      socket.volatile.emit("ev", Buffer.from([4, 5, 6]));
      socket.emit("end");
    });
    assert.equal(n, 1);
    // The first one, whole: its attachment went out with it.
    assert.deepEqual([...new Uint8Array(await got)], [1, 2, 3]);
  },
);

test(
  "of two consecutive volatile binary broadcasts only the first is sent",
  async (client, socket) => {
    await writable(socket);
    const io = socket.server;
    const n = await count(client, () => {
      io.volatile.emit("ev", Buffer.from([1, 2, 3]));
      io.volatile.emit("ev", Buffer.from([4, 5, 6]));
      io.emit("end");
    });
    assert.equal(n, 1);
  },
);

test("regular packets still go after a dropped volatile one", async (client, socket) => {
  await writable(socket);
  const n = await count(client, () => {
    socket.emit("ev", "data");
    socket.volatile.emit("ev", "data");
    socket.emit("ev", "data");
    socket.emit("end");
  });
  assert.equal(n, 2);
});

test("the connection is writable again once the packets ahead left", async (client, socket) => {
  await writable(socket);
  socket.emit("ev", "first");
  assert.equal(socket.conn.writable, false);
  assert.equal(await next(client, "ev"), "first");
  await writable(socket);
  const n = await count(client, () => {
    socket.volatile.emit("ev", "data");
    socket.emit("end");
  });
  assert.equal(n, 1);
});
