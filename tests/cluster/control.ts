/**
 * The control API every cluster node answers (the official one, tests/fixtures/
 * official_redis_node.mjs, and ours, our_node.ts): `POST /control` with a JSON {@linkcode Op},
 * answered with its JSON result, so that a scenario tells any node what to do in one way.
 * Binary values travel as `{ $bin: [bytes] }` both ways.
 *
 * @module
 */

/** Which sockets an operation is for (`io.to(rooms).except(except)`, `.volatile`, `.local`). */
export interface Selection {
  /** The namespace, "/" (default) or "/custom". */
  nsp?: string;
  /** `to(rooms)`. */
  rooms?: string[];
  /** `except(rooms)`. */
  except?: string[];
  /** `.volatile`. */
  volatile?: boolean;
  /** `.local`. */
  local?: boolean;
}

/** A socket as `fetchSockets` describes it (local or remote). */
export interface SocketInfo {
  /** Its id. */
  id: string;
  /** Its rooms, sorted (its own id among them). */
  rooms: string[];
  /** `socket.data` (null when unset). */
  data: unknown;
  /** `socket.handshake.auth`. */
  auth: Record<string, unknown>;
  /** `socket.handshake.address` (the client's, as the node that has it saw it). */
  address: string;
  /** Whether the socket is another node's (a `RemoteSocket`), not in this node's namespace. */
  remote: boolean;
}

/** The outcome of something with acks: the error's message (or null) and the responses. */
export interface AckResult {
  /** `err.message`, e.g. "operation has timed out", or null. */
  err: string | null;
  /** The responses received (partial when `err` is set). */
  responses: unknown[];
  /** Ours: the nodes that did not answer (a count of 0 when all did), when the answer has it. */
  missing?: { count: number; uids: readonly string[] };
}

/** A server-side event the node's app received. */
export interface ObservedEvent {
  /** The namespace it came to. */
  nsp: string;
  /** "sse" (no ack) or "sse-ack". */
  ev: string;
  /** Its arguments (without the ack). */
  args: unknown[];
}

/** The operations, each with its result type. */
export interface Ops {
  /** `io.to(...).emit(ev, ...args)`. */
  emit: [Selection & { ev: string; args?: unknown[] }, Record<never, never>];
  /** `io.timeout(timeout).to(...).emit(ev, ...args, cb)`. */
  emitWithAck: [Selection & { ev: string; args?: unknown[]; timeout: number }, AckResult];
  /** `io.to(...).fetchSockets()` (with `timeout`: `io.timeout(ms)...`), sorted by id. */
  fetchSockets: [
    Selection & { timeout?: number },
    // missing: ours, the nodes that did not answer (the official node gives none).
    { sockets: SocketInfo[]; missing?: { count: number; uids: readonly string[] } },
  ];
  /** Ours only: the uid of the namespace's adapter (null without a cluster adapter). */
  uid: [{ nsp?: string }, { uid: string | null }];
  /** `io.to(...).socketsJoin(room)`. */
  socketsJoin: [Selection & { room: string | string[] }, Record<never, never>];
  /** `io.to(...).socketsLeave(room)`. */
  socketsLeave: [Selection & { room: string | string[] }, Record<never, never>];
  /** `io.to(...).disconnectSockets(close)`. */
  disconnectSockets: [Selection & { close?: boolean }, Record<never, never>];
  /** Something on one socket found with `fetchSockets()` (a `RemoteSocket` when remote). */
  remoteSocket: [
    {
      nsp?: string;
      id: string;
      action: "emit" | "emitWithAck" | "join" | "leave" | "disconnect";
      ev?: string;
      args?: unknown[];
      timeout?: number;
      room?: string;
      close?: boolean;
    },
    // emitWithAck: the error's message (or null) and the socket's single response.
    { found: boolean; err?: string | null; response?: unknown },
  ];
  /** `nsp.serverSideEmit(ev, ...args)`. */
  serverSideEmit: [{ nsp?: string; ev: string; args?: unknown[] }, Record<never, never>];
  /** `nsp.serverSideEmit(ev, ...args, cb)`. */
  serverSideEmitWithAck: [{ nsp?: string; ev: string; args?: unknown[] }, AckResult];
  /** `nsp.adapter.serverCount()`. */
  serverCount: [{ nsp?: string }, { count: number }];
  /** What the app observed since the last call (then forgotten). */
  observed: [Record<never, never>, { events: ObservedEvent[] }];
  /** App settings: whether it answers `sse-ack`. */
  configure: [{ answerServerSide?: boolean }, Record<never, never>];
  /**
   * `@socket.io/redis-emitter` (official nodes only) on the node's Redis client: `emit` (the
   * default), `socketsJoin` / `socketsLeave` (`room`), `disconnectSockets` or `serverSideEmit`.
   */
  emitter: [
    {
      nsp?: string;
      rooms?: string[];
      except?: string[];
      action?: "emit" | "socketsJoin" | "socketsLeave" | "disconnectSockets" | "serverSideEmit";
      ev?: string;
      args?: unknown[];
      room?: string | string[];
      close?: boolean;
    },
    Record<never, never>,
  ];
}

/** An operation's name. */
export type OpName = keyof Ops;

/** A request: its name and its fields. */
export type Op = { [K in OpName]: { op: K } & Ops[K][0] }[OpName];

/** `{ $bin: [...] }` back to bytes, deeply (`make` builds them: Buffer on Node, else Uint8Array). */
export function decodeValue(value: unknown, make = (b: number[]) => new Uint8Array(b)): unknown {
  if (Array.isArray(value)) return value.map((v) => decodeValue(v, make));
  if (value && typeof value === "object") {
    const bin = (value as { $bin?: unknown }).$bin;
    if (Array.isArray(bin) && Object.keys(value).length === 1) return make(bin);
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, decodeValue(v, make)]),
    );
  }
  return value;
}

/** Bytes to `{ $bin: [...] }`, deeply; an Error to `{ error: message }`. */
export function encodeValue(value: unknown): unknown {
  if (value instanceof ArrayBuffer) return { $bin: [...new Uint8Array(value)] };
  if (ArrayBuffer.isView(value)) {
    return { $bin: [...new Uint8Array(value.buffer, value.byteOffset, value.byteLength)] };
  }
  if (Array.isArray(value)) return value.map(encodeValue);
  if (value instanceof Error) return { error: value.message };
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeValue(v)]));
  }
  return value;
}

/** Binary as the control API carries it. */
export function bin(...bytes: number[]): { $bin: number[] } {
  return { $bin: bytes };
}
