// Our server under Bun (`Bun.serve`) or Deno (`Deno.serve`) from the installed npm package, as a
// user writes it. Prints "PORT <n>" once listening; stops when stdin closes.
import process from "node:process";
import { Server } from "@socketio-edge/core";
import { onConnection } from "./app.mjs";

const io = new Server();
io.on("connection", onConnection);
let stop;
if (typeof Bun !== "undefined") {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, ...io.handler() });
  process.stdout.write(`PORT ${server.port}\n`);
  stop = () => server.stop(true);
} else {
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => process.stdout.write(`PORT ${port}\n`),
  }, io.handler());
  stop = () => server.shutdown();
}
process.stdin.on("end", async () => {
  await io.close();
  await stop();
}).resume();
