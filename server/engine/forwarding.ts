/**
 * The engine's extension point for clusters without sticky sessions: a request for a session
 * another node holds is handed to a {@linkcode SessionForwarder}, which carries it to that node
 * and brings its answer back; the node that holds the session serves it through
 * {@linkcode ForwardingHost}. Browser compatible (types only).
 *
 * @module
 */
import type { RawSocket, RawSocketEvents } from "../runtime/types.ts";
import type { Scheduler } from "../runtime/scheduler.ts";

/**
 * A polling request as it travels to the node that holds its session: plain data, so that any
 * transport (structured clone, JSON) carries it.
 */
export interface ForwardedRequest {
  /** `GET` or `POST`. */
  method: string;
  /** The path and query (`/socket.io/?EIO=4&transport=polling&sid=...`). */
  url: string;
  /** The request's headers, as name / value pairs. */
  headers: [string, string][];
  /** The caller's address, as the node it landed on saw it. */
  address: string;
  /** A POST's body, read whole within `maxHttpBufferSize` by the node it landed on. */
  body?: Uint8Array | string;
}

/** The answer of the node that holds the session, as it travels back. */
export interface ForwardedAnswer {
  /** The HTTP status. */
  status: number;
  /** The answer's headers, as name / value pairs. */
  headers: [string, string][];
  /** The body: a payload, `ok`, an error's JSON, or none. */
  body: string | Uint8Array | null;
}

/** A WebSocket upgrade as it travels to the node that holds its session. */
export interface ForwardedUpgrade {
  /** The path and query of the upgrade. */
  url: string;
  /** The request's headers, as name / value pairs. */
  headers: [string, string][];
  /** The caller's address, as the node it landed on saw it. */
  address: string;
}

/**
 * What a {@linkcode SessionForwarder} gets for a request whose session is not on this node, once
 * CORS, middleware and the transport checks passed.
 */
export interface ForwardCall {
  /** The session id the request names. */
  sid: string;
  /** The request. */
  req: Request;
  /** Its parsed URL. */
  url: URL;
  /** What the answer carries so far (CORS, middleware); the forwarder adds them to its answer. */
  headers: Headers;
  /** The caller's address, as this node sees it. */
  address: string;
  /**
   * For a WebSocket upgrade: upgrades the request on this node, the socket's frames going to
   * `events`; returns the response to hand back, and the socket unless the runtime refused (then
   * the response is the engine's 400, and the refusal is reported as any refused upgrade).
   * Undefined for GET and POST.
   */
  upgrade?: (events: RawSocketEvents) => { socket?: RawSocket; response: Response };
  /**
   * Calls `fn` once if the client goes away before the answer is written; returns whether it
   * will (false where the runtime cannot tell: the forwarder then watches its own answer).
   */
  onDisconnect(fn: () => void): boolean;
}

/**
 * What the engine offers its {@linkcode SessionForwarder} on the node that holds a session.
 */
export interface ForwardingHost {
  /** The engine's options that a forwarder needs. */
  readonly opts: {
    readonly pingInterval: number;
    readonly pingTimeout: number;
    readonly maxHttpBufferSize: number;
    readonly scheduler: Scheduler;
  };
  /** Whether session `sid` is open on this node. */
  has(sid: string): boolean;
  /**
   * Serves a GET or POST of session `sid` that landed on another node, as if it had come here;
   * undefined when the session is not here. `watch` is called with what to do if the client
   * goes away meanwhile (a held GET is then let go, as a poll whose client left).
   */
  serveForwarded(
    sid: string,
    req: ForwardedRequest,
    watch?: (gone: () => void) => void,
  ): Promise<ForwardedAnswer> | undefined;
  /**
   * Takes a WebSocket of session `sid` that another node upgraded: `socket` relays frames to
   * it, and the returned events take the frames it relays back. The session upgrades onto it as
   * onto a WebSocket of its own (probe, `upgrade` packet). Undefined when the session is not
   * here, or cannot upgrade (closed, upgraded or upgrading already): close the socket then.
   */
  adoptWebSocket(
    sid: string,
    req: ForwardedUpgrade,
    socket: RawSocket,
  ): RawSocketEvents | undefined;
}

/**
 * Carries requests for sessions of other nodes there: the engine option `forwarder`. The engine
 * calls {@linkcode SessionForwarder.bind} once, when it is constructed, {@linkcode
 * SessionForwarder.forward} for each request whose sid it does not hold, and
 * {@linkcode SessionForwarder.close} when it closes.
 */
export interface SessionForwarder {
  /** Gives the forwarder the engine that serves the sessions of this node. */
  bind(host: ForwardingHost): void;
  /**
   * Answers a request for session `call.sid`, held by another node: that node's answer, or
   * undefined when no node holds it (the engine answers `Session ID unknown`).
   */
  forward(call: ForwardCall): Promise<Response | undefined>;
  /** Stops forwarding: pending forwards are answered, the transport is released. */
  close(): void | Promise<void>;
}
