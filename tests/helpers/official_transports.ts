/**
 * The official client's own Node transports (polling on `xmlhttprequest-ssl`, WebSocket on
 * `ws`), unchanged on the wire, each keeping what it has in flight, so that a teardown can wait
 * for the end of every request and WebSocket of a closed client.
 *
 * A closed client needs that: `engine.close()` emits `close` at once, while its last POST (the
 * close packet), the GET the server answers on that close and its WebSocket's closing handshake
 * are still under way. xmlhttprequest-ssl then reports each request's end through a
 * `setTimeout(0)`, and ws clears its 30 s close timer only when the TCP socket has closed: left
 * to run after the test, they fail the next test's op sanitizer.
 *
 * @module
 */
import { NodeWebSocket, NodeXHR, WebTransport } from "engine.io-client";

/** Something in flight, and the engine (an Engine.IO client socket) it belongs to. */
interface InFlight {
  engine: { readyState: string };
  ended: Promise<void>;
}

const inFlight = new Set<InFlight>();

function track(engine: { readyState: string }, ended: Promise<void>): void {
  const entry = { engine, ended };
  inFlight.add(entry);
  ended.then(() => inFlight.delete(entry));
}

/** Polling: a request ends with its `success` or `error`, emitted from its last timer. */
class TrackedPolling extends NodeXHR {
  // deno-lint-ignore no-explicit-any
  override request(opts: Record<string, any> = {}) {
    const req = super.request(opts);
    const emitter = req as unknown as { once(ev: string, fn: () => void): void };
    track(
      this.socket,
      new Promise((resolve) => {
        emitter.once("success", resolve);
        emitter.once("error", resolve);
      }),
    );
    return req;
  }
}

/** WebSocket: ws emits `close` once its TCP socket has closed and its close timer is cleared. */
class TrackedWebSocket extends NodeWebSocket {
  override createSocket(
    uri: string,
    protocols: string | string[] | undefined,
    // deno-lint-ignore no-explicit-any
    opts: Record<string, any>,
  ) {
    const ws = super.createSocket(uri, protocols, opts);
    track(this.socket, new Promise((resolve) => ws.once("close", () => resolve())));
    return ws;
  }
}

const BY_NAME = {
  polling: TrackedPolling,
  websocket: TrackedWebSocket,
  webtransport: WebTransport,
} as const;

/**
 * The tracked transport classes for transport names (the official client takes either); the
 * official default when none are given. Classes are kept as they are.
 */
export function trackedTransports(
  transports: readonly unknown[] = ["polling", "websocket", "webtransport"],
): unknown[] {
  return transports.map((t) => typeof t === "string" ? BY_NAME[t as keyof typeof BY_NAME] ?? t : t);
}

/**
 * Resolves once every request and WebSocket of the closed official clients has ended (those of
 * open clients are theirs to keep).
 */
export async function closedClientsIdle(): Promise<void> {
  const ended = [...inFlight].filter((e) => e.engine.readyState === "closed").map((e) => e.ended);
  await Promise.all(ended);
}
