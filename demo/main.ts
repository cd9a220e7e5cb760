/**
 * The demo: a chat with rooms and live cursors on http://localhost:3000 (PORT changes it), served
 * by one `io.handler()` with the page's static files as its fallback. In-memory adapter, nothing
 * to configure. Ctrl-C stops it cleanly.
 *
 * Scaled out, with nothing in front that needs sticky sessions:
 * - `WORKERS=4 deno task start`: four workers of one process on the one port, BroadcastChannel
 *   between them;
 * - `REDIS_URL=redis://127.0.0.1:6379 deno task start`, run as many times as wanted (same port or
 *   not): processes sharing a Redis, with connection state recovery across them.
 *
 * @module
 */
import { type DemoNode, startNode } from "./node.ts";

const port = Number(Deno.env.get("PORT") ?? 3000);
const hostname = Deno.env.get("HOST") ?? "0.0.0.0";
const workers = Number(Deno.env.get("WORKERS") ?? 1);
const redisUrl = Deno.env.get("REDIS_URL");

async function startWorkers(count: number): Promise<DemoNode> {
  const all = Array.from(
    { length: count },
    () =>
      new Worker(new URL("./worker.ts", import.meta.url), {
        type: "module",
        name: JSON.stringify({ hostname, port }),
      }),
  );
  const said = (worker: Worker, what: string) =>
    new Promise<void>((resolve, reject) => {
      worker.onmessage = (e) => e.data === what && resolve();
      worker.onerror = (e) => reject(e.error ?? new Error(e.message));
    });
  try {
    await Promise.all(all.map((w) => said(w, "listening")));
  } catch (e) {
    for (const w of all) w.terminate();
    throw e;
  }
  return {
    port,
    async stop() {
      await Promise.all(all.map((w) => {
        const stopped = said(w, "stopped");
        w.postMessage("stop");
        return stopped.finally(() => w.terminate());
      }));
    },
  };
}

let node: DemoNode;
let what = "";
if (workers > 1) {
  node = await startWorkers(workers);
  what = ` (${workers} workers)`;
} else if (redisUrl) {
  const { redisCluster } = await import("./redis.ts");
  node = await startNode(hostname, port, await redisCluster(redisUrl));
  what = " (Redis cluster node)";
} else {
  node = await startNode(hostname, port, { kind: "alone" });
}
console.log(`socketio-edge demo on http://localhost:${node.port}${what}`);

const stop = async () => {
  console.log("\nstopping the demo");
  await node.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
