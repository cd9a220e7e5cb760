/**
 * The client's timer functions, chosen as the official `installTimerFunctions` chooses them:
 * the global ones of the moment a Manager or Engine is made, or, with `useNativeTimers`, those
 * there were when this module loaded, so that fake timers installed later (a test's mock clock)
 * leave the connection alone. Browser compatible.
 *
 * @module
 */

/** A timer of the runtime (a number, or an object on Node and Bun). */
export type Timer = ReturnType<typeof setTimeout>;

/** `setTimeout` and `clearTimeout`, bound to the global object. */
export type Timers = [set: (fn: () => void, ms: number) => Timer, clear: (timer?: Timer) => void];

const bound = (): Timers => [setTimeout.bind(globalThis), clearTimeout.bind(globalThis)];
const NATIVE = bound();

/**
 * The timer functions for an object made now.
 *
 * @param native `useNativeTimers`: those of when the client loaded
 */
export const timers = (native?: boolean): Timers => native ? NATIVE : bound();
