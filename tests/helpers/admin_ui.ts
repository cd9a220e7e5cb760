/**
 * npm `@socket.io/admin-ui` for the admin UI tests: the version deno.json pins (Deno imports its
 * server half through that entry), installed once, quietly, into `.artifacts/admin-ui/` for Bun,
 * which loads the same CommonJS from there, and for its dashboard (`ui/dist`), which the tests
 * serve as static files.
 *
 * @module
 */

import { installPinned, pinnedVersion } from "./npm_install.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DIR = `${ROOT}.artifacts/admin-ui`;
const NAME = "@socket.io/admin-ui";

let installed: Promise<string> | undefined;

/**
 * Installs the package once (nothing when the pinned version is there) and resolves with its
 * folder (`dist/index.js`, `ui/dist/`).
 */
export function adminUiPackage(): Promise<string> {
  return installed ??=
    (async () => `${await installPinned(DIR, { [NAME]: await pinnedVersion(NAME) })}/${NAME}`)();
}

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  map: "application/json",
};

/**
 * A fetch handler serving the dashboard's files from `dist` under `prefix` (`/` or `/admin/`),
 * `index.html` for the prefix itself; undefined for a path outside it, 404 for a missing file.
 */
export function dashboardFiles(
  dist: string,
  prefix: string,
): (req: Request) => Promise<Response> | undefined {
  return (req) => {
    const path = new URL(req.url).pathname;
    if (!path.startsWith(prefix)) return undefined;
    const name = path.slice(prefix.length) || "index.html";
    if (name.split("/").includes("..")) return Promise.resolve(new Response(null, { status: 400 }));
    const type = TYPES[name.slice(name.lastIndexOf(".") + 1)] ?? "application/octet-stream";
    return Deno.readFile(`${dist}/${name}`).then(
      (body) => new Response(body, { headers: { "content-type": type } }),
      () => new Response(null, { status: 404 }),
    );
  };
}

/**
 * Runs `fn` (an `instrument(io, opts)` call) and returns what stops the intervals it started:
 * `instrument()` keeps a stats timer that nothing of the package stops, which the test
 * sanitizers would see leak.
 */
export function stoppable(fn: () => void): () => void {
  const set = globalThis.setInterval;
  const timers: ReturnType<typeof setInterval>[] = [];
  globalThis.setInterval = ((...args: Parameters<typeof setInterval>) => {
    const timer = set(...args);
    timers.push(timer);
    return timer;
  }) as typeof setInterval;
  try {
    fn();
  } finally {
    globalThis.setInterval = set;
  }
  return () => timers.forEach((timer) => clearInterval(timer));
}
