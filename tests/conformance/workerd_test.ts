/**
 * The conformance matrix (matrix.ts) on Cloudflare Workers: the app in a Durable Object of the
 * Workers entry, with hibernatable WebSockets, behind its Worker (serve/workerd.ts), in real
 * workerd through miniflare (pinned versions from npm, tests/helpers/workerd.ts). What the
 * Worker logs comes out of the runner process, where the matrix reads it.
 */
import { buildWorkerd, installWorkerd } from "../helpers/workerd.ts";
import { conformance, serveProcess } from "./matrix.ts";

const SERVE = new URL("./serve/workerd.ts", import.meta.url).pathname;

conformance({
  runtime: "workerd",
  async start() {
    const why = await installWorkerd();
    if (why) return `workerd could not be installed from npm: ${why}`;
    // nodejs_compat (the harness's default): binary reaches server code as Buffer.
    const built = await buildWorkerd({ entry: SERVE, durableObjects: { SOCKET_IO: "SocketIO" } });
    const [cmd, ...args] = built.argv;
    const served = await serveProcess(cmd, args).catch(async (err) => {
      await built.remove();
      throw err;
    });
    return {
      ...served,
      // The runner's `ready` line says nothing of the app.
      stop: () => served.stop().then((out) => out.replace(/^ready\n/, "")).finally(built.remove),
    };
  },
});
