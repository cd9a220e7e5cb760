/**
 * The conformance matrix (matrix.ts) on Node: the app on a `node:http` server through the Node
 * entry, `new Server(httpServer)` (serve/node.ts), built for Node with npm `ws` beside it
 * (tests/helpers/node.ts).
 */
import { buildNodeScript } from "../helpers/node.ts";
import { conformance, serveProcess } from "./matrix.ts";

const SERVE = new URL("./serve/node.ts", import.meta.url).pathname;

async function hasNode(): Promise<boolean> {
  const out = await new Deno.Command("node", {
    args: ["--version"],
    stdout: "null",
    stderr: "null",
  })
    .output().catch(() => undefined);
  return out?.success ?? false;
}

conformance({
  runtime: "Node",
  async start() {
    if (!await hasNode()) return "node not installed";
    const script = await buildNodeScript(SERVE);
    const served = await serveProcess("node", [script.file]).catch(async (err) => {
      await script.remove();
      throw err;
    });
    return { ...served, stop: () => served.stop().finally(() => script.remove()) };
  },
});
