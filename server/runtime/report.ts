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

function messageOf(err: unknown): string {
  try {
    return err instanceof Error ? err.message : String(err);
  } catch {
    return "(an error that cannot be shown)"; // e.g. an object whose toString is not a function
  }
}
