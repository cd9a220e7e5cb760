/**
 * A loopback TCP load balancer without stickiness: each new connection goes to the next of its
 * targets in turn, and to the one after when a target refuses (a node that died), as a load
 * balancer that sends a client whose node went away to a live one. Open connections are left
 * alone: they end when their node does.
 *
 * @module
 */

/** A balancer on a free 127.0.0.1 port. */
export class TcpBalancer {
  readonly #listener: Deno.Listener<Deno.TcpConn, Deno.NetAddr>;
  readonly #pairs = new Set<{ conns: Deno.TcpConn[]; done: Promise<unknown> }>();
  readonly #accepting: Promise<void>;
  #targets: number[];
  #next = 0;

  /** @param targets the ports connections go to, in turn */
  constructor(targets: number[]) {
    this.#targets = [...targets];
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  /** `http://127.0.0.1:<port>` of the balancer. */
  get url(): string {
    return `http://127.0.0.1:${this.#listener.addr.port}`;
  }

  /** New connections go to these ports from now on. */
  set targets(ports: number[]) {
    this.#targets = [...ports];
  }

  /** Stops listening and closes every connection; resolves once all is done. */
  async close(): Promise<void> {
    this.#listener.close();
    await this.#accepting;
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

  /** The next target that accepts a connection, or undefined when none does. */
  async #connect(): Promise<Deno.TcpConn | undefined> {
    const targets = this.#targets;
    for (let tried = 0; tried < targets.length; tried++) {
      const port = targets[this.#next++ % targets.length];
      try {
        return await Deno.connect({ hostname: "127.0.0.1", port });
      } catch { /* refused: that node is gone, try the next */ }
    }
    return undefined;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const upstream = await this.#connect();
        if (!upstream) {
          conn.close();
          continue;
        }
        // Either side ending ends both; errors are a peer going away.
        const pair = { conns: [conn, upstream], done: Promise.resolve() as Promise<unknown> };
        pair.done = Promise.allSettled([
          conn.readable.pipeTo(upstream.writable),
          upstream.readable.pipeTo(conn.writable),
        ]).then(() => this.#pairs.delete(pair));
        this.#pairs.add(pair);
      }
    } catch {
      // The listener was closed.
    }
  }
}
