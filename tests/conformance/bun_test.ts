/**
 * The conformance matrix (matrix.ts) on Bun: the app under `Bun.serve({ ...io.handler() })`
 * (serve/bun.ts). Bun comes from npm when it is not installed (tests/helpers/bun.ts).
 */
import { findBun } from "../helpers/bun.ts";
import { conformance, serveProcess } from "./matrix.ts";

const SERVE = new URL("./serve/bun.ts", import.meta.url).pathname;

conformance({
  runtime: "Bun",
  async start() {
    const bun = await findBun();
    if (!bun) return "bun not installed and could not be installed from npm";
    return serveProcess(bun, ["run", SERVE]);
  },
});
