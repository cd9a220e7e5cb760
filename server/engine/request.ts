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
}

/** Reads everything the server needs from `req`, now. */
export function snapshotRequest(req: Request, url: URL, address: string): RequestSnapshot {
  const headers: Record<string, string> = Object.create(null);
  req.headers.forEach((value, key) => (headers[key] = value));
  const query: Record<string, string> = Object.create(null);
  url.searchParams.forEach((value, key) => (query[key] = value));
  return {
    method: req.method,
    url: url.pathname + url.search,
    headers,
    query,
    address,
    secure: url.protocol === "https:" || url.protocol === "wss:",
  };
}
