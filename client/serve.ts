/**
 * Serving the browser bundles, for the server's `serveClient` option: `socket.io.js`,
 * `socket.io.min.js`, `socket.io.esm.min.js`, `socket.io.msgpack.min.js` and their `.map` files,
 * with an ETag (and 304 for a matching `If-None-Match`), cache headers as the official server
 * sends them, and a brotli, gzip or deflate body as `Accept-Encoding` asks. Browser compatible
 * (web standards only).
 *
 * The files are modules made by `scripts/bundle.ts`, loaded on first request, so a server that
 * never serves them never loads them; and no file system is needed, as at the edge. Web standards
 * compress gzip and deflate (`CompressionStream`, once per file) but not brotli: the bundle
 * script stores each file's brotli bytes beside its text.
 *
 * @module
 */

/** A served file: its text, ETag, and (for bundles) brotli bytes as base64. */
type File = { body: string; etag: string; br?: string };

/** A generated source map module: the map is `head`, its sources' texts, then `tail`. */
type MapModule = { head: string; sources: string[]; tail: string; etag: string };

/** Puts a source map together with the texts of its sources, shared by the four maps. */
async function sourceMap(module: Promise<MapModule>): Promise<File> {
  const [{ head, sources, tail, etag }, { texts }] = await Promise.all([
    module,
    import("./dist/sources.ts"),
  ]);
  return { body: head + JSON.stringify(sources.map((s) => texts[s])) + tail, etag };
}

const FILES: Record<string, () => Promise<File>> = {
  "socket.io.js": () => import("./dist/socket.io.js.ts"),
  "socket.io.js.map": () => sourceMap(import("./dist/socket.io.js.map.ts")),
  "socket.io.min.js": () => import("./dist/socket.io.min.js.ts"),
  "socket.io.min.js.map": () => sourceMap(import("./dist/socket.io.min.js.map.ts")),
  "socket.io.esm.min.js": () => import("./dist/socket.io.esm.min.js.ts"),
  "socket.io.esm.min.js.map": () => sourceMap(import("./dist/socket.io.esm.min.js.map.ts")),
  "socket.io.msgpack.min.js": () => import("./dist/socket.io.msgpack.min.js.ts"),
  "socket.io.msgpack.min.js.map": () => sourceMap(import("./dist/socket.io.msgpack.min.js.map.ts")),
};

/** The codings offered, in the official server's order of preference. */
const CODINGS = ["br", "gzip", "deflate"] as const;
type Coding = typeof CODINGS[number];
type Bytes = Uint8Array<ArrayBuffer>;

/** A loaded file and its bodies by coding (`""` is the plain one), each made once. */
interface Entry {
  file: File;
  bodies: Map<Coding | "", Promise<Bytes>>;
}

const cache = new Map<string, Promise<Entry>>();

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
 * max-age=0`, an `ETag` and 304 when `If-None-Match` matches it (strong or weak),
 * `application/javascript` (or `application/json` for maps), and a `br`, `gzip` or `deflate`
 * body, chosen from `Accept-Encoding` as npm `accepts` chooses.
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
 * @param extra headers to add to the answer (the server's CORS headers); `Vary` is appended to
 * @returns the response
 * @throws {TypeError} when `name` is not a client file
 */
export async function serveClientFile(
  req: Request,
  name: string,
  extra?: Headers,
): Promise<Response> {
  if (!Object.hasOwn(FILES, name)) throw new TypeError(`Not a client file: ${name}`);
  let loading = cache.get(name);
  if (!loading) {
    loading = FILES[name]().then((file) => ({ file, bodies: new Map() }));
    cache.set(name, loading);
  }
  const entry = await loading;
  const etag = entry.file.etag;
  const headers = new Headers({
    "Cache-Control": "public, max-age=0",
    "ETag": etag,
    "Vary": "Accept-Encoding",
  });
  for (const [key, value] of extra ?? []) {
    if (key === "vary") headers.append(key, value);
    else headers.set(key, value);
  }
  const match = req.headers.get("if-none-match");
  if (match === etag || match === "W/" + etag) {
    return new Response(null, { status: 304, headers });
  }
  headers.set(
    "Content-Type",
    `application/${name.endsWith(".map") ? "json" : "javascript"}; charset=utf-8`,
  );
  // Maps carry no brotli bytes (a compressor web standards lack): gzip or deflate for them.
  const coding = preferredCoding(req.headers.get("accept-encoding"), entry.file.br !== undefined);
  if (coding) headers.set("Content-Encoding", coding);
  const body = req.method === "HEAD" ? null : await bodyOf(entry, coding ?? "");
  return new Response(body, { headers });
}

function bodyOf({ file, bodies }: Entry, coding: Coding | ""): Promise<Bytes> {
  let body = bodies.get(coding);
  if (!body) {
    body = coding === "br"
      ? Promise.resolve(Uint8Array.from(atob(file.br!), (c) => c.charCodeAt(0)))
      : coding
      ? bodyOf({ file, bodies }, "").then(async (plain) =>
        new Uint8Array(
          await new Response(
            new Blob([plain]).stream().pipeThrough(new CompressionStream(coding)),
          ).arrayBuffer(),
        )
      )
      : Promise.resolve(new TextEncoder().encode(file.body));
    bodies.set(coding, body);
  }
  return body;
}

/**
 * The coding npm `accepts(req).encodings(["br", "gzip", "deflate"])` picks (as the official
 * server asks it): the highest `q`, then an exact name over `*`, then the earlier in the header,
 * then the earlier in our list.
 *
 * @example
 * ```ts ignore
 * import { preferredCoding } from "@socketio-edge/core/client/serve";
 *
 * console.log(preferredCoding("gzip, deflate, br")); // "gzip"
 * console.log(preferredCoding("br;q=0.9, *")); // "gzip"
 * ```
 *
 * @param header the request's `Accept-Encoding`
 * @param brotli whether `br` is on offer (default true)
 * @returns the coding, or undefined for the plain body
 */
export function preferredCoding(header: string | null, brotli = true): Coding | undefined {
  const specs: { coding: string; q: number; order: number }[] = [];
  for (const [order, part] of (header ?? "").split(",").entries()) {
    const m = /^\s*([^\s;]+)\s*(?:;(.*))?$/.exec(part.trim());
    if (!m) continue;
    const q = m[2]?.split(";").map((p) => p.trim().split("=")).find(([k]) => k === "q");
    specs.push({ coding: m[1].toLowerCase(), q: q ? parseFloat(q[1]) : 1, order });
  }
  let best: { q: number; s: number; o: number; i: number } | undefined;
  for (const [i, coding] of CODINGS.entries()) {
    if (coding === "br" && !brotli) continue;
    // This coding's best match in the header: exact over `*`, then higher q, then later.
    let p = { q: 0, s: 0, o: -1, i };
    for (const spec of specs) {
      const s = spec.coding === coding ? 1 : spec.coding === "*" ? 0 : -1;
      if (s >= 0 && (p.s - s || p.q - spec.q || p.o - spec.order) < 0) {
        p = { q: spec.q, s, o: spec.order, i };
      }
    }
    if (
      p.q > 0 &&
      (!best || (best.q - p.q || best.s - p.s || p.o - best.o || p.i - best.i) < 0)
    ) best = p;
  }
  return best && CODINGS[best.i];
}
