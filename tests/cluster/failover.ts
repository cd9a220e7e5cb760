/**
 * The rig of the failover tests (streams_failover_test.ts): nodes behind a load balancer with no
 * stickiness (../helpers/tcp_balancer.ts), many clients (the official socket.io-client and ours)
 * that count what they receive, and a steady flow of numbered broadcasts sent through the
 * control API of a live node.
 *
 * @module
 */
import { createClient } from "redis";
import { io as ourClient } from "../../client/mod.ts";
import { decodeEntry } from "../../adapter/redis/streams_entry.ts";
import { MessageType } from "../../adapter/cluster/messages.ts";
import { type ClientSocket, closeClients, connected, officialClient } from "../helpers/socketio.ts";
import type { TcpBalancer } from "../helpers/tcp_balancer.ts";
import type { ClusterNode } from "./nodes.ts";

/** Which socket.io-client: the official one or ours. */
export type ClientKind = "official" | "ours";

/** What the tests use of a client, the official one's or ours. */
interface AnyClient {
  readonly id: string | undefined;
  readonly recovered: boolean;
  readonly connected: boolean;
  auth: unknown;
  io: { engine: { close(): void; readyState?: string } | undefined };
  on(ev: string, fn: (...args: never[]) => void): unknown;
  onAny(fn: (ev: string, ...args: unknown[]) => void): unknown;
  emitWithAck(ev: string): Promise<unknown>;
  disconnect(): unknown;
}

/** One counted client. */
export class Counted {
  readonly kind: ClientKind;
  readonly socket: AnyClient;
  /** Whether it is in room "news" (which the odd messages go to). */
  readonly inNews: boolean;
  /** The numbers of the messages it received, in order of arrival. */
  readonly got: number[] = [];
  /** Its first socket id. */
  firstId = "";
  /** Connections after the first, and whether each was recovered with the same id. */
  readonly reconnections: { recovered: boolean; sameId: boolean; at: number }[] = [];

  constructor(kind: ClientKind, url: string, index: number) {
    this.kind = kind;
    this.inNews = index % 2 === 0;
    const opts = {
      forceNew: true,
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 500,
      auth: { rooms: this.inNews ? ["news"] : ["other"], data: { index } },
    };
    this.socket =
      (kind === "official"
        ? officialClient(url, opts)
        : ourClient(url, opts as Parameters<typeof ourClient>[1])) as unknown as AnyClient;
    this.socket.onAny((ev, n) => {
      if (ev === "m") this.got.push(n as number);
    });
    this.socket.on("connect", () => {
      if (!this.firstId) {
        this.firstId = this.socket.id!;
        // From now on the node's app gets no rooms or data from the client: what it has after
        // a reconnection, it restored.
        this.socket.auth = {};
        return;
      }
      this.reconnections.push({
        recovered: this.socket.recovered,
        sameId: this.socket.id === this.firstId,
        at: performance.now(),
      });
    });
  }

  /** The messages it should have received, of all those in `order` (the stream's). */
  expected(order: readonly number[]): number[] {
    return order.filter((n) => n % 2 === 0 || this.inNews);
  }
}

/** `count` clients, alternately official and ours, connected through `balancer`. */
export async function connectClients(balancer: TcpBalancer, count: number): Promise<Counted[]> {
  const clients: Counted[] = [];
  for (let i = 0; i < count; i++) {
    clients.push(new Counted(i % 2 === 0 ? "official" : "ours", balancer.url, i));
  }
  await Promise.all(clients.map((c) => connected(c.socket as unknown as ClientSocket)));
  return clients;
}

/** Closes every client (official and ours) and resolves once their connections are closed. */
export async function closeAll(clients: readonly Counted[]): Promise<void> {
  const official = clients.filter((c) => c.kind === "official").map((c) =>
    c.socket as unknown as ClientSocket
  );
  for (const c of clients) {
    if (c.kind === "ours") {
      (c.socket.io as unknown as { skipReconnect: boolean }).skipReconnect = true;
      c.socket.disconnect();
    }
  }
  await closeClients(official);
}

/**
 * Numbered broadcasts, one after the other, each through the control API of the node `via()`
 * gives at that moment: even numbers to everyone, odd ones to room "news".
 */
export class Flow {
  sent = 0;
  #stopped = false;
  readonly #done: Promise<void>;

  constructor(via: () => ClusterNode) {
    this.#done = (async () => {
      while (!this.#stopped) {
        const n = this.sent;
        await via().control(
          n % 2 === 0 ? { op: "emit", ev: "m", args: [n] } : {
            op: "emit",
            ev: "m",
            args: [n],
            rooms: ["news"],
          },
        );
        this.sent = n + 1;
      }
    })();
  }

  /** Resolves once `count` messages were sent. */
  async reach(count: number): Promise<void> {
    while (this.sent < count && !this.#stopped) await new Promise((r) => setTimeout(r, 5));
  }

  /** Stops after the message being sent; resolves with the number sent. */
  async stop(): Promise<number> {
    this.#stopped = true;
    await this.#done;
    return this.sent;
  }
}

/**
 * The numbers of the messages in the stream, in its order: the order every client gets them in
 * (two nodes' broadcasts are ordered by their XADD, not by when the flow asked for them).
 */
export async function streamOrder(redisUrl: string): Promise<number[]> {
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  try {
    const order: number[] = [];
    for (const entry of await redis.xRange("socket.io", "-", "+")) {
      const message = decodeEntry(entry.message as Record<string, string>);
      const data = (message.data as { packet?: { data?: unknown[] } }).packet?.data;
      if (message.type === MessageType.BROADCAST && data?.[0] === "m") {
        order.push(data[1] as number);
      }
    }
    return order;
  } finally {
    await redis.close();
  }
}

/** Waits (bounded by the caller) until every client has at least what it should. */
export async function allReceived(
  clients: readonly Counted[],
  order: readonly number[],
): Promise<void> {
  const expected = clients.map((c) => c.expected(order).length);
  while (clients.some((c, i) => c.got.length < expected[i])) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Delivered, lost, duplicated and out-of-order (against the stream's `order`) messages over all
 * clients, against what each should have.
 */
export function tally(clients: readonly Counted[], order: readonly number[]) {
  let expected = 0;
  let delivered = 0;
  let duplicated = 0;
  let outOfOrder = 0;
  const rank = new Map(order.map((n, i) => [n, i]));
  for (const c of clients) {
    const want = c.expected(order);
    expected += want.length;
    const seen = new Set<number>();
    let last = -1;
    for (const n of c.got) {
      if (seen.has(n)) duplicated++;
      else seen.add(n);
      const at = rank.get(n) ?? -1;
      if (at < last) outOfOrder++;
      last = at;
    }
    for (const n of want) if (seen.has(n)) delivered++;
  }
  return { expected, delivered, lost: expected - delivered, duplicated, outOfOrder };
}

/** Median and maximum of `values`, rounded. */
export function spread(values: number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0),
    max: Math.round(sorted[sorted.length - 1] ?? 0),
  };
}
