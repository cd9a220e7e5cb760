/**
 * The Workers rows of the server bench: our Durable Object (fixtures/workers_ours.ts) and a bare
 * `WebSocketPair` echo object, the ceiling there (fixtures/workers_raw.ts), each built with
 * esbuild and run in local workerd through miniflare (the harness of the tests,
 * tests/helpers/workerd.ts), on the bench's port.
 *
 * @module
 */
import { buildWorkerd, type BuiltWorker, installWorkerd } from "../../tests/helpers/workerd.ts";

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

const builds = new Map<string, BuiltWorker>();

/**
 * Installs workerd and builds the two Workers; returns why it could not, or undefined. Their
 * commands are then {@linkcode workersCommand}'s.
 */
export async function prepareWorkers(): Promise<string | undefined> {
  const why = await installWorkerd();
  if (why) return why;
  for (const [key, file] of [["ours", "workers_ours.ts"], ["raw", "workers_raw.ts"]]) {
    if (!builds.has(key)) {
      builds.set(
        key,
        await buildWorkerd({
          entry: fixture(file),
          durableObjects: { BENCH: "Bench" },
        }),
      );
    }
  }
  return undefined;
}

/** The command that runs the `ours` or `raw` Worker on `$PORT`. */
export function workersCommand(key: "ours" | "raw"): string[] {
  const built = builds.get(key);
  if (!built) throw new Error("prepareWorkers() first");
  return built.argv;
}

/** Removes the builds. */
export async function removeWorkers(): Promise<void> {
  for (const built of builds.values()) await built.remove();
  builds.clear();
}
