/**
 * `unref/mod.ts` in the browser bundles (`scripts/bundle.ts` puts it there): a browser has no
 * process to keep alive, so `autoUnref` changes nothing. Browser compatible.
 *
 * @module
 */
import type { Unref } from "./mod.ts";

/** Nothing can be unref'd: the code this guards is left out of the bundles. */
export const unrefs = false;

/** Never called: the code that would call it is left out, as `unrefs` is false. */
export const unrefRuntime = undefined as unknown as () => Unref | undefined;
