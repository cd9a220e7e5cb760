/**
 * Reports an error thrown by application code (a listener, a middleware) the way the runtime
 * reports an uncaught exception, without unwinding the server code that called it. Browser
 * compatible.
 *
 * @module
 */

/**
 * Reports `err` as uncaught: `reportError` where the runtime has it (an `error` event on
 * `globalThis`, which a listener may cancel), else a throw from a microtask (Node 20), so that
 * `process.on("uncaughtException")` sees it as it sees the official server's.
 */
export function report(err: unknown): void {
  if (typeof reportError === "function") reportError(err);
  else {
    queueMicrotask(() => {
      throw err;
    });
  }
}
