/**
 * One worker of `WORKERS=N deno task start`: a node of the demo on the shared port, until the
 * main thread says stop.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { startNode } from "./node.ts";

const { hostname, port } = JSON.parse(self.name) as { hostname: string; port: number };
const node = await startNode(hostname, port, { kind: "workers" });
self.postMessage("listening");
self.onmessage = async () => {
  await node.stop();
  self.postMessage("stopped");
};
