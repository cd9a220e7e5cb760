/**
 * Reporting of a listener's exception met where the client cannot let it propagate (in a
 * promise callback, or in the middle of a payload). Browser compatible.
 *
 * @module
 */

/**
 * Throws `err` from a microtask of its own: the runtime reports it as an uncaught exception
 * (`window.onerror` / an `error` event on `globalThis`, Node's `uncaughtException`), as it
 * would from the official client's XHR handler, rather than as an unhandled rejection.
 *
 * @param err what a listener threw
 */
export const uncaught = (err: unknown): void =>
  queueMicrotask(() => {
    throw err;
  });
