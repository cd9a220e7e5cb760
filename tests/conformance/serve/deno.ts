/**
 * The conformance app (../app.ts) under `Deno.serve`, as a user writes it. Prints `PORT <n>` once
 * listening on 127.0.0.1; closes the server and exits when its stdin closes.
 */
import { Server } from "../../../mod.ts";
import { OPTIONS, setup } from "../app.ts";

const io = new Server(OPTIONS);
setup(io);
const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler());
console.log(`PORT ${server.addr.port}`);

for await (const _ of Deno.stdin.readable) {
  // runs until the test closes stdin
}
await io.close();
await server.shutdown();
