/**
 * Starts a `Deno.serve` server on 127.0.0.1 and a free port, for tests.
 *
 * @module
 */

/** A running test server. */
export interface TestServer {
  /** The port it listens on. */
  port: number;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** The `Deno.serve` server. */
  server: Deno.HttpServer<Deno.NetAddr>;
  /** Stops accepting and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

/** The handler a test server runs. */
export type TestHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/**
 * Serves `handler` on 127.0.0.1 and a free port (or `port`, to serve again where a closed
 * server was).
 *
 * @param handler the fetch handler, e.g. `engine.handler()`
 * @param port the port, 0 for a free one
 * @returns the running server; `await close()` at the end of the test
 */
export function serve(handler: TestHandler, port = 0): TestServer {
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, handler);
  const bound = server.addr.port;
  return {
    port: bound,
    origin: `http://127.0.0.1:${bound}`,
    server,
    close: () => server.shutdown(),
  };
}
