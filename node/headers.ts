/**
 * A Node request's headers as fetch `Headers`, read from its raw header list only when asked:
 * `get` and `has` scan the list (a request carries a handful of headers, and a poll reads two or
 * three of them), and everything else works on a real `Headers` made once, on first use. Node
 * only.
 *
 * @module
 */

/**
 * The members of fetch `Headers` (those of lib.dom and Deno; Bun's types add `toJSON`, `count`
 * and `getAll`, which the server never calls).
 */
export type StandardHeaders = Pick<
  Headers,
  | "append"
  | "delete"
  | "get"
  | "getSetCookie"
  | "has"
  | "set"
  | "forEach"
  | "entries"
  | "keys"
  | "values"
  | typeof Symbol.iterator
>;

/**
 * The `Headers` of a Node request, without making a `Headers` for the look-ups the server does.
 * A name given in any case finds the header; repeated headers join with `", "`, as fetch joins
 * them.
 */
export class NodeHeaders implements StandardHeaders {
  readonly #raw: string[];
  #real: Headers | undefined;

  /** @param raw Node's `rawHeaders`: names and values in turn, as they came */
  constructor(raw: string[]) {
    this.#raw = raw;
  }

  /** The real `Headers`, made on first use; from then on every call goes to it. */
  #full(): Headers {
    if (this.#real) return this.#real;
    const headers = new Headers();
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) {
      // HTTP/2 pseudo-headers (`:method`, `:path`...) are no headers of a fetch `Request`.
      if (raw[i].charCodeAt(0) !== 58) headers.append(raw[i], raw[i + 1]);
    }
    return (this.#real = headers);
  }

  get(name: string): string | null {
    if (this.#real) return this.#real.get(name);
    const raw = this.#raw;
    let out: string | null = null;
    for (let i = 0; i < raw.length; i += 2) {
      const key = raw[i];
      if (key.length !== name.length || !sameName(key, name)) continue;
      out = out === null ? raw[i + 1] : `${out}, ${raw[i + 1]}`;
    }
    return out;
  }

  has(name: string): boolean {
    if (this.#real) return this.#real.has(name);
    const raw = this.#raw;
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === name.length && sameName(raw[i], name)) return true;
    }
    return false;
  }

  append(name: string, value: string): void {
    this.#full().append(name, value);
  }

  delete(name: string): void {
    this.#full().delete(name);
  }

  set(name: string, value: string): void {
    this.#full().set(name, value);
  }

  getSetCookie(): string[] {
    return this.#full().getSetCookie();
  }

  /**
   * Calls `fn` for each header as `Headers` does (lower-case names in order, repeated names
   * joined, each `Set-Cookie` on its own), from the raw list: the server copies every header of
   * a handshake, and a real `Headers` made for that cost more than the copy.
   */
  forEach(fn: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    const parent = this as StandardHeaders as Headers;
    if (this.#real) {
      this.#real.forEach((value, key) => fn.call(thisArg, value, key, parent));
      return;
    }
    const raw = this.#raw;
    const names: string[] = [];
    const values: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].charCodeAt(0) === 58) continue; // an HTTP/2 pseudo-header
      const name = raw[i].toLowerCase();
      const at = name === "set-cookie" ? -1 : names.indexOf(name);
      if (at === -1) {
        names.push(name);
        values.push(raw[i + 1]);
      } else values[at] += `, ${raw[i + 1]}`;
    }
    // Sorted by name, as `Headers` iterates; repeated `Set-Cookie`s keep their order.
    const order = names.map((_, i) => i);
    order.sort((a, b) => (names[a] < names[b] ? -1 : names[a] > names[b] ? 1 : a - b));
    for (const i of order) fn.call(thisArg, values[i], names[i], parent);
  }

  entries(): ReturnType<Headers["entries"]> {
    return this.#full().entries();
  }

  keys(): ReturnType<Headers["keys"]> {
    return this.#full().keys();
  }

  values(): ReturnType<Headers["values"]> {
    return this.#full().values();
  }

  [Symbol.iterator](): ReturnType<Headers["entries"]> {
    return this.#full()[Symbol.iterator]();
  }
}

/** Whether two header names of the same length are equal ignoring ASCII case. */
function sameName(a: string, b: string): boolean {
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x !== y) return false;
  }
  return true;
}
