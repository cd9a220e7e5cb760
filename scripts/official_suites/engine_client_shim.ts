/**
 * Our client's Engine.IO socket under the names of npm `engine.io-client`, for its suite: our
 * client publishes `Engine` (the official `Socket`) and `Transport`; nothing else of that
 * package's surface (the `transports` map, `NodeXHR`, `parse`...) has a public counterpart.
 *
 * @module
 */
import { Engine } from "../../client/mod.ts";

export { Engine as Socket, Transport } from "../../client/mod.ts";

/** The Engine.IO protocol revision, as `engine.io-client` exports it. */
export const protocol: number = Engine.protocol;
