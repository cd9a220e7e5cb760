/**
 * The demo's server side: rooms, messages with acks, live cursors (volatile), and a ping that the
 * page times to show the round trip.
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

/** Wires the chat onto `io`. */
export function chat(io: Server): void {
  const history = new Map<string, Message[]>(ROOMS.map((r) => [r, []]));

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
      const list = history.get(room)!;
      list.push(msg);
      if (list.length > HISTORY) list.shift();
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
