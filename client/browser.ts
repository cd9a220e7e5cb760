/**
 * Entry of the script bundle (`socket.io.js`): puts `io` on the global object, as the official
 * `socket.io.js` does. Browser compatible.
 *
 * @module
 */
import { io } from "./mod.ts";

(globalThis as { io?: unknown }).io = io;
