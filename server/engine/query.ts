/**
 * The three query parameters every Engine.IO request carries (`transport`, `EIO`, `sid`), read
 * from the URL's query string without a `URLSearchParams`: building one costs a poll about as
 * much as the rest of its parsing. Browser compatible.
 *
 * @module
 */

/** What {@linkcode engineParams} reads: each parameter's values as `getAll` gives them. */
export interface EngineParams {
  /** The `transport` values. */
  transport: string[];
  /** The `EIO` values. */
  eio: string[];
  /** The `sid` values. */
  sid: string[];
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * The `transport`, `EIO` and `sid` values of `search` (a URL's `search`, `?` included), as
 * `new URLSearchParams(search).getAll(name)` gives them. A query with an escape (`%`) or a `+`
 * goes through `URLSearchParams`, which decodes them; any other query decodes to itself, so it is
 * split here. Parameters that are missing share one frozen empty array.
 *
 * @param search the URL's `search`
 */
export function engineParams(search: string): EngineParams {
  if (search.includes("%") || search.includes("+")) {
    const q = new URLSearchParams(search);
    return { transport: q.getAll("transport"), eio: q.getAll("EIO"), sid: q.getAll("sid") };
  }
  let transport = NONE as string[];
  let eio = NONE as string[];
  let sid = NONE as string[];
  // The form-urlencoded parser: pairs split on "&" (empty ones skipped), the name ends at the
  // first "=" (none: the value is empty).
  const end = search.length;
  let at = search.charCodeAt(0) === 63 /* ? */ ? 1 : 0;
  while (at < end) {
    let amp = search.indexOf("&", at);
    if (amp === -1) amp = end;
    if (amp > at) {
      let eq = search.indexOf("=", at);
      if (eq === -1 || eq > amp) eq = amp;
      const len = eq - at;
      // Only names of 3 or 9 characters can be ours: the rest costs one comparison.
      if (len === 3 || len === 9) {
        const name = search.slice(at, eq);
        const value = eq === amp ? "" : search.slice(eq + 1, amp);
        if (name === "sid") sid = sid === NONE ? [value] : [...sid, value];
        else if (name === "EIO") eio = eio === NONE ? [value] : [...eio, value];
        else if (name === "transport") {
          transport = transport === NONE ? [value] : [...transport, value];
        }
      }
    }
    at = amp + 1;
  }
  return { transport, eio, sid };
}
