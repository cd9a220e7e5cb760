/**
 * The fuzz app under `Bun.serve`, for the fuzzer (targets.ts). Prints `{"port":N}` once
 * listening; stops when its stdin closes. Uncaught exceptions and unhandled rejections are kept
 * in its stats rather than ending it, so that a run finds more than the first one (Bun itself
 * still ends the process for some, which the fuzzer sees as a crash).
 *
 * @module
 */
import { createFuzzApp } from "./app.ts";

// Just what this script uses of Bun's globals, so that `deno check` accepts the file.
declare const Bun: {
  serve(options: Record<string, unknown>): { port: number; stop(force?: boolean): void };
  stdin: { stream(): ReadableStream<Uint8Array> };
};
declare const process: {
  on(ev: string, fn: (err: unknown) => void): void;
  memoryUsage(): { rss: number };
};

const app = createFuzzApp(() => process.memoryUsage().rss);
process.on("unhandledRejection", (err) => app.record("rejection", err));
process.on("uncaughtException", (err) => app.record("error", err));

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  ...app.handler,
  error(err: unknown) {
    app.handlerFailed(err);
    return new Response(null, { status: 500 });
  },
});
console.log(JSON.stringify({ port: server.port }));

for await (const _ of Bun.stdin.stream()) {
  // runs until the fuzzer closes stdin
}
await app.close();
server.stop(true);
