/**
 * The demo: a chat with rooms and live cursors on http://localhost:3000 (PORT changes it), served
 * by one `io.handler()` with the page's static files as its fallback. In-memory adapter, nothing
 * to configure. Ctrl-C stops it cleanly.
 *
 * @module
 */
import { Server } from "../mod.ts";
import { chat } from "./chat.ts";
import { staticFiles } from "./static.ts";

const port = Number(Deno.env.get("PORT") ?? 3000);
const io = new Server();
chat(io);

const server = Deno.serve({
  port,
  hostname: Deno.env.get("HOST") ?? "0.0.0.0",
  onListen: ({ port }) => console.log(`socketio-edge demo on http://localhost:${port}`),
}, io.handler(staticFiles(new URL("./public/", import.meta.url))));

const stop = async () => {
  console.log("\nstopping the demo");
  await io.close();
  await server.shutdown();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
