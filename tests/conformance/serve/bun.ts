/**
 * The conformance app (../app.ts) under `Bun.serve`, as a user writes it. Prints `PORT <n>` once
 * listening on 127.0.0.1; closes the server and exits when its stdin closes.
 */
import { Server } from "../../../mod.ts";
import { OPTIONS, setup } from "../app.ts";

// Just what this script uses of Bun's globals, so that `deno check` accepts the file.
declare const Bun: {
  serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): void };
  stdin: { stream(): ReadableStream<Uint8Array> };
};

const io = new Server(OPTIONS);
setup(io);
const server = Bun.serve({ hostname: "127.0.0.1", port: 0, ...io.handler() });
console.log(`PORT ${server.port}`);

for await (const _ of Bun.stdin.stream()) {
  // runs until the test closes stdin
}
await io.close();
server.stop(true);
