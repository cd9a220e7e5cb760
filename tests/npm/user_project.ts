/**
 * A user's project importing every entry point of `@socketio-edge/core`, with typed events:
 * tests/npm_package_test.ts type-checks it with `tsc` against the installed npm package (its
 * `.d.ts`), and `deno task check` against the sources. It is never run.
 *
 * @module
 */
import { createServer } from "node:http";
import { type DefaultEventsMap, Server, type Socket } from "@socketio-edge/core";
import { io, type Socket as ClientSocket } from "@socketio-edge/core/client";
import { decodePacket, encodePacket, isDecodeError } from "@socketio-edge/core/parser";
import { Server as Engine } from "@socketio-edge/core/engine";
import { InMemoryAdapter } from "@socketio-edge/core/adapter";
import { createBroadcastChannelAdapter } from "@socketio-edge/core/cluster";
import { createAdapter, type RedisClient } from "@socketio-edge/core/redis";
import { Server as NodeServer } from "@socketio-edge/core/node";
import { defineSocketIO, socketIOWorker } from "@socketio-edge/core/workers";

/** What clients send. */
export interface ClientToServer {
  chat(text: string, ack: (delivered: boolean) => void): void;
}

/** What the server sends. */
export interface ServerToClient {
  message(from: string, text: string): void;
}

/** The data each socket keeps. */
export interface SocketData {
  name: string;
}

function onConnection(
  socket: Socket<ClientToServer, ServerToClient, DefaultEventsMap, SocketData>,
): void {
  socket.data.name = socket.id;
  socket.on("chat", (text, ack) => {
    socket.broadcast.emit("message", socket.data.name, text);
    ack(true);
  });
  // @ts-expect-error `message` takes two strings
  socket.emit("message", 42);
}

/** The server on Deno or Bun, rooms in memory. */
export function webServer(): Server<ClientToServer, ServerToClient, DefaultEventsMap, SocketData> {
  const server = new Server<ClientToServer, ServerToClient, DefaultEventsMap, SocketData>({
    adapter: InMemoryAdapter,
  });
  server.on("connection", onConnection);
  return server;
}

/** The server on Node, a cluster on one machine through BroadcastChannel. */
export function nodeServer(): NodeServer<ClientToServer, ServerToClient> {
  const server = new NodeServer<ClientToServer, ServerToClient>(createServer(), {
    adapter: createBroadcastChannelAdapter(),
  });
  server.on("connection", (socket) => socket.emit("message", "server", "welcome"));
  return server;
}

/** The server with the Redis adapter, on the user's Redis clients. */
export function redisServer(pub: RedisClient, sub: RedisClient): Server {
  return new Server({ adapter: createAdapter(pub, sub) });
}

/** The Engine.IO server alone. */
export function engine(): Engine {
  const engine = new Engine({ pingInterval: 10_000 });
  engine.on("connection", (socket) => socket.send("hello"));
  return engine;
}

/** The client, with the same events seen from its side. */
export function client(url: string): ClientSocket<ServerToClient, ClientToServer> {
  const socket: ClientSocket<ServerToClient, ClientToServer> = io(url, {
    transports: ["websocket"],
  });
  socket.on("message", (from, text) => console.log(`${from}: ${text.toUpperCase()}`));
  socket.emit("chat", "hi", (delivered) => console.log(delivered ? "sent" : "lost"));
  return socket;
}

/** A packet through the parser. */
export function roundTrip(): string {
  const decoded = decodePacket(encodePacket({ type: "message", data: "hi" }, true) as string);
  return isDecodeError(decoded) ? decoded.message : String(decoded.data);
}

/** A Cloudflare Worker with its Durable Object. */
export const Chat = defineSocketIO({
  setup(io) {
    io.on("connection", (socket) => socket.on("ping", (ack: () => void) => ack()));
  },
});
/** The Worker's entry. */
export const worker = socketIOWorker({ binding: "CHAT" });
