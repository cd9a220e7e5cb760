/**
 * The event names Socket.IO reserves, as the official `socket.io` and `socket.io-parser` list
 * them: written out here rather than imported, so that the tests check the code against the
 * protocol and not against itself.
 */
export const RESERVED_EVENT_NAMES: readonly string[] = [
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
];
