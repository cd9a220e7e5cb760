/**
 * A node of a BroadcastChannel cluster in a Worker (Deno's, or Bun's in one Bun process), for
 * workers.ts: our app (our_app.ts) with our BroadcastChannel adapter, or, as `official`, the
 * official socket.io with the official `ClusterAdapterWithHeartbeat` on the same channels
 * (official_cluster_app.mjs, the official node's app). Either answers the control API on a port
 * of its own. Messages from the parent: `{ type: "start", runtime, config }`, answered with
 * `{ type: "ready", port }` (or `{ type: "failed", error }`); `{ type: "stop" }`, answered with
 * `{ type: "stopped" }` once the server is closed.
 *
 * @module
 */
import {
  createBroadcastChannelAdapter,
  createBroadcastChannelForwarder,
} from "../../adapter/cluster/mod.ts";
import { type NodeConfig, type RunningApp, startApp } from "./our_app.ts";

/** A message of the parent. */
export type WorkerCommand =
  | { type: "start"; runtime: "deno" | "bun" | "official"; config: NodeConfig }
  | { type: "stop" };

/** A message to the parent. */
export type WorkerReport =
  | { type: "ready"; port: number }
  | { type: "failed"; error: string }
  | { type: "stopped" };

const parent = self as unknown as {
  postMessage(message: WorkerReport): void;
  onmessage: ((event: MessageEvent<WorkerCommand>) => void) | null;
};

let app: RunningApp | undefined;

/** The official server on node:http, with the official adapter on a BroadcastChannel. */
async function startOfficial(config: NodeConfig): Promise<RunningApp> {
  const { Server } = await import("socket.io");
  const { ClusterAdapterWithHeartbeat } = await import("socket.io-adapter");
  const { startOfficialApp } = await import("../fixtures/official_cluster_app.mjs");
  const options = config.adapterOptions ?? {};
  // The glue a user writes for the official adapter, on the channels ours uses.
  // deno-lint-ignore no-explicit-any
  const Base = ClusterAdapterWithHeartbeat as any;
  class OfficialBroadcastChannelAdapter extends Base {
    channel: BroadcastChannel;
    closed = false;
    // deno-lint-ignore no-explicit-any
    constructor(nsp: any) {
      super(nsp, options);
      this.channel = new BroadcastChannel(`${options.channel}#${nsp.name}#`);
      this.channel.onmessage = (event: MessageEvent) => this.onMessage(event.data);
    }
    doPublish(message: unknown) {
      // Under Deno, the official heartbeat timer may still fire once after close().
      if (!this.closed) this.channel.postMessage(message);
      return Promise.resolve("");
    }
    doPublishResponse(_uid: string, response: unknown) {
      if (!this.closed) this.channel.postMessage(response);
      return Promise.resolve();
    }
    close() {
      super.close();
      this.closed = true;
      this.channel.close();
    }
  }
  return await startOfficialApp({
    Server,
    config,
    adapter: OfficialBroadcastChannelAdapter,
    emitter: undefined,
  });
}

async function start(runtime: string, config: NodeConfig): Promise<RunningApp> {
  if (config.adapter !== "broadcast-channel") {
    throw new Error(`a worker node runs the broadcast-channel adapter, not ${config.adapter}`);
  }
  if (runtime === "official") return await startOfficial(config);
  const channel = (config.adapterOptions as { channel?: string } | undefined)?.channel;
  const forwarder = config.forward ? createBroadcastChannelForwarder({ channel }) : undefined;
  return startApp(config, createBroadcastChannelAdapter(config.adapterOptions), forwarder);
}

parent.onmessage = async ({ data }) => {
  if (data.type === "start") {
    try {
      app = await start(data.runtime, data.config);
      parent.postMessage({ type: "ready", port: app.port });
    } catch (err) {
      parent.postMessage({ type: "failed", error: String((err as Error)?.stack ?? err) });
    }
  } else if (data.type === "stop") {
    await app?.close();
    parent.postMessage({ type: "stopped" });
  }
};
