/**
 * The load generator: one scenario against one server, in its own Deno process so that it
 * never shares a heap or an event loop with the orchestrator, and starts clean every time.
 *
 *   deno run -A bench/server/load.ts '<LoadConfig as JSON>'
 *
 * Prints the {@linkcode LoadResult} as one JSON line (or `{"error":...}`), then exits.
 *
 * @module
 */
import { rooms, type RoomsConfig } from "./rooms.ts";
import { type LoadConfig, runScenario } from "./scenarios.ts";

if (import.meta.main) {
  const cfg = JSON.parse(Deno.args[0]) as LoadConfig | RoomsConfig;
  // However the server behaves, this process ends: connecting, warm-up, window, closing.
  // Connecting takes longer with more clients (10,000 for the room path, on a loaded machine).
  const limit = 30_000 + 5 * cfg.clients + cfg.warmupMs + 2 * cfg.measureMs;
  setTimeout(() => {
    console.log(JSON.stringify({ error: `generator gave up after ${limit} ms` }));
    Deno.exit(2);
  }, limit);
  try {
    console.log(
      JSON.stringify(await (cfg.scenario === "rooms" ? rooms(cfg) : runScenario(cfg))),
    );
  } catch (err) {
    console.log(JSON.stringify({ error: String(err) }));
  }
  Deno.exit(0);
}
