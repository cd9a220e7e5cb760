// Our server under Node from the installed npm package, as a user writes it: `new Server(httpServer)`
// from `@socketio-edge/core/node`. Prints "PORT <n>" once listening; when stdin closes,
// `io.close()` closes the HTTP server too and Node exits by itself.
import { createServer } from "node:http";
import process from "node:process";
import { Server } from "@socketio-edge/core/node";
import { onConnection } from "./app.mjs";

const httpServer = createServer();
const io = new Server(httpServer);
io.on("connection", onConnection);
httpServer.listen(0, "127.0.0.1", () => {
  process.stdout.write(`PORT ${httpServer.address().port}\n`);
});
process.stdin.on("end", () => io.close()).resume();
