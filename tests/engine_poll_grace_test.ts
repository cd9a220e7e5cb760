/**
 * A held poll is answered and watched for its client going away however long it waits: on Deno
 * it waits its first 50-100 ms unwatched (its grace) and is streamed after, and both ways must
 * carry packets and notice an aborted poll.
 */
import assert from "node:assert/strict";
import {
  closeOf,
  delay,
  handshake,
  nextConnection,
  pollingUrl,
  startEngine,
} from "./helpers/engine.ts";

for (const wait of [0, 20, 250]) {
  Deno.test(`a poll held ${wait} ms gets the packet sent then`, async () => {
    const f = startEngine();
    try {
      const connected = nextConnection(f.engine);
      const { sid } = await handshake(f.base);
      const socket = await connected;
      const pending = fetch(pollingUrl(f.base, sid)).then((res) => res.text());
      await delay(wait);
      socket.send("late");
      assert.equal(await pending, "4late");
    } finally {
      await f.close();
    }
  });

  Deno.test(`a poll aborted after ${wait} ms closes the session`, async () => {
    const f = startEngine();
    try {
      const connected = nextConnection(f.engine);
      const { sid } = await handshake(f.base);
      const socket = await connected;
      const closed = closeOf(socket);
      const abort = new AbortController();
      const pending = fetch(pollingUrl(f.base, sid), { signal: abort.signal })
        .then((res) => res.text());
      await delay(wait);
      abort.abort();
      await assert.rejects(pending);
      assert.deepEqual(await closed, ["transport error", "poll connection closed prematurely"]);
      assert.equal(f.engine.clientsCount, 0);
    } finally {
      await f.close();
    }
  });
}
