/**
 * `open_websocket/mod.ts` in the browser bundles (`scripts/bundle.ts` puts it there): a browser
 * always has a `WebSocket` (the option may still give another), and it takes no headers.
 * Browser compatible.
 *
 * @module
 */
import type { TransportHost, TransportOptions } from "../transports/transport.ts";

/**
 * Makes the socket, with the protocols only.
 *
 * @param opts the transport's options
 * @param _host the Engine.IO socket (unused: no cookies or unref'd connections in a browser)
 * @param uri the `ws:` or `wss:` URL
 * @returns the socket, connecting
 */
export const openWebSocket = (
  opts: TransportOptions,
  _host: TransportHost,
  uri: string,
): WebSocket =>
  new ((opts.WebSocket as typeof WebSocket | undefined) || WebSocket)(uri, opts.protocols);
