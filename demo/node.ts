/**
 * One node of the demo: our server with the chat, serving the page too, on Deno. Alone it uses
 * the in-memory adapter; as one of the workers of a process (`WORKERS`), the BroadcastChannel
 * adapter; as one of several processes (`REDIS_URL`), the Redis Streams adapter. In a cluster,
 * the nodes share the port (`reusePort`) and forward each other's polling requests, so nothing in
 * front of them needs sticky sessions.
 *
 * @module
 */
import { Server, type ServerOptions } from "../mod.ts";
import { chat } from "./chat.ts";
import { staticFiles } from "./static.ts";

/** How the node reaches the others. */
export type Cluster =
  | { kind: "alone" }
  | { kind: "workers" }
  | { kind: "redis"; options: Partial<ServerOptions>; close: () => Promise<void> };

/** A node, listening. */
export interface DemoNode {
  /** The port it listens on. */
  port: number;
  /** Closes the server, its clients and the cluster's connections. */
  stop(): Promise<void>;
}

/** Starts a node on `hostname:port`, part of `cluster`. */
export async function startNode(
  hostname: string,
  port: number,
  cluster: Cluster,
): Promise<DemoNode> {
  let options: Partial<ServerOptions> = {};
  if (cluster.kind === "workers") {
    const { createBroadcastChannelAdapter, createBroadcastChannelForwarder } = await import(
      "../adapter/cluster/mod.ts"
    );
    options = {
      adapter: createBroadcastChannelAdapter({ channel: "demo" }),
      forwarder: createBroadcastChannelForwarder({ channel: "demo" }),
    };
  } else if (cluster.kind === "redis") {
    options = cluster.options;
  }
  const io = new Server(options);
  chat(io, { cluster: cluster.kind !== "alone" });

  const { promise, resolve } = Promise.withResolvers<number>();
  const server = Deno.serve({
    port,
    hostname,
    reusePort: cluster.kind !== "alone",
    onListen: (addr) => resolve(addr.port),
  }, io.handler(staticFiles(new URL("./public/", import.meta.url))));
  return {
    port: await promise,
    async stop() {
      await io.close();
      await server.shutdown();
      if (cluster.kind === "redis") await cluster.close();
    },
  };
}
