// The part of npm `ws` the Node entry uses. Declared here so that the entry's types do not pull
// `@types/ws` and, through it, all of `@types/node` into `deno doc` and `deno check` wherever
// another package of the graph (the official socket.io, in tests) depends on them.

/** Options of the server; `noServer`, because the bridge hands it the upgrades. */
export interface WebSocketServerOptions {
  noServer: true;
  clientTracking?: boolean;
  perMessageDeflate?: boolean;
  maxPayload?: number;
  /** The sub-protocol to accept of those offered; `false` for none (the engine names it). */
  handleProtocols?: (protocols: Set<string>, request: unknown) => string | false;
}

/** npm `ws`'s server, as far as the Node entry uses it before handing it to the runtime. */
export declare class WebSocketServer {
  constructor(options: WebSocketServerOptions);
  on(event: string, listener: (...args: unknown[]) => void): this;
}
