/**
 * Just enough of Engine.IO v4 / Socket.IO v5 for the load generator, over the global `WebSocket`
 * and `fetch`: no client library, because on 2 cores a library client is itself the bottleneck
 * and hides the differences between servers.
 *
 * Wire summary: the server opens with `0{"sid":..}`; `40` joins the main namespace, answered by
 * `40{"sid":..}`; `42<id>[...]` is an event with an ack id, answered by `43<id>[...]`; `2` is a
 * ping to answer with `3`; polling payloads join packets with the record separator `\x1e`.
 *
 * @module
 */

/** Called with each Socket.IO event or ack (`42...` / `43...`) the server sends. */
export type PacketHandler = (packet: string) => void;

/** A Socket.IO client over a raw WebSocket. */
export class WsClient {
  #ws: WebSocket;
  #closed: Promise<void>;
  onPacket: PacketHandler = () => {};
  /** Set once the socket is closed, by either side. */
  isClosed = false;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    this.#closed = new Promise((resolve) =>
      ws.addEventListener("close", () => {
        this.isClosed = true;
        resolve();
      })
    );
  }

  /**
   * Opens a WebSocket and joins the main namespace; rejects after `timeoutMs`. `query` (such as
   * `&room=1`) is appended to the handshake's query string.
   */
  static connect(port: number, timeoutMs: number, query = ""): Promise<WsClient> {
    const ws = new WebSocket(
      `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket${query}`,
    );
    const client = new WsClient(ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error("handshake timed out")), timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        try {
          ws.close();
        } catch { /* already closing */ }
        reject(err);
      };
      ws.onerror = () => fail(new Error("websocket error during handshake"));
      ws.onclose = () => fail(new Error("closed during handshake"));
      ws.onmessage = (e) => {
        const d = e.data as string;
        if (d[0] === "0") ws.send("40");
        else if (d.startsWith("40")) {
          clearTimeout(timer);
          ws.onerror = null;
          ws.onclose = null;
          ws.onmessage = (e) => client.#receive(e.data as string);
          resolve(client);
        } else if (d.startsWith("44")) fail(new Error(`connect refused: ${d}`));
      };
    });
  }

  #receive(d: string): void {
    if (d[0] === "4") this.onPacket(d);
    else if (d === "2") this.#ws.send("3");
  }

  send(packet: string): void {
    this.#ws.send(packet);
  }

  /** Closes and waits (at most `timeoutMs`) for the close to complete. */
  close(timeoutMs = 2000): Promise<void> {
    try {
      this.#ws.close();
    } catch { /* already closed */ }
    let timer: ReturnType<typeof setTimeout> | undefined;
    return Promise.race([
      this.#closed,
      new Promise<void>((r) => timer = setTimeout(r, timeoutMs)),
    ]).finally(() => clearTimeout(timer));
  }
}

/** A Socket.IO client over HTTP long-polling: one GET always pending, at most one POST. */
export class PollingClient {
  #base: string;
  #queue: string[] = [];
  #posting = false;
  #stopped = false;
  #abort = new AbortController();
  #getLoop: Promise<void> = Promise.resolve();
  onPacket: PacketHandler = () => {};
  /** Failed requests, counted instead of thrown so that one bad session does not stop a run. */
  errors = 0;

  private constructor(base: string) {
    this.#base = base;
  }

  /** Opens a session and joins the main namespace. */
  static async connect(port: number, timeoutMs: number): Promise<PollingClient> {
    const signal = AbortSignal.timeout(timeoutMs);
    const url = `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
    const open = await (await fetch(url, { signal })).text();
    if (open[0] !== "0") throw new Error(`unexpected open packet: ${open.slice(0, 80)}`);
    const sid = JSON.parse(open.slice(1)).sid as string;
    const client = new PollingClient(`${url}&sid=${encodeURIComponent(sid)}`);
    const ok = await (await fetch(client.#base, { method: "POST", body: "40", signal })).text();
    if (ok !== "ok") throw new Error(`unexpected POST answer: ${ok.slice(0, 80)}`);
    const joined = await (await fetch(client.#base, { signal })).text();
    if (!joined.startsWith("40")) throw new Error(`unexpected connect: ${joined.slice(0, 80)}`);
    client.#getLoop = client.#poll();
    return client;
  }

  async #poll(): Promise<void> {
    while (!this.#stopped) {
      let text: string;
      try {
        text = await (await fetch(this.#base, { signal: this.#abort.signal })).text();
      } catch {
        if (!this.#stopped) this.errors++;
        return;
      }
      for (const p of text.split("\x1e")) {
        if (p[0] === "4") this.onPacket(p);
        else if (p === "2") this.send("3");
        else if (p === "1") return; // closed by the server
      }
    }
  }

  /** Queues a packet; queued packets leave together in the next POST, as official clients do. */
  send(packet: string): void {
    this.#queue.push(packet);
    if (!this.#posting) this.#flush();
  }

  async #flush(): Promise<void> {
    this.#posting = true;
    while (this.#queue.length > 0 && !this.#stopped) {
      const body = this.#queue.join("\x1e");
      this.#queue = [];
      try {
        const res = await fetch(this.#base, { method: "POST", body, signal: this.#abort.signal });
        await res.body?.cancel();
      } catch {
        if (!this.#stopped) this.errors++;
        break;
      }
    }
    this.#posting = false;
  }

  /** Sends the close packet, then abandons the pending requests. */
  async close(timeoutMs = 2000): Promise<void> {
    this.#stopped = true;
    try {
      const res = await fetch(this.#base, {
        method: "POST",
        body: "1",
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
    } catch { /* the server may already be gone */ }
    this.#abort.abort();
    await this.#getLoop;
  }
}

/** The ack id of `43<id>[...]` (or `42<id>[...]`); -1 when there is none. */
export function ackId(packet: string): number {
  let id = 0;
  let i = 2;
  for (; i < packet.length; i++) {
    const c = packet.charCodeAt(i) - 48;
    if (c < 0 || c > 9) break;
    id = id * 10 + c;
  }
  return i === 2 ? -1 : id;
}
