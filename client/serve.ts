/**
 * Serving the browser bundles, for the server's `serveClient` option: `socket.io.js`,
 * `socket.io.min.js`, `socket.io.esm.min.js` and their `.map` files, with an ETag (and 304 for
 * a matching `If-None-Match`), cache headers as the official server sends them, and a gzip body
 * for clients that accept one. Browser compatible (web standards only).
 *
 * The files are modules made by `scripts/bundle.ts`, loaded on first request, so a server that
 * never serves them never loads them; and no file system is needed, as at the edge.
 *
 * @module
 */

type File = { body: string; etag: string };

const FILES: Record<string, () => Promise<File>> = {
  "socket.io.js": () => import("./dist/socket.io.js.ts"),
  "socket.io.js.map": () => import("./dist/socket.io.js.map.ts"),
  "socket.io.min.js": () => import("./dist/socket.io.min.js.ts"),
  "socket.io.min.js.map": () => import("./dist/socket.io.min.js.map.ts"),
  "socket.io.esm.min.js": () => import("./dist/socket.io.esm.min.js.ts"),
  "socket.io.esm.min.js.map": () => import("./dist/socket.io.esm.min.js.map.ts"),
};

// Each file's bytes and gzip bytes, made once.
const cache = new Map<
  string,
  Promise<{ file: File; plain: Uint8Array<ArrayBuffer>; gzip: Uint8Array<ArrayBuffer> }>
>();

/**
 * The name of the client file a request path asks for under `path`, if any.
 *
 * @example
 * ```ts ignore
 * import { clientFile } from "@socketio-edge/core/client/serve";
 *
 * console.log(clientFile("/socket.io/socket.io.min.js", "/socket.io/")); // "socket.io.min.js"
 * console.log(clientFile("/socket.io/", "/socket.io/")); // undefined
 * ```
 *
 * @param pathname the request URL's path
 * @param path the server's path, with its trailing slash (default `/socket.io/`)
 * @returns the file name, or undefined when the path is no client file
 */
export function clientFile(pathname: string, path = "/socket.io/"): string | undefined {
  if (!pathname.startsWith(path)) return undefined;
  const name = pathname.slice(path.length);
  return Object.hasOwn(FILES, name) ? name : undefined;
}

/**
 * Answers a request for a client file, as the official server does: `Cache-Control: public,
 * max-age=0`, an `ETag` and 304 when `If-None-Match` matches it, `application/javascript` (or
 * `application/json` for maps), and a gzip body when `Accept-Encoding` allows it.
 *
 * @example Serving the bundles beside other routes
 * ```ts ignore
 * import { clientFile, serveClientFile } from "@socketio-edge/core/client/serve";
 *
 * Deno.serve((req) => {
 *   const name = clientFile(new URL(req.url).pathname);
 *   return name ? serveClientFile(req, name) : new Response("not found", { status: 404 });
 * });
 * ```
 *
 * @param req the request
 * @param name a name {@linkcode clientFile} returned
 * @returns the response
 * @throws {TypeError} when `name` is not a client file
 */
export async function serveClientFile(req: Request, name: string): Promise<Response> {
  if (!Object.hasOwn(FILES, name)) throw new TypeError(`Not a client file: ${name}`);
  let entry = cache.get(name);
  if (!entry) {
    entry = FILES[name]().then(async (file) => {
      const plain = new TextEncoder().encode(file.body);
      const stream = new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip"));
      return { file, plain, gzip: new Uint8Array(await new Response(stream).arrayBuffer()) };
    });
    cache.set(name, entry);
  }
  const { file, plain, gzip } = await entry;
  const headers = new Headers({
    "Cache-Control": "public, max-age=0",
    "ETag": file.etag,
    "Vary": "Accept-Encoding",
  });
  const match = req.headers.get("if-none-match");
  if (match === file.etag || match === "W/" + file.etag) {
    return new Response(null, { status: 304, headers });
  }
  headers.set(
    "Content-Type",
    `application/${name.endsWith(".map") ? "json" : "javascript"}; charset=utf-8`,
  );
  const zipped = acceptsGzip(req.headers.get("accept-encoding"));
  if (zipped) headers.set("Content-Encoding", "gzip");
  return new Response(req.method === "HEAD" ? null : (zipped ? gzip : plain), { headers });
}

// `gzip` listed (or `*`) without `q=0`.
function acceptsGzip(header: string | null): boolean {
  for (const part of header?.toLowerCase().split(",") ?? []) {
    const [coding, ...params] = part.split(";").map((s) => s.trim());
    if (coding !== "gzip" && coding !== "*") continue;
    const q = params.find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  }
  return false;
}
