/**
 * The demo's server side: rooms, messages with acks, live cursors (volatile), and a ping that the
 * page times to show the round trip. On a cluster, every node keeps the rooms' recent history: a
 * message is told to the other nodes (`serverSideEmit`), and a node that starts asks them for
 * theirs, so a page sees the same history whichever node it reaches.
 *
 * @module
 */
import type { Server } from "../mod.ts";

/** Rooms offered by the page. */
export const ROOMS = ["general", "random", "dev"] as const;

interface Message {
  room: string;
  from: string;
  text: string;
  at: number;
}

const HISTORY = 50;

function isMessage(m: unknown): m is Message {
  const msg = m as Message;
  return typeof msg === "object" && msg !== null && typeof msg.room === "string" &&
    typeof msg.from === "string" && typeof msg.text === "string" && typeof msg.at === "number";
}

/**
 * Wires the chat onto `io`. With `cluster`, the history is shared with the other nodes (the
 * in-memory adapter has none, and warns at every `serverSideEmit`).
 */
export function chat(io: Server, { cluster = false }: { cluster?: boolean } = {}): void {
  const history = new Map<string, Message[]>(ROOMS.map((r) => [r, []]));
  const remember = (msg: unknown) => {
    const list = isMessage(msg) && history.get(msg.room);
    if (!list || list.some((m) => m.at === msg.at && m.from === msg.from && m.text === msg.text)) {
      return;
    }
    list.push(msg);
    list.sort((a, b) => a.at - b.at);
    if (list.length > HISTORY) list.shift();
  };

  if (cluster) {
    io.on("chat:message", remember);
    io.on("chat:history", (ack: (all: Message[]) => void) => ack([...history.values()].flat()));
    // A peer that does not answer in time is skipped: its messages arrive as they are sent.
    io.serverSideEmitWithAck("chat:history").then(
      (answers: Message[][]) => answers.flat().forEach(remember),
      (err: { responses?: Message[][] }) => err.responses?.flat().forEach(remember),
    );
  }

  io.on("connection", (socket) => {
    let room: string | undefined;
    let name = "guest-" + socket.id.slice(0, 4);

    socket.on("hello", (wanted: unknown, ack: (info: unknown) => void) => {
      if (typeof wanted === "string" && wanted.trim()) name = wanted.trim().slice(0, 24);
      ack({ id: socket.id, name, rooms: ROOMS });
    });

    socket.on("join", (wanted: unknown, ack: (msgs: Message[]) => void) => {
      if (typeof wanted !== "string" || !history.has(wanted)) return;
      if (room) {
        socket.to(room).emit("left", { id: socket.id, name });
        socket.leave(room);
      }
      room = wanted;
      socket.join(room);
      socket.to(room).emit("joined", { id: socket.id, name });
      ack(history.get(room)!);
    });

    socket.on("chat", (text: unknown, ack: (ok: boolean) => void) => {
      if (!room || typeof text !== "string" || !text.trim()) return ack?.(false);
      const msg: Message = { room, from: name, text: text.slice(0, 500), at: Date.now() };
      remember(msg);
      if (cluster) io.serverSideEmit("chat:message", msg);
      io.to(room).emit("chat", msg);
      ack?.(true);
    });

    socket.on("cursor", (x: unknown, y: unknown) => {
      if (!room || typeof x !== "number" || typeof y !== "number") return;
      // Cursors are many and only the latest matters: volatile, dropped when a client lags.
      socket.to(room).volatile.emit("cursor", { id: socket.id, name, x, y });
    });

    socket.on("rtt", (ack: () => void) => typeof ack === "function" && ack());

    socket.on("disconnecting", () => {
      if (room) socket.to(room).emit("left", { id: socket.id, name });
    });
  });
}
