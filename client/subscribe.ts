/**
 * Listening to several events of one emitter at once, and letting go of them all in one call:
 * what the Manager and each Socket do on every connection. Browser compatible.
 *
 * @module
 */

/** An emitter with `on` and `off` (ours, or a custom parser's decoder). */
// deno-lint-ignore no-explicit-any
type Target = { on(event: any, fn: any): unknown; off(event: any, fn: any): unknown };

/**
 * Adds the listeners, by event name in order.
 *
 * @param target the emitter
 * @param listeners a listener per event
 * @returns a function that removes them
 */
export function subscribe<E extends Target>(
  target: E,
  listeners: Record<string, (...args: never[]) => void>,
): () => void {
  for (const event in listeners) target.on(event, listeners[event]);
  return () => {
    for (const event in listeners) target.off(event, listeners[event]);
  };
}
