/**
 * `cookies/mod.ts` in the browser bundles (`scripts/bundle.ts` puts it there): a browser keeps
 * the cookies itself, so no jar is needed. Browser compatible.
 *
 * @module
 */
import type { CookieJar as Jar } from "./mod.ts";

/** No jar: the code this guards is left out of the bundles. */
export const cookieJars = false;

/** Never made: the code that would make it is left out, as `cookieJars` is false. */
export const CookieJar = undefined as unknown as typeof Jar;
