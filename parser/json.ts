/**
 * A JSON parser for short texts, with the packet safety checks built in. Browser compatible.
 *
 * For the few dozen characters of a typical event, a JavaScript recursive descent beats
 * `JSON.parse` (whose cost there is mostly fixed overhead), and it can refuse the keys that lead
 * to a prototype and deep nesting while parsing instead of walking the result again. It accepts
 * exactly the texts `JSON.parse` accepts and returns the same values.
 *
 * @module
 */

import { isPrototypePath } from "./binary.ts";
import { DecodeError, type DecodeErrorCode } from "./errors.ts";

// Parser state, module-wide to avoid an allocation per call; parsing never calls user code,
// so calls cannot interleave.
let src = "";
let pos = 0;
let depthLeft = 0;
let outerDepth = 0; // depthLeft inside the outer array or object
let failure: DecodeErrorCode | undefined;
let failureDetail: string | undefined;

// Recently seen short keys and event names, so a repeated one costs a
// startsWith instead of a new string. Only strings under 13 characters are kept: shorter
// substrings are copies, never views that would keep a whole frame alive.
const STRING_SLOTS = 256;
const stringCache: string[] = new Array<string>(STRING_SLOTS).fill("");

/**
 * Parses the JSON text `text.slice(start)` as `JSON.parse` would, refusing it with "invalid
 * payload" where `JSON.parse` throws, with "forbidden key" for a `__proto__` key or a
 * `constructor` object holding a `prototype` key (the two ways from plain data to a prototype,
 * see `isPrototypePath` in binary.ts), and with "too deep" for nesting beyond `maxDepth` (the
 * outer array or object is level 1). Recursive: callers keep `maxDepth` or the text short
 * enough for the stack.
 *
 * @example
 * ```ts
 * import { parseJson } from "./json.ts";
 *
 * console.log(parseJson('2["chat",{"text":"hi"}]', 1, 100)); // ["chat", { text: "hi" }]
 * console.log(parseJson('{"constructor":"Ford"}', 0, 100)); // { constructor: "Ford" }
 * console.log((parseJson('{"__proto__":{}}', 0, 100) as Error).message); // "forbidden key: ..."
 * ```
 *
 * @param text the text holding the JSON
 * @param start where the JSON starts in `text`
 * @param maxDepth the deepest nesting accepted
 * @returns the parsed value, or why it was refused
 */
export function parseJson(text: string, start: number, maxDepth: number): unknown {
  src = text;
  pos = start;
  depthLeft = maxDepth;
  outerDepth = maxDepth - 1;
  failure = undefined;
  const value = parseValue(src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace());
  if (src.charCodeAt(pos) <= 32) skipSpace();
  if (failure === undefined && pos < text.length) failure = "invalid payload";
  src = "";
  if (failure === undefined) return value;
  return new DecodeError(failure, failure === "invalid payload" ? "invalid JSON" : failureDetail);
}

// The character at `pos` after any whitespace. Call sites test for the common case (no
// whitespace) inline, `src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace()`: V8 does
// not inline this function into the large recursive ones, and a call per token costs ~10%.
function skipSpace(): number {
  let c = src.charCodeAt(pos);
  while (c === 32 || c === 10 || c === 13 || c === 9) c = src.charCodeAt(++pos);
  return c;
}

function fail(code: DecodeErrorCode, detail?: string): undefined {
  if (failure === undefined) {
    failure = code;
    failureDetail = detail;
  }
  return undefined;
}

function parseValue(c: number): unknown {
  switch (c) {
    case 34: // "
      return parseString();
    case 91: // [
      return parseArray();
    case 123: // {
      return parseObject();
    case 116: // t
      return literal("true", true);
    case 102: // f
      return literal("false", false);
    case 110: // n
      return literal("null", null);
    default:
      return parseNumber(c);
  }
}

function literal(word: string, value: boolean | null): boolean | null | undefined {
  if (!src.startsWith(word, pos)) return fail("invalid payload");
  pos += word.length;
  return value;
}

function parseArray(): unknown[] | undefined {
  if (--depthLeft < 0) return fail("too deep");
  pos++;
  let c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
  if (c === 93) { // ]
    pos++;
    depthLeft++;
    return [];
  }
  // The first elements wait in locals so that a short array is made at its exact size: `push`
  // on an empty array would allocate room for 17 elements.
  let a: unknown, b: unknown, d: unknown;
  for (let n = 0;; n++) {
    // The first item of the outer array is the event name of an event packet.
    const value = n === 0 && c === 34 && depthLeft === outerDepth
      ? parseCachedString()
      : parseValue(c);
    if (failure !== undefined) return undefined;
    c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    if (c === 93) {
      pos++;
      depthLeft++;
      return n === 0 ? [value] : n === 1 ? [a, value] : n === 2 ? [a, b, value] : [a, b, d, value];
    }
    if (c !== 44) return fail("invalid payload"); // ,
    pos++;
    c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    if (n === 0) a = value;
    else if (n === 1) b = value;
    else if (n === 2) d = value;
    else return parseLongArray([a, b, d, value], c);
  }
}

// The rest of an array of more than four elements, from the value starting with `c`.
function parseLongArray(array: unknown[], c: number): unknown[] | undefined {
  for (;;) {
    array.push(parseValue(c));
    if (failure !== undefined) return undefined;
    c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    if (c === 44) { // ,
      pos++;
      c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    } else if (c === 93) { // ]
      pos++;
      depthLeft++;
      return array;
    } else {
      return fail("invalid payload");
    }
  }
}

function parseObject(): Record<string, unknown> | undefined {
  if (--depthLeft < 0) return fail("too deep");
  pos++;
  const object: Record<string, unknown> = {};
  let c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
  if (c === 125) { // }
    pos++;
    depthLeft++;
    return object;
  }
  let hasConstructor = false;
  for (;;) {
    if (c !== 34) return fail("invalid payload");
    const key = parseKey();
    if (key === undefined) return undefined;
    if ((src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace()) !== 58) {
      return fail("invalid payload"); // :
    }
    pos++;
    // "__proto__" was refused, so this plain store cannot set a prototype.
    object[key] = parseValue(src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace());
    if (failure !== undefined) return undefined;
    if (key === "constructor") hasConstructor = true;
    c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    if (c === 44) {
      pos++;
      c = src.charCodeAt(pos) > 32 ? src.charCodeAt(pos) : skipSpace();
    } else if (c === 125) {
      pos++;
      depthLeft++;
      // Checked once complete: of repeated keys the last wins, as in JSON.parse.
      if (hasConstructor && isPrototypePath("constructor", object.constructor)) {
        return fail("forbidden key", "constructor.prototype");
      }
      return object;
    } else {
      return fail("invalid payload");
    }
  }
}

function parseKey(): string | undefined {
  const key = parseCachedString();
  if (key === undefined) return undefined;
  return key === "__proto__" ? fail("forbidden key", key) : key;
}

/**
 * The cached copy of a short string when there is one, else `text` (then cached): an event name
 * that `JSON.parse` made afresh becomes the one already seen, whose hash V8 knows.
 *
 * @example
 * ```ts
 * import { internShort } from "./json.ts";
 *
 * const a = internShort(JSON.parse('"chat"'));
 * console.log(internShort(JSON.parse('"chat"')) === a); // true (the same string)
 * ```
 *
 * @param text any string
 * @returns a string equal to `text`
 */
export function internShort(text: string): string {
  const length = text.length;
  if (length >= 13) return text;
  let hash = 0;
  for (let i = 0; i < length; i++) hash = (hash * 31 + text.charCodeAt(i)) | 0;
  const slot = (hash ^ (hash >>> 8)) & (STRING_SLOTS - 1);
  const cached = stringCache[slot];
  if (cached === text) return cached;
  stringCache[slot] = text;
  return text;
}

function parseString(): string | undefined {
  const start = ++pos;
  for (;;) {
    const c = src.charCodeAt(pos);
    if (c === 34) return src.slice(start, pos++);
    if (c === 92) return parseEscapedString(start);
    if (c < 32 || c !== c) return fail("invalid payload");
    pos++;
  }
}

// A string that is likely to repeat (a key, an event name): a short one comes from the cache,
// so no new string is made and V8 already knows its hash (a Map lookup by it skips hashing).
function parseCachedString(): string | undefined {
  const start = ++pos;
  let hash = 0;
  for (;;) {
    const c = src.charCodeAt(pos);
    if (c === 34) break;
    if (c === 92) return parseEscapedString(start);
    if (c < 32 || c !== c) return fail("invalid payload");
    hash = (hash * 31 + c) | 0;
    pos++;
  }
  const length = pos - start;
  pos++;
  if (length >= 13) return src.slice(start, start + length);
  const slot = (hash ^ (hash >>> 8)) & (STRING_SLOTS - 1);
  const cached = stringCache[slot];
  if (cached.length === length && src.startsWith(cached, start)) return cached;
  const text = src.slice(start, start + length);
  stringCache[slot] = text;
  return text;
}

// The rest of a string from its first backslash (at `pos`); `start` is where its text began.
function parseEscapedString(start: number): string | undefined {
  let out = src.slice(start, pos);
  let run = pos;
  for (;;) {
    const c = src.charCodeAt(pos);
    if (c === 34) {
      out += src.slice(run, pos++);
      return out;
    }
    if (c < 32 || c !== c) return fail("invalid payload");
    if (c !== 92) {
      pos++;
      continue;
    }
    out += src.slice(run, pos);
    const e = src.charCodeAt(pos + 1);
    pos += 2;
    switch (e) {
      case 34:
        out += '"';
        break;
      case 92:
        out += "\\";
        break;
      case 47:
        out += "/";
        break;
      case 98:
        out += "\b";
        break;
      case 102:
        out += "\f";
        break;
      case 110:
        out += "\n";
        break;
      case 114:
        out += "\r";
        break;
      case 116:
        out += "\t";
        break;
      case 117: { // uXXXX
        let code = 0;
        for (let k = 0; k < 4; k++) {
          const h = hexValue(src.charCodeAt(pos + k));
          if (h < 0) return fail("invalid payload");
          code = code * 16 + h;
        }
        pos += 4;
        out += String.fromCharCode(code);
        break;
      }
      default:
        return fail("invalid payload");
    }
    run = pos;
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  const lower = c | 32;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
function parseNumber(c: number): number | undefined {
  const start = pos;
  const negative = c === 45;
  if (negative) c = src.charCodeAt(++pos);
  let value = 0;
  if (c === 48) {
    c = src.charCodeAt(++pos);
  } else if (c >= 49 && c <= 57) {
    do {
      value = value * 10 + c - 48;
      c = src.charCodeAt(++pos);
    } while (c >= 48 && c <= 57);
  } else {
    return fail("invalid payload");
  }
  let exact = pos - start <= 15; // up to 15 digits accumulate exactly
  if (c === 46) { // .
    if (!isDigit(src.charCodeAt(++pos))) return fail("invalid payload");
    do c = src.charCodeAt(++pos); while (isDigit(c));
    exact = false;
  }
  if (c === 101 || c === 69) { // e E
    c = src.charCodeAt(++pos);
    if (c === 43 || c === 45) c = src.charCodeAt(++pos);
    if (!isDigit(c)) return fail("invalid payload");
    do c = src.charCodeAt(++pos); while (isDigit(c));
    exact = false;
  }
  // Number() rounds decimal text exactly as JSON.parse does.
  if (!exact) return Number(src.slice(start, pos));
  return negative ? -value : value;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
