/**
 * The cookie jar of a client outside browsers: with `withCredentials`, the cookies the server
 * sets (a load balancer's sticky session) are kept and sent back, as a browser and the official
 * client's Node build do. Expired cookies are dropped when the cookies are sent.
 *
 * The browser bundles are built with `browser.ts` in this module's place (`scripts/bundle.ts`):
 * a browser keeps cookies itself, and hides `Set-Cookie` from scripts.
 *
 * @module
 */

/**
 * Whether this build keeps cookies: `false` in the browser bundles, where esbuild then drops the
 * code it guards.
 */
export const cookieJars = true;

/**
 * The cookies a client keeps, by name, with when each expires.
 *
 * @example
 * ```ts ignore
 * import { io } from "@socketio-edge/core/client";
 *
 * // On Deno, Bun or Node: the server's cookies go back with every request.
 * io("https://example.com", { withCredentials: true });
 * ```
 */
export class CookieJar {
  // Each cookie's value and expiry time (ms since the epoch; Infinity until the client ends).
  #cookies = new Map<string, [value: string, expires: number]>();

  /**
   * Keeps the cookies a response sets.
   *
   * @param res the response, whose `Set-Cookie` headers are read
   */
  keep(res: Response): void {
    for (const line of res.headers.getSetCookie?.() ?? []) {
      const [, name, value] = /^\s*([^=;\s]+)\s*=\s*([^;]*?)\s*(;|$)/.exec(line) || [];
      if (!name) continue;
      let expires = Infinity;
      let maxAge: number | undefined;
      for (const [, key, arg] of line.matchAll(/;\s*(expires|max-age)\s*=\s*([^;]*)/gi)) {
        if (/^m/i.test(key)) {
          // Max-Age in seconds; zero or less means "expired now" (RFC 6265 5.2.2).
          if (/^\s*-?\d+\s*$/.test(arg)) maxAge = +arg;
        } else if (!isNaN(Date.parse(arg))) expires = Date.parse(arg);
      }
      // Max-Age wins over Expires (RFC 6265 5.3).
      if (maxAge !== undefined) expires = maxAge > 0 ? Date.now() + maxAge * 1000 : -Infinity;
      this.#cookies.set(name, [value, expires]);
    }
  }

  /**
   * The `Cookie` header of a request: the cookies not expired yet (the others are dropped).
   *
   * @returns `name=value; ...`, or `""` when there is none
   */
  header(): string {
    const now = Date.now();
    let header = "";
    for (const [name, [value, expires]] of this.#cookies) {
      if (expires < now) this.#cookies.delete(name);
      else header += (header ? "; " : "") + name + "=" + value;
    }
    return header;
  }
}
