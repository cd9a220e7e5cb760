/**
 * A loopback TCP proxy whose target can be switched, as a load balancer that sends a client's
 * next connection to another node: any client (the official one, ours) reconnects to the same
 * URL and lands elsewhere.
 *
 * @module
 */

/** A proxy on a free 127.0.0.1 port. */
export class TcpSwitch {
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #pairs = new Set<{ conns: Deno.TcpConn[]; done: Promise<unknown> }>();
  readonly #accepting: Promise<void>;
  #target: number;

  /** @param target the port connections go to, until {@linkcode TcpSwitch.point} */
  constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** `http://127.0.0.1:<port>` of the proxy. */
  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** New connections go to `port` from now on; the open ones are closed. */
  async point(port: number): Promise<void> {
    this.#target = port;
    await this.#closeConnections();
  }

  /** Stops listening and closes every connection; resolves once all is done. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    await this.#closeConnections();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        let upstream: Deno.TcpConn;
        try {
          upstream = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
        } catch {
          conn.close();
          continue;
        }
        // Either side ending ends both; errors are a peer going away.
        const done = Promise.allSettled([
          conn.readable.pipeTo(upstream.writable),
          upstream.readable.pipeTo(conn.writable),
        ]);
        this.#pairs.add({ conns: [conn, upstream], done });
      }
    } catch {
      // The listener was closed.
    }
  }

  async #closeConnections(): Promise<void> {
    const pairs = [...this.#pairs];
    this.#pairs.clear();
    for (const { conns } of pairs) {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed already by its pipe */ }
      }
    }
    await Promise.all(pairs.map((p) => p.done));
  }
}
