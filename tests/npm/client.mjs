// Our client from the installed npm package, under Node, Bun or Deno, as a user writes it.
// Usage: client.mjs <url> <transport>... [--ws]: for each transport, connects, emits `echo` with
// an ack and prints the answer as a line of JSON. `--ws` passes npm `ws` as the `WebSocket`
// option (Node 20 has no global WebSocket).
import process from "node:process";
import { io } from "@socketio-edge/core/client";

const args = process.argv.slice(2);
const url = args.shift();
const options = args.includes("--ws") ? { WebSocket: (await import("ws")).WebSocket } : {};
for (const transport of args.filter((arg) => arg !== "--ws")) {
  const socket = io(url, {
    transports: [transport],
    forceNew: true,
    reconnection: false,
    ...options,
  });
  const answer = await socket.timeout(10_000).emitWithAck("echo", "hi", { n: 1 });
  process.stdout.write(JSON.stringify(answer) + "\n");
  socket.disconnect();
}
