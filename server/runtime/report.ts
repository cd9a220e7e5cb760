/**
 * What becomes of an error that would otherwise escape to the runtime (a listener of the app
 * that throws, a bug): it is reported, and the process serves on. Browser compatible.
 *
 * An exception escaping a WebSocket handler ends the process on Bun and on Deno, and so does
 * `reportError` on both (Bun even when an `error` listener cancels it), so one client's packet
 * could stop the server for everyone. Instead the error is dispatched as a cancelable `error`
 * event on `globalThis`, which error monitors listen to, and logged unless a listener cancels it.
 *
 * @module
 */

const target = typeof ErrorEvent === "function" &&
    typeof (globalThis as Partial<EventTarget>).dispatchEvent === "function"
  ? globalThis as unknown as EventTarget
  : undefined;

/**
 * Reports `err` like an uncaught exception, without ending the process.
 *
 * @example
 * ```ts
 * import { report } from "./report.ts";
 *
 * addEventListener("error", (e) => e.preventDefault(), { once: true }); // handled: not logged
 * report(new Error("a listener failed"));
 * ```
 *
 * @param err what was thrown
 */
export function report(err: unknown): void {
  if (target !== undefined) {
    const event = new ErrorEvent("error", {
      error: err,
      message: messageOf(err),
      cancelable: true,
    });
    if (!target.dispatchEvent(event)) return; // a listener handled it
  }
  console.error("socketio-edge: uncaught", err);
}

/**
 * Reports the rejection of `value` when it is a promise (what an `async` listener or
 * middleware returns), where it would otherwise be an unhandled rejection, which ends the
 * process on Deno, Bun and Node. Anything else is left alone.
 *
 * @example
 * ```ts
 * import { reportRejection } from "./report.ts";
 *
 * addEventListener("error", (e) => e.preventDefault(), { once: true }); // handled: not logged
 * reportRejection((async () => { throw new Error("an async listener failed"); })());
 * ```
 *
 * @param value what a listener returned
 */
export function reportRejection(value: unknown): void {
  if (typeof (value as PromiseLike<unknown> | null)?.then === "function") {
    (value as PromiseLike<unknown>).then(undefined, report);
  }
}

/**
 * Calls `fn`, reporting what it throws: the default scheduler runs its timers through it, so
 * that a timer's callback (the application's listeners run in some) never ends the process.
 *
 * @param fn the callback
 */
export function callReporting(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    report(err);
  }
}

function messageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return "(an error that cannot be shown)"; // e.g. an object whose toString is not a function
  }
}
