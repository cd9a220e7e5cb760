/**
 * Broadcasting: `io.to(room).except(other).timeout(ms).emit(...)`. The packet is encoded once
 * by the adapter and the same frames go to every receiver. Browser compatible.
 *
 * @module
 */
import type {
  Adapter,
  AdapterSocket,
  BroadcastFlags,
  Room,
  SocketDetails,
} from "../adapter/adapter.ts";
import { missingOf, type PartialAnswers, withMissing } from "../adapter/partial.ts";
import { type Packet, PacketType } from "../parser/socket.ts";
import type { EngineOptions } from "./engine/options.ts";
import { report } from "./runtime/report.ts";
import { RemoteSocket } from "./remote_socket.ts";
import { RESERVED_EVENTS } from "./socket.ts";
import type {
  AllButLast,
  DecorateAcknowledgements,
  DefaultEventsMap,
  EventNames,
  EventNamesWithError,
  EventParams,
  EventsMap,
  FirstNonErrorArg,
  Last,
} from "./typed_events.ts";

/** What an operator needs from its namespace. */
export interface OperatorHost {
  /** The namespace name. */
  readonly name: string;
  /** The namespace's adapter. */
  readonly adapter: Adapter;
  /** Forgets a timed-out broadcast's ack callback in every socket. */
  _dropAck(ack: (...args: unknown[]) => void): void;
  /** The server, whose engine's scheduler times acks out. */
  readonly server: { readonly engine: { readonly opts: Pick<EngineOptions, "scheduler"> } };
}

type Ack = (...args: unknown[]) => void;

const toSet = (rooms: Room | Room[]): Room[] => (Array.isArray(rooms) ? rooms : [rooms]);

/**
 * A set of target sockets, and what to do with them.
 *
 * @example
 * ```ts
 * import { Server } from "@socketio-edge/core";
 *
 * const io = new Server();
 * io.to("room1").except("room2").emit("news", { hello: "world" });
 * const sockets = await io.in("room1").fetchSockets();
 * console.log(sockets.length); // 0
 * ```
 */
export class BroadcastOperator<
  EmitEvents extends EventsMap = DefaultEventsMap,
  SocketData = unknown,
> {
  readonly #host: OperatorHost;
  readonly #rooms: Set<Room>;
  readonly #except: Set<Room>;
  readonly #flags: BroadcastFlags;

  /**
   * Operators come from `io.to()`, `socket.broadcast` and the like, rather than from this.
   *
   * @param host the namespace
   * @param rooms target rooms (none: every socket)
   * @param except rooms whose sockets are left out
   * @param flags volatile, timeout...
   */
  constructor(
    host: OperatorHost,
    rooms: Set<Room> = new Set(),
    except: Set<Room> = new Set(),
    flags: BroadcastFlags = {},
  ) {
    this.#host = host;
    this.#rooms = rooms;
    this.#except = except;
    this.#flags = flags;
  }

  /** Adds target rooms. */
  to(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    const rooms = new Set(this.#rooms);
    for (const r of toSet(room)) rooms.add(r);
    return new BroadcastOperator(this.#host, rooms, this.#except, this.#flags);
  }

  /** Alias of {@linkcode BroadcastOperator.to}. */
  in(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    return this.to(room);
  }

  /** Excludes the sockets in these rooms. */
  except(room: Room | Room[]): BroadcastOperator<EmitEvents, SocketData> {
    const except = new Set(this.#except);
    for (const r of toSet(room)) except.add(r);
    return new BroadcastOperator(this.#host, this.#rooms, except, this.#flags);
  }

  #with(flags: BroadcastFlags): BroadcastOperator<EmitEvents, SocketData> {
    return new BroadcastOperator(this.#host, this.#rooms, this.#except, {
      ...this.#flags,
      ...flags,
    });
  }

  /** Kept for API compatibility: compression is the runtime's business. */
  compress(compress: boolean): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ compress });
  }

  /** Skips receivers that cannot take the packet now. */
  get volatile(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ volatile: true });
  }

  /** Only this node's sockets (cluster adapters). */
  get local(): BroadcastOperator<EmitEvents, SocketData> {
    return this.#with({ local: true });
  }

  /** Collects acks for at most `ms`; the ack gets `(err, responses)`. */
  timeout(ms: number): BroadcastOperator<DecorateAcknowledgements<EmitEvents>, SocketData> {
    return this.#with({ timeout: ms }) as unknown as BroadcastOperator<
      DecorateAcknowledgements<EmitEvents>,
      SocketData
    >;
  }

  /**
   * Emits to every target; a function as last argument collects every receiver's ack.
   *
   * @throws when `ev` is a reserved event name
   */
  emit<Ev extends EventNames<EmitEvents>>(ev: Ev, ...args: EventParams<EmitEvents, Ev>): boolean {
    if (RESERVED_EVENTS.has(ev)) throw new Error(`"${ev}" is a reserved event name`);
    const data: unknown[] = [ev, ...args];
    const packet: Packet = { type: PacketType.EVENT, nsp: this.#host.name, data };
    const opts = { rooms: this.#rooms, except: this.#except, flags: this.#flags };
    if (typeof data[data.length - 1] !== "function") {
      this.#host.adapter.broadcast(packet, opts);
      return true;
    }
    const ack = data.pop() as Ack;
    // The adapter gives the packet its id (from the namespace's counter).
    this.#broadcastWithAck(packet, opts, ack);
    return true;
  }

  #broadcastWithAck(
    packet: Packet,
    opts: { rooms: Set<Room>; except: Set<Room>; flags: BroadcastFlags },
    ack: Ack,
  ): void {
    const flags = this.#flags;
    const single = flags.expectSingleResponse;
    const responses: unknown[] = [];
    let timedOut = false;
    let expectedServers = -1;
    let servers = 0;
    let expectedClients = 0;
    const adapter = this.#host.adapter;
    // The callback is the application's: what it throws is reported, never thrown out of the
    // timer or the promise that call it (which would end the process, or reject unhandled).
    const answer = (err: Error | null, res: unknown) => {
      try {
        ack(err, res);
      } catch (thrown) {
        report(thrown);
      }
    };
    const scheduler = this.#host.server.engine.opts.scheduler;
    // Without timeout() it times out at once, as `setTimeout(fn, undefined)` does officially.
    const timer = scheduler.set(() => {
      timedOut = true;
      // Late answers must not find the callback, nor keep it alive.
      this.#host._dropAck(onAck);
      // Every client of the nodes that counted answered: the nodes that never counted are what
      // is missing, and an adapter with partial responses resolves with the others' answers.
      const missing = single || responses.length !== expectedClients
        ? undefined
        : adapter.missingForAck?.(onAck);
      if (missing !== undefined && missing.count > 0) {
        return answer(null, withMissing(responses, missing));
      }
      answer(new Error("operation has timed out"), single ? null : responses);
    }, flags.timeout ?? 0);
    const check = () => {
      if (
        !timedOut && expectedServers === servers && responses.length === expectedClients
      ) {
        scheduler.clear(timer);
        answer(null, single ? responses[0] : withMissing(responses));
      }
    };
    const onAck = (response: unknown) => {
      // After the timeout, the responses are the caller's: a late ack leaves them alone.
      if (timedOut) return;
      responses.push(response);
      check();
    };
    adapter.broadcastWithAck(packet, opts, (clients) => {
      expectedClients += clients;
      servers++;
      check();
    }, onAck);
    // A cluster adapter that cannot count its servers: the timeout answers, with what came.
    adapter.serverCount().then((n) => {
      expectedServers = n;
      check();
    }, report);
  }

  /**
   * Emits and resolves with every receiver's ack; on timeout, rejects with the responses so far
   * in `err.responses`.
   */
  emitWithAck<Ev extends EventNamesWithError<EmitEvents>>(
    ev: Ev,
    ...args: AllButLast<EventParams<EmitEvents, Ev>>
  ): Promise<FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>> {
    type Result = FirstNonErrorArg<Last<EventParams<EmitEvents, Ev>>>;
    return new Promise((resolve, reject) => {
      (args as unknown[]).push((err: (Error & { responses?: unknown }) | null, res: unknown) => {
        if (!err) return resolve(res as Result);
        err.responses = res;
        reject(err);
      });
      (this.emit as (ev: string, ...a: unknown[]) => boolean)(ev, ...(args as unknown[]));
    });
  }

  /** The ids of the target sockets. */
  allSockets(): Promise<Set<string>> {
    return this.#host.adapter.sockets(this.#rooms);
  }

  /**
   * The target sockets: this node's `Socket`s, and a {@linkcode RemoteSocket} for each socket
   * of another node (cluster adapters). When some nodes did not answer within the timeout (the
   * operator's `timeout()`, else the adapter's `requestsTimeout`): the sockets of those that
   * did, and `missing` naming the others (see {@linkcode PartialAnswers}); with the adapter's
   * `partialResponses: false`, the official error instead.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   *
   * const io = new Server();
   * const sockets = await io.in("room1").fetchSockets();
   * if (sockets.missing.count > 0) console.warn("not heard from", sockets.missing.uids);
   * for (const socket of sockets) socket.emit("hello");
   * ```
   */
  async fetchSockets(): Promise<PartialAnswers<RemoteSocket<EmitEvents, SocketData>>> {
    const sockets = await this.#host.adapter.fetchSockets({
      rooms: this.#rooms,
      except: this.#except,
      flags: this.#flags,
    });
    const found = sockets.map((socket) => {
      // A local socket has the members of a RemoteSocket (and more), as officially.
      if (typeof (socket as AdapterSocket).writeEncoded === "function") {
        return socket as unknown as RemoteSocket<EmitEvents, SocketData>;
      }
      const details = socket as SocketDetails<SocketData>;
      // As socket.emit() with an ack: one response, not an array of them.
      const operator = new BroadcastOperator<EmitEvents, SocketData>(
        this.#host,
        new Set([details.id]),
        new Set(),
        { expectSingleResponse: true },
      );
      return new RemoteSocket(operator, details);
    });
    return withMissing(found, missingOf(sockets));
  }

  /** Makes the target sockets join rooms. */
  socketsJoin(room: Room | Room[]): void {
    this.#host.adapter.addSockets(
      { rooms: this.#rooms, except: this.#except, flags: this.#flags },
      toSet(room),
    );
  }

  /** Makes the target sockets leave rooms. */
  socketsLeave(room: Room | Room[]): void {
    this.#host.adapter.delSockets(
      { rooms: this.#rooms, except: this.#except, flags: this.#flags },
      toSet(room),
    );
  }

  /** Disconnects the target sockets; with `close`, their whole connections. */
  disconnectSockets(close = false): void {
    this.#host.adapter.disconnectSockets(
      { rooms: this.#rooms, except: this.#except, flags: this.#flags },
      close,
    );
  }
}
