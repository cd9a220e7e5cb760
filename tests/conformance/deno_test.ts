/**
 * The conformance matrix (matrix.ts) on Deno: the app under `Deno.serve(io.handler())`
 * (serve/deno.ts), in a process of its own as the other runtimes' are.
 */
import { conformance, serveProcess } from "./matrix.ts";

const SERVE = new URL("./serve/deno.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

conformance({
  runtime: "Deno",
  start: () =>
    serveProcess(Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      "--config",
      CONFIG,
      SERVE,
    ]),
});
