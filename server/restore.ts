/**
 * Bringing Socket.IO connections back after their process went away while their WebSockets
 * stayed open: a Cloudflare Durable Object that hibernated (`@socketio-edge/core/workers` does
 * this for you). Browser compatible.
 *
 * A host keeps, for each socket, a {@linkcode SocketSnapshot} (plain data); after the engine
 * restored the session (`engine.restore`), {@linkcode restoreConnection} makes its sockets again:
 * same ids, `pid`, auth, `data` and rooms, connected at once with nothing sent to the client, and
 * the namespace's `connection` listeners run for each with `socket.recovered === true`, as after
 * connection state recovery, so the application's `socket.on(...)` handlers are there again.
 * Middleware does not run again.
 *
 * What cannot come back: acknowledgements the server was waiting for (their callbacks lived in
 * the old process). Ack ids go on from {@linkcode ackIdFloor}, so a late answer to one of them
 * is dropped, never taken for a new one.
 *
 * @module
 */
import type { Room } from "../adapter/adapter.ts";
import { PacketType } from "../parser/socket.ts";
import { Client } from "./client.ts";
import type { EngineSocket } from "./engine/session.ts";
import type { Namespace } from "./namespace.ts";
import { report } from "./runtime/report.ts";
import type { Server } from "./server.ts";
import type { Socket } from "./socket.ts";

/** What is kept of one socket (one namespace of a connection) to restore it. Plain data. */
export interface SocketSnapshot {
  /** The namespace name. */
  nsp: string;
  /** The socket id. */
  id: string;
  /** The private session id, with connection state recovery on. */
  pid?: string;
  /** The CONNECT packet's payload (`socket.handshake.auth`). */
  auth: Record<string, unknown>;
  /** `socket.data`. */
  data: unknown;
  /** The rooms it is in, its own room left out. */
  rooms: Room[];
  /** When it connected (ms since the epoch): `socket.handshake.issued`. */
  issued: number;
}

/**
 * What to keep of `socket` now.
 *
 * @example
 * ```ts
 * import { Server } from "./server.ts";
 * import { snapshotSocket } from "./restore.ts";
 *
 * const io = new Server();
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   console.log(snapshotSocket(socket).rooms); // ["lobby"]
 * });
 * ```
 *
 * @param socket a connected socket
 */
export function snapshotSocket(socket: Socket<never, never, never, unknown>): SocketSnapshot {
  const rooms: Room[] = [];
  for (const room of socket.rooms) if (room !== socket.id) rooms.push(room);
  const snapshot: SocketSnapshot = {
    nsp: socket.nsp.name,
    id: socket.id,
    auth: socket.handshake.auth,
    data: socket.data,
    rooms,
    issued: socket.handshake.issued,
  };
  if (socket.pid !== undefined) snapshot.pid = socket.pid;
  return snapshot;
}

/**
 * Makes the Socket.IO connection of a session the engine restored, with its sockets. A socket
 * whose namespace no longer exists (a dynamic one that refuses it now) is told it was
 * disconnected (`io server disconnect` on the client).
 *
 * @param io the server
 * @param conn the session, from `io.engine.restore(...)`
 * @param sockets what was kept of its sockets
 * @returns the restored sockets
 */
export async function restoreConnection(
  io: Server,
  conn: EngineSocket,
  sockets: readonly SocketSnapshot[],
): Promise<Socket[]> {
  const client = new Client(io, conn);
  const restored: Socket[] = [];
  for (const snapshot of sockets) {
    const nsp = io._nsps.get(snapshot.nsp) ?? await dynamicNamespace(io, snapshot);
    if (conn.readyState !== "open") break;
    if (nsp === undefined) {
      client._packet({ type: PacketType.DISCONNECT, nsp: snapshot.nsp });
      continue;
    }
    restored.push(nsp._restore(client, snapshot) as unknown as Socket);
  }
  return restored;
}

function dynamicNamespace(io: Server, snapshot: SocketSnapshot): Promise<Namespace | undefined> {
  return new Promise((resolve) => {
    try {
      io._checkNamespace(snapshot.nsp, snapshot.auth, resolve);
    } catch (err) {
      report(err);
      resolve(undefined);
    }
  });
}

/**
 * An ack id no namespace of `io` has used yet: keep it, and give it to {@linkcode resumeAckIds}
 * in the next process, so that acks sent there never reuse an id still awaited by a client.
 *
 * @param io the server
 */
export function ackIdFloor(io: Server): number {
  let floor = 0;
  for (const nsp of io._nsps.values()) floor = Math.max(floor, nsp._ids.next);
  return floor;
}

/**
 * Starts the ack ids of every namespace at `floor` or above. Call it once the connections are
 * restored: an id matters only to the sockets of its namespace, and a namespace made later has
 * no socket that could still await an old one.
 *
 * @param io the server
 * @param floor what {@linkcode ackIdFloor} gave in the previous process
 */
export function resumeAckIds(io: Server, floor: number): void {
  for (const nsp of io._nsps.values()) nsp._ids.next = Math.max(nsp._ids.next, floor);
}
