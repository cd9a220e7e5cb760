/**
 * Random ids of sockets and their sessions (`socket.id`, the recovery `pid`): the engine's, the
 * shape of official ids. Browser compatible.
 *
 * @module
 */
export { randomId } from "./engine/ids.ts";
