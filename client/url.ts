/**
 * Parsing of the URL given to `io()`. Browser compatible.
 *
 * Relative URLs resolve against `location` where there is one, as the official client does; the
 * result names the Manager to share (`id`) and the namespace (`path`).
 *
 * @module
 */

/**
 * The parts of a URL the client needs.
 */
export interface ParsedUrl {
  /** The absolute URL. */
  source: string;
  /** `http`, `https`, `ws` or `wss`. */
  protocol: string;
  /** The host name, without the brackets of an IPv6 address. */
  host: string;
  /** The port; empty when the URL gives none. */
  port: string;
  /** The path, `/` at least: the namespace. */
  path: string;
  /** The query string, without `?`. */
  query: string;
}

/**
 * A URL given to `io()`, resolved, with the key of the Manager it may share.
 */
export interface ResolvedUrl extends ParsedUrl {
  /** `protocol://host:port` + the Engine.IO path: Managers are shared per id. */
  id: string;
  /** The query as an object (values left encoded, as the official client leaves them). */
  queryKey: Record<string, string>;
}

/**
 * Splits an absolute URL.
 *
 * @param uri an absolute URL; its host may be an IPv6 address without brackets
 * @returns its parts
 * @throws {TypeError} when `uri` is not an absolute URL
 */
export function parse(uri: string): ParsedUrl {
  // An IPv6 host without brackets (`http://::1`), which the official parser takes as a host:
  // `URL` wants the brackets.
  const u = new URL(
    uri.replace(/^(\w+:\/\/)([\da-f]*:[\da-f.:]*:[\da-f.]*)(?=[/?#]|$)/i, "$1[$2]"),
  );
  let path = u.pathname;
  try {
    // The namespace is what the user wrote, not its percent-encoded form.
    path = decodeURIComponent(path);
  } catch { /* keep it encoded */ }
  return {
    source: uri,
    protocol: u.protocol.slice(0, -1),
    host: u.hostname.replace(/^\[|\]$/g, ""),
    port: u.port,
    path: path || "/",
    query: u.search.slice(1),
  };
}

/**
 * Resolves the URL given to `io()`: none means `location`'s origin, `//host` and `/path` are
 * relative to it, and a missing scheme takes `location`'s (or `https`). The port defaults by
 * scheme, so `localhost` and `localhost:80` share a Manager.
 *
 * @param uri the URL; relative ones need `loc`
 * @param path the Engine.IO path, part of the Manager key
 * @param loc the page's location (default `globalThis.location`)
 * @returns the resolved URL
 * @throws {TypeError} when `uri` cannot be resolved
 */
export function url(
  uri?: string,
  path = "",
  loc: { protocol: string; host: string } | undefined = globalThis.location,
): ResolvedUrl {
  if (uri == null) uri = loc!.protocol + "//" + loc!.host;
  if (uri[0] === "/") uri = uri[1] === "/" ? loc!.protocol + uri : loc!.host + uri;
  if (!/^(https?|wss?):\/\//.test(uri)) uri = (loc ? loc.protocol + "//" : "https://") + uri;
  const parsed = parse(uri) as ResolvedUrl;
  const { protocol, host, query } = parsed;
  if (!parsed.port) parsed.port = /s$/.test(protocol) ? "443" : "80";
  parsed.id = protocol + "://" + (host.includes(":") ? `[${host}]` : host) + ":" + parsed.port +
    path;
  const queryKey: Record<string, string> = parsed.queryKey = {};
  query.replace(/(?:^|&)([^&=]*)=?([^&]*)/g, (_, k, v) => (k && (queryKey[k] = v), ""));
  return parsed;
}
