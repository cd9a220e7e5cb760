/**
 * Cluster adapters: rooms, broadcasts, acks, `fetchSockets` and `serverSideEmit` across the
 * servers of a cluster, with the official `socket.io-adapter` cluster messages. Browser
 * compatible, no dependency.
 *
 * {@linkcode BroadcastChannelAdapter} joins the workers of one Deno or Bun process (or the
 * isolates of a Deno Deploy deployment) on a `BroadcastChannel`. {@linkcode ClusterAdapter} and
 * {@linkcode ClusterAdapterWithHeartbeat} are the bases of adapters on other transports (Redis).
 *
 * @example Workers sharing rooms
 * ```ts
 * import { Server } from "@socketio-edge/core";
 * import { createBroadcastChannelAdapter } from "@socketio-edge/core/cluster";
 *
 * const io = new Server({ adapter: createBroadcastChannelAdapter({ channel: "chat" }) });
 * io.on("connection", (socket) => socket.join("lobby"));
 * console.log(await io.of("/").adapter.serverCount()); // this worker and the live others
 * await io.close();
 * ```
 *
 * @module
 */
export {
  BroadcastChannelAdapter,
  type BroadcastChannelAdapterOptions,
  createBroadcastChannelAdapter,
} from "./broadcast_channel.ts";
export {
  type BroadcastChannelForwarderOptions,
  createBroadcastChannelForwarder,
} from "../../server/forward/broadcast_channel.ts";
export {
  ClusterForwarder,
  type ForwardBus,
  type ForwarderOptions,
  type ForwardMessage,
} from "../../server/forward/forwarder.ts";
export {
  ClusterAdapter,
  type ClusterAdapterOptions,
  EMITTER_UID,
  randomId,
} from "./cluster_adapter.ts";
export {
  ClusterAdapterWithHeartbeat,
  type ClusterAdapterWithHeartbeatOptions,
} from "./with_heartbeat.ts";
export {
  type ClusterMessage,
  type ClusterResponse,
  decodeOptions,
  type EncodedOptions,
  encodeOptions,
  type MessageHeader,
  MessageType,
  type Offset,
  type ServerId,
  type WirePacket,
} from "./messages.ts";
// The adapter contract, which these adapters implement: the entry documents itself.
export * from "../mod.ts";
export { PacketType } from "../../parser/socket.ts";
