/**
 * A loopback HTTP load balancer with no stickiness of any kind: each request (not each
 * connection: keep-alive connections are not followed) goes to the next node in turn, whatever
 * its session. A WebSocket upgrade goes to the node its request landed on, and its frames are
 * relayed both ways. Entries made by {@linkcode RoundRobinProxy.entry} share the rotation but
 * send the requests that start a session (no `sid`) to one node, so that a test knows where each
 * session lives; every later request of the session is spread as the rest.
 *
 * @module
 */

/** Where the nodes are: their ports, asked for each request (nodes come and go). */
export type Targets = () => readonly number[];

/** One listening entry of the proxy. */
interface Entry {
  server: Deno.HttpServer<Deno.NetAddr>;
  url: string;
}

/** The port of `http://127.0.0.1:<port>`. */
export function portOf(url: string): number {
  return Number(new URL(url).port);
}

/** A round-robin HTTP proxy on 127.0.0.1. */
export class RoundRobinProxy {
  readonly #targets: Targets;
  readonly #client = Deno.createHttpClient({});
  readonly #entries: Entry[] = [];
  readonly #byPort = new Map<number, Entry>();
  readonly #inFlight = new Set<AbortController>();
  readonly #sockets = new Set<WebSocket>();
  #turn = 0;
  /** How many requests went to each port, for tests that check the spread. */
  readonly counts: Map<number, number> = new Map();

  /** @param targets the nodes' ports */
  constructor(targets: Targets) {
    this.#targets = targets;
    this.#listen(undefined);
  }

  #listen(start: number | undefined): Entry {
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      (req) => this.#handle(req, start),
    );
    const entry = { server, url: `http://127.0.0.1:${server.addr.port}` };
    this.#entries.push(entry);
    return entry;
  }

  /** `http://127.0.0.1:<port>` of the entry that spreads every request. */
  url(): string {
    return this.#entries[0].url;
  }

  /** The URL of an entry whose requests that start a session go to the node on `port`. */
  entry(port: number): string {
    let entry = this.#byPort.get(port);
    if (entry === undefined) this.#byPort.set(port, entry = this.#listen(port));
    return entry.url;
  }

  #pick(start: number | undefined, url: URL): number | undefined {
    const targets = this.#targets();
    if (targets.length === 0) return undefined;
    const port = start !== undefined && !url.searchParams.get("sid")
      ? start
      : targets[this.#turn++ % targets.length];
    this.counts.set(port, (this.counts.get(port) ?? 0) + 1);
    return port;
  }

  async #handle(req: Request, start: number | undefined): Promise<Response> {
    const url = new URL(req.url);
    const port = this.#pick(start, url);
    if (port === undefined) return new Response("no node", { status: 502 });
    const upstream = `127.0.0.1:${port}${url.pathname}${url.search}`;
    if (req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#relay(req, `ws://${upstream}`);
    }
    const abort = new AbortController();
    this.#inFlight.add(abort);
    try {
      const headers = new Headers(req.headers);
      headers.delete("host");
      const res = await fetch(`http://${upstream}`, {
        method: req.method,
        headers,
        body: req.body,
        client: this.#client,
        signal: abort.signal,
        redirect: "manual",
      });
      // Whole: the answers of an Engine.IO server are short.
      const body = await res.arrayBuffer();
      return new Response(body, { status: res.status, headers: res.headers });
    } catch {
      return new Response("bad gateway", { status: 502 });
    } finally {
      this.#inFlight.delete(abort);
    }
  }

  /** Upgrades here, opens a WebSocket to the node, and relays frames both ways. */
  #relay(req: Request, url: string): Response {
    const protocols = req.headers.get("sec-websocket-protocol")?.split(",").map((p) => p.trim());
    const { socket, response } = Deno.upgradeWebSocket(req, {
      protocol: protocols?.[0],
    });
    const upstream = new WebSocket(url, protocols);
    socket.binaryType = upstream.binaryType = "arraybuffer";
    this.#sockets.add(socket);
    this.#sockets.add(upstream);
    const queued: (string | ArrayBuffer)[] = [];
    upstream.onopen = () => {
      for (const data of queued) upstream.send(data);
      queued.length = 0;
    };
    socket.onmessage = (e) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
      else queued.push(e.data);
    };
    const back: (string | ArrayBuffer)[] = [];
    socket.onopen = () => {
      for (const data of back) socket.send(data);
      back.length = 0;
    };
    upstream.onmessage = (e) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(e.data);
      else back.push(e.data);
    };
    const closeBoth = (code: number, reason: string) => {
      const c = code === 1005 || code === 1006 ? 1000 : code;
      for (const s of [socket, upstream]) {
        if (s.readyState === WebSocket.OPEN || s.readyState === WebSocket.CONNECTING) {
          try {
            s.close(c, reason);
          } catch {
            s.close();
          }
        }
      }
    };
    socket.onclose = (e) => {
      this.#sockets.delete(socket);
      closeBoth(e.code, e.reason);
    };
    upstream.onclose = (e) => {
      this.#sockets.delete(upstream);
      closeBoth(e.code, e.reason);
    };
    socket.onerror = upstream.onerror = () => {};
    return response;
  }

  /** Stops every entry, ends what is in flight, and closes the relayed WebSockets. */
  async close(): Promise<void> {
    for (const abort of this.#inFlight) abort.abort();
    const closed = [...this.#sockets].map((s) =>
      new Promise<void>((resolve) => {
        if (s.readyState === WebSocket.CLOSED) return resolve();
        s.addEventListener("close", () => resolve());
        s.close();
      })
    );
    await Promise.all(closed);
    await Promise.all(this.#entries.map((e) => e.server.shutdown()));
    this.#client.close();
  }
}
