/**
 * The client's timers, with the official `useNativeTimers` option: the `setTimeout` and
 * `clearTimeout` there were when this module loaded, so that fake timers installed later (a
 * test's mock clock) leave the connection alone; otherwise the global ones of the moment.
 * Browser compatible.
 *
 * @module
 */

/** A timer of the runtime (a number, or an object on Node and Bun). */
export type Timer = ReturnType<typeof setTimeout>;

const nativeSet = setTimeout;
const nativeClear = clearTimeout;

/**
 * `setTimeout(fn, ms)`, on the native timers when `native`.
 *
 * @param native `useNativeTimers`
 * @param fn called when the time is up
 * @param ms the delay
 * @returns the timer
 */
export const later = (native: boolean | undefined, fn: () => void, ms: number): Timer =>
  (native ? nativeSet : setTimeout)(fn, ms);

/**
 * `clearTimeout(timer)`, on the native timers when `native`.
 *
 * @param native `useNativeTimers`
 * @param timer the timer, if any
 */
export const cancel = (native: boolean | undefined, timer?: Timer): void =>
  (native ? nativeClear : clearTimeout)(timer);
