/**
 * The conformance app (../app.ts) on a `node:http` server through the Node entry, as a user
 * ports it from npm `socket.io`; built for Node by tests/helpers/node.ts. Prints `PORT <n>` once
 * listening on 127.0.0.1; when its stdin closes, `io.close()` closes the HTTP server too and
 * Node exits by itself.
 */
import { createServer } from "node:http";
import { setImmediate } from "node:timers";
import process from "node:process";
import { Server } from "../../../node/mod.ts";
import { OPTIONS, setup } from "../app.ts";

const httpServer = createServer();
const io = new Server(httpServer, OPTIONS);
setup(io);
httpServer.listen(0, "127.0.0.1", () => {
  const { port } = httpServer.address() as { port: number };
  process.stdout.write(`PORT ${port}\n`);
});

process.stdin.resume();
process.stdin.on("end", async () => {
  const closed = io.close();
  // io.close() closes every session, then the HTTP server, whose close() waits for every
  // connection, also one a client opened and never used (Deno's fetch pools one when a request
  // is aborted while it connects), which Node ends only at its headersTimeout. Once the server
  // stops listening, no session is left on any connection: end them all.
  while (httpServer.listening) await new Promise((resolve) => setImmediate(resolve));
  httpServer.closeAllConnections();
  await closed;
  process.stdin.pause();
});
