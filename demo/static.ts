/**
 * A tiny static file server for the demo's page: only files inside `root`, by extension.
 *
 * @module
 */

const TYPES: Record<string, string> = {
  html: "text/html; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
};

/** A fetch handler serving the files under `root` (`/` is `index.html`). */
export function staticFiles(root: URL): (req: Request) => Promise<Response> {
  return async (req) => {
    const path = new URL(req.url).pathname;
    const name = path === "/" ? "index.html" : path.slice(1);
    // Names with a slash or dots other than the extension's never reach the file system.
    if (!/^[\w-]+\.(html|js|css|svg)$/.test(name)) {
      return new Response("Not Found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(new URL(name, root));
      return new Response(body, {
        headers: { "content-type": TYPES[name.split(".").pop()!], "cache-control": "no-cache" },
      });
    } catch {
      return new Response("Not Found", { status: 404 });
    }
  };
}
