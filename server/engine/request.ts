/**
 * What the server keeps of a `Request`: read once, before any upgrade (on Deno the request
 * may not be touched after `Deno.upgradeWebSocket`). Browser compatible.
 *
 * @module
 */

/** A plain-object view of a request, safe to keep after the request is gone. */
export interface RequestSnapshot {
  /** `GET`, `POST`, ... */
  method: string;
  /** Path and query, as the official `req.url` (`/socket.io/?EIO=4&transport=polling`). */
  url: string;
  /** Headers as a plain object with lower-case names. */
  headers: Record<string, string>;
  /** Query parameters as a plain object (a repeated name keeps its last value). */
  query: Record<string, string>;
  /** The caller's address, `""` when the runtime does not say. */
  address: string;
  /** Whether the request came over TLS. */
  secure: boolean;
  /**
   * What `engine.use()` middleware attached (express-session's `session`, passport's `user`...):
   * a handshake's snapshot is `socket.request`, so they show there.
   */
  [attached: string]: unknown;
}

// Most header and query values repeat from one connection to the next ("websocket", "13", the
// host, the user agent, the URL of a WebSocket handshake): connections share one copy of each
// instead of keeping their own. Bounded: unique values (keys, ids) only make it start over.
const shared = new Map<string, string>();
const SHARED_MAX = 1024;

function share(value: string): string {
  if (value.length > 256) return value;
  const known = shared.get(value);
  if (known !== undefined) return known;
  if (shared.size >= SHARED_MAX) shared.clear();
  shared.set(value, value);
  return value;
}

/**
 * Reads everything the server needs from `req`, now. Headers and query are plain objects, as
 * the official server gives them (ported code calls `headers.hasOwnProperty("host")`).
 */
export function snapshotRequest(req: Request, url: URL, address: string): RequestSnapshot {
  const headers: Record<string, string> = {};
  req.headers.forEach((value, key) => {
    put(headers, key, key === "sec-websocket-key" ? value : share(value));
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => {
    put(query, key, key === "sid" || key === "t" ? value : share(value));
  });
  return {
    method: req.method,
    url: share(url.pathname + url.search),
    headers,
    query,
    address: share(address),
    secure: url.protocol === "https:" || url.protocol === "wss:",
  };
}

// A name `__proto__` (a valid header name, and any query key) stays an own key, as the official
// `Object.fromEntries` keeps a query key: assigning it would set the prototype on Node and Bun
// (ignored for a string) and make an own key on Deno, which has no `__proto__` accessor.
function put(bag: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(bag, key, { ...OWN, value });
  else bag[key] = value;
}

const OWN = { enumerable: true, writable: true, configurable: true };
