/**
 * How the WebSocket transport makes its socket outside browsers: with the class of the
 * `WebSocket` option (npm `ws`'s, on Node 20), else `autoUnref`'s own on `node:net`
 * (`client/unref/`), else the runtime's; the request headers (`extraHeaders`, kept cookies) go
 * where the class takes them. A runtime with none gets a clear error at once, not a timeout.
 *
 * The browser bundles are built with `browser.ts` in this module's place (`scripts/bundle.ts`):
 * a browser always has a `WebSocket`, and it takes no headers.
 *
 * @module
 */
import { cookieJars } from "../cookies/mod.ts";
import { unrefs } from "../unref/mod.ts";
import {
  requestHeaders,
  type TransportHost,
  type TransportOptions,
} from "../transports/transport.ts";

/** The error of a runtime with no `WebSocket` (Node 20) when the option gives none. */
export const NO_WEBSOCKET = "No WebSocket in this runtime: pass a WebSocket class as the " +
  '"WebSocket" option, e.g. io(url, { WebSocket }) with import { WebSocket } from "ws" (npm ws)';

/**
 * Makes the socket. npm `ws`'s constructor, `(address, protocols, options)`, takes headers in
 * its options object; a class whose constructor declares fewer parameters (Deno's, Bun's,
 * Node's own, autoUnref's) gets `{ protocols, headers }` as the second argument, and the
 * protocols alone where that throws (browsers).
 *
 * @param opts the transport's options
 * @param host the Engine.IO socket (its cookies, its unref'd connections)
 * @param uri the `ws:` or `wss:` URL
 * @returns the socket, connecting
 * @throws when the runtime has no `WebSocket` and the option gives none, or the class throws
 */
export function openWebSocket(opts: TransportOptions, host: TransportHost, uri: string): WebSocket {
  const given = opts.WebSocket as typeof WebSocket | undefined;
  const Ws = given || (unrefs && host._unref?.WebSocket) || globalThis.WebSocket;
  if (!Ws) throw new Error(NO_WEBSOCKET);
  const protocols = opts.protocols;
  const cookie = cookieJars ? host.cookies?.header() : "";
  let ws: WebSocket;
  if (!opts.extraHeaders && !cookie) ws = new Ws(uri, protocols);
  else {
    // A plain object: npm ws spreads its headers, which a `Headers` would not survive.
    const headers: Record<string, string> = {};
    requestHeaders(opts, cookie).forEach((value, name) => headers[name] = value);
    if (Ws.length > 2) ws = new (Ws as unknown as WsLike)(uri, protocols, { headers });
    else {
      try {
        ws = new Ws(uri, { protocols, headers } as unknown as string);
      } catch {
        ws = new Ws(uri, protocols);
      }
    }
  }
  if (given) {
    // npm ws throws an `error` event nobody listens to (closing a socket still connecting emits
    // one, after the transport let go of it): a listener of our own stays.
    ws.addEventListener?.("error", () => {});
    // autoUnref: the connection does not keep the process alive where the class shows it, as
    // npm ws does (the official client unrefs the same `_socket`).
    if (unrefs && host._unref) {
      ws.addEventListener?.("open", () => (ws as { _socket?: Unrefable })._socket?.unref?.());
    }
  }
  return ws;
}

type WsLike = new (
  url: string,
  protocols: string | string[] | undefined,
  options: { headers: Record<string, string> },
) => WebSocket;

interface Unrefable {
  unref?(): void;
}
