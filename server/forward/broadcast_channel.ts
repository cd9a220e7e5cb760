/**
 * Session forwarding between the workers of one process (and the isolates of one Deno Deploy
 * deployment) on the web-standard `BroadcastChannel`, with no dependency. Browser compatible.
 *
 * @module
 */
import { report } from "../runtime/report.ts";
import { ClusterForwarder, type ForwardBus, type ForwarderOptions } from "./forwarder.ts";
import type { ForwardMessage } from "./forwarder.ts";

/**
 * Options of {@linkcode createBroadcastChannelForwarder}.
 *
 * @example
 * ```ts
 * import type { BroadcastChannelForwarderOptions } from "@socketio-edge/core/cluster";
 *
 * const options: BroadcastChannelForwarderOptions = { channel: "chat" };
 * ```
 */
export interface BroadcastChannelForwarderOptions extends ForwarderOptions {
  /**
   * The prefix of the channel names (`${channel}#forward` and one per node). Servers with the
   * same prefix forward to each other. Default: `"socket.io"`.
   */
  channel?: string;
}

/** What the bus itself says on the shared channel: a node comes, answers, or goes. */
type Presence = { b: "hi" | "here" | "bye"; from: string };

/**
 * A bus on BroadcastChannels: one shared by every node, and one per node for what is sent to
 * it. Nodes are known from a greeting (each node answers a new one), and forgotten when they say
 * goodbye; one that ends without a word is waited for no longer than `locateTimeout`.
 */
class ChannelBus implements ForwardBus {
  readonly id: string = crypto.randomUUID();
  readonly #prefix: string;
  readonly #peers = new Set<string>();
  readonly #outs = new Map<string, BroadcastChannel>();
  #shared: BroadcastChannel | undefined;
  #own: BroadcastChannel | undefined;

  constructor(prefix: string) {
    this.#prefix = `${prefix}#forward`;
  }

  open(receive: (message: ForwardMessage) => void): Promise<void> {
    const deliver = (event: MessageEvent) => {
      const data = event.data as ForwardMessage | Presence;
      if (typeof data !== "object" || data === null || data.from === this.id) return;
      if ("b" in data) {
        if (data.b === "bye") {
          this.#peers.delete(data.from);
          this.#outs.get(data.from)?.close();
          this.#outs.delete(data.from);
          return;
        }
        this.#peers.add(data.from);
        if (data.b === "hi") this.#out(data.from).postMessage({ b: "here", from: this.id });
        return;
      }
      this.#peers.add(data.from);
      receive(data);
    };
    this.#shared = new BroadcastChannel(this.#prefix);
    this.#own = new BroadcastChannel(`${this.#prefix}#${this.id}`);
    this.#shared.onmessage = this.#own.onmessage = (event) => {
      try {
        deliver(event);
      } catch (err) {
        report(err); // thrown out of an event listener, it would end the process
      }
    };
    this.#shared.postMessage({ b: "hi", from: this.id });
    return Promise.resolve();
  }

  broadcast(message: ForwardMessage): Promise<number> {
    this.#shared?.postMessage(message);
    return Promise.resolve(this.#peers.size);
  }

  send(to: string, message: ForwardMessage): void {
    if (this.#shared === undefined) return;
    this.#out(to).postMessage(message);
  }

  #out(to: string): BroadcastChannel {
    let channel = this.#outs.get(to);
    if (channel === undefined) {
      channel = new BroadcastChannel(`${this.#prefix}#${to}`);
      this.#outs.set(to, channel);
    }
    return channel;
  }

  close(): Promise<void> {
    this.#shared?.postMessage({ b: "bye", from: this.id });
    this.#shared?.close();
    this.#own?.close();
    for (const channel of this.#outs.values()) channel.close();
    this.#outs.clear();
    this.#peers.clear();
    this.#shared = this.#own = undefined;
    return Promise.resolve();
  }
}

/**
 * A forwarder between the workers of one process: a poll, a POST or a WebSocket upgrade that
 * lands on a worker other than its session's is served there, so workers can share one port
 * (`reusePort`) with no sticky sessions. Give one to each server (the `forwarder` option),
 * with the same `channel`.
 *
 * @param options the channel prefix and how long to look for a session's node
 * @returns the server's `forwarder`
 *
 * @example Deno workers on one port
 * ```ts ignore
 * // worker.ts, started N times by main.ts
 * import { Server } from "@socketio-edge/core";
 * import {
 *   createBroadcastChannelAdapter,
 *   createBroadcastChannelForwarder,
 * } from "@socketio-edge/core/cluster";
 *
 * const io = new Server({
 *   adapter: createBroadcastChannelAdapter(),
 *   forwarder: createBroadcastChannelForwarder(),
 * });
 * Deno.serve({ port: 3000, reusePort: true }, io.handler());
 * ```
 */
export function createBroadcastChannelForwarder(
  options: BroadcastChannelForwarderOptions = {},
): ClusterForwarder {
  return new ClusterForwarder(new ChannelBus(options.channel ?? "socket.io"), options);
}
