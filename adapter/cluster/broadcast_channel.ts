/**
 * A cluster adapter on the web-standard `BroadcastChannel`: the workers of one Deno or Bun
 * process (and, on Deno Deploy, the isolates of one deployment) share rooms and broadcasts, with
 * no dependency. Browser compatible.
 *
 * @module
 */
import type { AdapterConstructor, AdapterNamespace } from "../adapter.ts";
import { report } from "../../server/runtime/report.ts";
import type { ClusterMessage, ClusterResponse } from "./messages.ts";
import {
  ClusterAdapterWithHeartbeat,
  type ClusterAdapterWithHeartbeatOptions,
} from "./with_heartbeat.ts";

/**
 * Options of {@linkcode createBroadcastChannelAdapter}.
 *
 * @example
 * ```ts
 * import type { BroadcastChannelAdapterOptions } from "@socketio-edge/core/cluster";
 *
 * const options: BroadcastChannelAdapterOptions = { channel: "chat", heartbeatInterval: 2_000 };
 * ```
 */
export interface BroadcastChannelAdapterOptions extends ClusterAdapterWithHeartbeatOptions {
  /**
   * The prefix of the channel names: each namespace has the channel `${channel}#${nsp}#`.
   * Servers with the same prefix form one cluster. Default: `"socket.io"`.
   */
  channel?: string;
}

/**
 * The BroadcastChannel adapter of one namespace. Messages are the official cluster messages,
 * sent by structured clone: binary payloads (`Uint8Array`, `ArrayBuffer`, `Blob`) cross as they
 * are, and what cannot be cloned (a function, a class instance's prototype) does not cross.
 * Nodes are counted by heartbeats.
 *
 * @example Serving a namespace's rooms across workers
 * ```ts
 * import { Server } from "@socketio-edge/core";
 * import { BroadcastChannelAdapter } from "@socketio-edge/core/cluster";
 *
 * const io = new Server({ adapter: BroadcastChannelAdapter });
 * io.on("connection", (socket) => socket.join("lobby"));
 * io.to("lobby").emit("news", "reaches the lobby of every worker");
 * await io.close();
 * ```
 */
export class BroadcastChannelAdapter extends ClusterAdapterWithHeartbeat {
  readonly #channel: BroadcastChannel;

  /**
   * Build the adapter of a namespace, on its channel.
   *
   * @param nsp The namespace this adapter serves.
   * @param options The channel prefix, heartbeat and request timings.
   */
  constructor(nsp: AdapterNamespace, options: BroadcastChannelAdapterOptions = {}) {
    super(nsp, options);
    this.#channel = new BroadcastChannel(`${options.channel ?? "socket.io"}#${nsp.name}#`);
    this.#channel.onmessage = (event: MessageEvent) => {
      try {
        this.onMessage(event.data);
      } catch (err) {
        report(err); // thrown out of an event listener, it would end the process
      }
    };
  }

  /** Posts `message` to every other node on the channel (cloned before this returns). */
  protected doPublish(message: ClusterMessage): Promise<undefined> {
    this.#channel.postMessage(message);
    return Promise.resolve(undefined);
  }

  /** Posts `response` on the channel, where the other nodes ignore what is not theirs. */
  protected doPublishResponse(_requesterUid: string, response: ClusterResponse): Promise<void> {
    this.#channel.postMessage(response);
    return Promise.resolve();
  }

  /**
   * Says goodbye to the other nodes, then closes the channel.
   *
   * @example
   * ```ts
   * import { Server } from "@socketio-edge/core";
   * import { BroadcastChannelAdapter } from "@socketio-edge/core/cluster";
   *
   * const io = new Server({ adapter: BroadcastChannelAdapter });
   * await io.close(); // closes the adapter of every namespace
   * ```
   */
  override close(): void | Promise<void> {
    if (this.closed) return;
    const closed = super.close();
    this.#channel.close();
    return closed;
  }
}

/**
 * The BroadcastChannel adapter with options, for the server's `adapter` option.
 *
 * @param options The channel prefix, heartbeat and request timings.
 * @returns an adapter class for `new Server({ adapter })`
 *
 * @example Two Deno workers, one cluster
 * ```ts ignore
 * // main.ts: two workers, each serving its own port
 * for (const name of ["1", "2"]) {
 *   new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name });
 * }
 *
 * // worker.ts
 * import { Server } from "@socketio-edge/core";
 * import { createBroadcastChannelAdapter } from "@socketio-edge/core/cluster";
 *
 * const io = new Server({ adapter: createBroadcastChannelAdapter({ channel: "chat" }) });
 * io.on("connection", (socket) => {
 *   socket.join("lobby");
 *   socket.on("say", (text) => io.to("lobby").emit("said", text)); // both workers' clients
 * });
 * Deno.serve({ port: 3000 + Number(self.name) }, io.handler());
 * ```
 */
export function createBroadcastChannelAdapter(
  options: BroadcastChannelAdapterOptions = {},
): AdapterConstructor {
  return class extends BroadcastChannelAdapter {
    constructor(nsp: AdapterNamespace) {
      super(nsp, options);
    }
  };
}
