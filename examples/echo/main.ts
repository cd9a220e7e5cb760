/**
 * The minimal demo until the chat demo lands: a Socket.IO echo server on http://localhost:3000
 * (PORT changes it). Any official client can connect:
 *
 *   const socket = io("http://localhost:3000");
 *   socket.emitWithAck("echo", "hi").then(console.log); // "hi"
 */
import { Server } from "../../mod.ts";

const port = Number(Deno.env.get("PORT") ?? 3000);
const io = new Server({ cors: { origin: "*" } });

io.on("connection", (socket) => {
  console.log(`connected: ${socket.id} over ${socket.conn.transport.name}`);
  socket.conn.on("upgrade", (t) => console.log(`upgraded: ${socket.id} to ${t.name}`));
  socket.onAny((event, ...args) => {
    const ack = args[args.length - 1];
    if (typeof ack === "function") ack(...args.slice(0, -1));
    else socket.emit(event, ...args);
  });
  socket.on("disconnect", (reason) => console.log(`disconnected: ${socket.id} (${reason})`));
});

const home = () =>
  new Response(
    "socketio-edge echo server: connect a Socket.IO client to this URL; every event is echoed.\n",
    { headers: { "content-type": "text/plain; charset=utf-8" } },
  );

const server = Deno.serve({
  port,
  onListen: ({ port }) => console.log(`socketio-edge echo server on http://localhost:${port}`),
}, io.handler(home));

Deno.addSignalListener("SIGINT", async () => {
  console.log("\nstopping");
  await io.close();
  await server.shutdown();
  Deno.exit(0);
});
