/**
 * Base64 (RFC 4648, standard alphabet, padded) for binary packets on text transports.
 * Browser compatible.
 *
 * Uses the native `Uint8Array.prototype.toBase64` / `Uint8Array.fromBase64` when the runtime has
 * them (they are several times faster on large buffers) and a hand-written codec otherwise. Both
 * decoders accept exactly the same inputs: the native "loose" rules (ASCII whitespace skipped,
 * padding optional but correct when present).
 *
 * @module
 */

import { DecodeError } from "./errors.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/** ASCII codes of the alphabet, for the byte-buffer encoder. */
const CODES = new Uint8Array(64);
/** Every 12-bit value as its two base64 characters: one lookup per 1.5 input bytes. */
const PAIRS: string[] = new Array(4096);
/** Char code → 6-bit value; -1 for anything outside the alphabet. */
const VALUES = new Int8Array(128).fill(-1);

for (let i = 0; i < 64; i++) {
  CODES[i] = ALPHABET.charCodeAt(i);
  VALUES[CODES[i]] = i;
}
for (let i = 0; i < 4096; i++) PAIRS[i] = ALPHABET[i >> 6] + ALPHABET[i & 63];

const PAD = 61; // "="

/**
 * The native codec as used here, declared for TypeScript libs that lack it (5.9's): bytes that
 * encode themselves, and a constructor that decodes.
 */
interface NativeBytes extends Uint8Array {
  toBase64(): string;
}
interface NativeUint8Array extends Uint8ArrayConstructor {
  fromBase64(text: string): Uint8Array<ArrayBuffer>;
}
const Native = Uint8Array as NativeUint8Array;

// Feature-detected once: Deno, Bun and current V8/JSC have them; older engines do not.
const HAS_NATIVE = typeof (Native.prototype as NativeBytes).toBase64 === "function" &&
  typeof Native.fromBase64 === "function";

/** Below this size string concatenation beats filling a byte buffer and decoding it. */
const SMALL = 192;

let asciiDecoder: TextDecoder | undefined;

/**
 * Encode bytes as padded standard base64.
 *
 * @example Encoding four bytes
 * ```ts
 * import { encodeBase64 } from "@socketio-edge/core/parser";
 *
 * console.log(encodeBase64(new Uint8Array([1, 2, 3, 4]))); // "AQIDBA=="
 * ```
 *
 * @param bytes the bytes to encode (only the view's own bytes are read)
 * @returns the base64 text
 */
export function encodeBase64(bytes: Uint8Array): string {
  return HAS_NATIVE ? (bytes as NativeBytes).toBase64() : encodeBase64Portable(bytes);
}

/**
 * Decode base64 text starting at `start`, e.g. after a packet's `b` prefix.
 *
 * Accepts the standard alphabet with optional (but then correct) padding, skipping ASCII
 * whitespace like the native decoder. Anything else is refused.
 *
 * @example Decoding the body of a `b` packet
 * ```ts
 * import { decodeBase64, isDecodeError } from "@socketio-edge/core/parser";
 *
 * const bytes = decodeBase64("bAQIDBA==", 1);
 * if (!isDecodeError(bytes)) console.log(bytes); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * console.log(isDecodeError(decodeBase64("A*"))); // true
 * ```
 *
 * @param text the text holding base64
 * @param start index of the first base64 character (default 0)
 * @returns fresh bytes, or a {@linkcode DecodeError} with code `"invalid base64"`
 */
export function decodeBase64(text: string, start = 0): Uint8Array<ArrayBuffer> | DecodeError {
  if (!HAS_NATIVE) return decodeBase64Portable(text, start);
  try {
    return Native.fromBase64(start === 0 ? text : text.slice(start));
  } catch {
    return new DecodeError("invalid base64");
  }
}

/**
 * The hand-written encoder used when the runtime has no native base64. Exported for tests and
 * benchmarks; prefer {@linkcode encodeBase64}.
 *
 * @example
 * ```ts
 * import { encodeBase64Portable } from "@socketio-edge/core/parser";
 *
 * console.log(encodeBase64Portable(new Uint8Array([1, 2, 3, 4]))); // "AQIDBA=="
 * ```
 *
 * @param bytes the bytes to encode (only the view's own bytes are read)
 * @returns the base64 text
 */
export function encodeBase64Portable(bytes: Uint8Array): string {
  const n = bytes.length;
  if (n < SMALL) return encodeSmall(bytes, n);
  const out = new Uint8Array(Math.ceil(n / 3) * 4);
  let i = 0;
  let j = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out[j++] = CODES[v >> 18];
    out[j++] = CODES[(v >> 12) & 63];
    out[j++] = CODES[(v >> 6) & 63];
    out[j++] = CODES[v & 63];
  }
  if (n - i === 1) {
    const v = bytes[i];
    out[j++] = CODES[v >> 2];
    out[j++] = CODES[(v & 3) << 4];
    out[j++] = PAD;
    out[j] = PAD;
  } else if (n - i === 2) {
    const v = (bytes[i] << 8) | bytes[i + 1];
    out[j++] = CODES[v >> 10];
    out[j++] = CODES[(v >> 4) & 63];
    out[j++] = CODES[(v & 15) << 2];
    out[j] = PAD;
  }
  // The output is pure ASCII, so the UTF-8 decoder's ASCII fast path applies.
  return (asciiDecoder ??= new TextDecoder()).decode(out);
}

function encodeSmall(bytes: Uint8Array, n: number): string {
  let s = "";
  let i = 0;
  for (; i + 2 < n; i += 3) {
    const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += PAIRS[v >> 12] + PAIRS[v & 4095];
  }
  if (n - i === 1) {
    s += PAIRS[bytes[i] << 4] + "==";
  } else if (n - i === 2) {
    const v = (bytes[i] << 8) | bytes[i + 1];
    s += PAIRS[v >> 4] + ALPHABET[(v & 15) << 2] + "=";
  }
  return s;
}

/**
 * The hand-written decoder used when the runtime has no native base64. Same rules as
 * {@linkcode decodeBase64}. Exported for tests and benchmarks.
 *
 * @example
 * ```ts
 * import { decodeBase64Portable } from "@socketio-edge/core/parser";
 *
 * console.log(decodeBase64Portable("AQIDBA")); // Uint8Array(4) [ 1, 2, 3, 4 ]
 * ```
 *
 * @param text the text holding base64
 * @param start index of the first base64 character (default 0)
 * @returns fresh bytes, or a {@linkcode DecodeError} with code `"invalid base64"`
 */
export function decodeBase64Portable(
  text: string,
  start = 0,
): Uint8Array<ArrayBuffer> | DecodeError {
  const end = text.length;
  let size = end - start;
  if (size > 0 && text.charCodeAt(end - 1) === PAD) {
    size -= text.charCodeAt(end - 2) === PAD ? 2 : 1;
  }
  // Exact unless the text holds whitespace (then an upper bound, trimmed below).
  const out = new Uint8Array(size > 0 ? Math.floor(size * 3 / 4) : 0);
  let j = 0;
  let acc = 0;
  let count = 0; // characters in the current 4-character chunk
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? VALUES[c] : -1;
    if (v >= 0) {
      acc = (acc << 6) | v;
      if (++count === 4) {
        out[j++] = acc >> 16;
        out[j++] = (acc >> 8) & 255;
        out[j++] = acc & 255;
        acc = 0;
        count = 0;
      }
    } else if (c === PAD) {
      break;
    } else if (!isWhitespace(c)) {
      return new DecodeError("invalid base64", `unexpected character at ${i}`);
    }
  }
  if (i < end) {
    // Padding: "xx==" or "xxx=", then nothing but whitespace.
    if (count < 2) return new DecodeError("invalid base64", "misplaced padding");
    let pads = 1;
    for (i++; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c === PAD && pads + count < 4) pads++;
      else if (!isWhitespace(c)) return new DecodeError("invalid base64", "data after padding");
    }
    if (pads + count !== 4) return new DecodeError("invalid base64", "incomplete padding");
  } else if (count === 1) {
    return new DecodeError("invalid base64", "truncated input");
  }
  // Leftover bits of an unpadded or padded final chunk; extra low bits are ignored ("loose").
  if (count === 2) {
    out[j++] = acc >> 4;
  } else if (count === 3) {
    out[j++] = acc >> 10;
    out[j++] = (acc >> 2) & 255;
  }
  return j === out.length ? out : out.slice(0, j);
}

/** ASCII whitespace as the base64 proposal defines it: TAB, LF, FF, CR, SPACE. */
function isWhitespace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
}
