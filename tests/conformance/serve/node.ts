/**
 * The conformance app (../app.ts) on a `node:http` server through the Node entry, as a user
 * ports it from npm `socket.io`; built for Node by tests/helpers/node.ts. Prints `PORT <n>` once
 * listening on 127.0.0.1; when its stdin closes, `io.close()` closes the HTTP server too and
 * Node exits by itself.
 */
import { createServer } from "node:http";
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
  await io.close();
  process.stdin.pause();
});
