/**
 * Drop-in: one script written for npm `socket.io-client` gives the same log with our client as
 * with the official one (only `io` differs), against our server and the official server.
 */
import assert from "node:assert/strict";
import { io as officialIo } from "socket.io-client";
import { io } from "../client/mod.ts";
import { type Io, script } from "./fixtures/client_script.ts";
import { delay, startOfficial, startOurs, track } from "./fixtures/client_env.ts";

for (const transports of [["polling"], ["websocket"], ["polling", "websocket"]] as const) {
  const name = transports.join("+");
  Deno.test(`client drop-in: a socket.io-client script, same log (${name})`, async () => {
    const target = await startOurs();
    const official = await startOfficial();
    const tracker = track();
    try {
      const expected = await script(officialIo, target.url, [...transports]);
      // The official client's sockets are not tracked: wait for the server to see them go.
      while (target.server!.engine.clientsCount) await delay(5);
      assert.deepEqual(await script(io as unknown as Io, target.url, [...transports]), expected);
      assert.deepEqual(
        await script(io as unknown as Io, official.url, [...transports]),
        expected,
      );
      await tracker.drained();
    } finally {
      tracker.restore();
      await target.close();
      await official.close();
      await delay(5);
    }
  });
}
