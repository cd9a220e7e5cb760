/**
 * The MessagePack codec of the Redis adapters, byte-compatible with `notepack.io@3.0.1` (the
 * codec of `@socket.io/redis-adapter@8.3.0` and `@socket.io/redis-emitter@5.1.0`), on
 * `@msgpack/msgpack`.
 *
 * Where notepack encodes differently from `@msgpack/msgpack`'s defaults, values are first
 * mapped (copy-on-write: plain JSON-like values and binary are not copied) to what
 * `@msgpack/msgpack` encodes into notepack's bytes:
 * - an object with a `toJSON()` method (not a `Date` or binary) is encoded as its result;
 * - object properties that are `undefined` or functions are left out;
 * - an `ArrayBuffer` is `bin` (like any `ArrayBufferView`);
 * - integers from 2^32 up to 2^64, and from -2^63 below -2^31, are uint64 / int64 (not float64);
 * - strings that are not well-formed UTF-16 get notepack's bytes: up to 32 code units, each
 *   lone surrogate is merged with the next code unit into one 4-byte sequence; longer strings
 *   get U+FFFD.
 *
 * Dates are msgpack timestamps in both. Decoding gives what notepack gives, except that `bin`
 * is a `Uint8Array` (not a Node `Buffer`): notepack's legacy extension 0 is `undefined` (fixext
 * 1), a `Date` (fixext 8) or binary (ext 8/16/32); other extensions are `[type, bytes]`.
 *
 * Deliberate differences, where notepack loses data: an integer at or beyond 2^64 (or below
 * -2^63) is a float64 here (notepack wraps it modulo 2^64); a typed array of wider elements than
 * bytes, or a `DataView`, is encoded as its bytes (notepack truncates each element to a byte,
 * or writes nothing for a `DataView`), which is what a client of the local node receives; an
 * object key over 32 code units that is not well-formed gets U+FFFD (notepack's bytes depend on
 * its key cache). A map with a `__proto__` key is refused by the decoder (an error, as our
 * parser refuses such packets from clients).
 *
 * @example
 * ```ts
 * import { decode, encode } from "@socketio-edge/core/redis";
 *
 * const bytes = encode(["uid", { type: 2, data: ["hello", new Uint8Array([1, 2])], nsp: "/" }]);
 * console.log(decode(bytes)); // [ "uid", { type: 2, data: [ "hello", Uint8Array(2) [ 1, 2 ] ], nsp: "/" } ]
 * ```
 *
 * @module
 */

import {
  Decoder,
  decodeTimestampExtension,
  Encoder,
  encodeTimestampExtension,
  EXT_TIMESTAMP,
  ExtData,
  type ExtensionCodecType,
} from "@msgpack/msgpack";

// Deeper values are refused (JSON.stringify has no limit, but a cycle must end somewhere).
const MAX_DEPTH = 1000;
// notepack measures strings of more than this many code units with Buffer.byteLength.
const NOTEPACK_SHORT_STRING = 32;
const INT32_MIN = -0x80000000;
const UINT32_END = 0x100000000;
const INT64_MIN = -(2 ** 63);
const UINT64_END = 2 ** 64;

// fixext header bytes to their data length.
const FIXEXT_LENGTH: Readonly<Record<number, number>> = {
  0xd4: 1,
  0xd5: 2,
  0xd6: 4,
  0xd7: 8,
  0xd8: 16,
};

const extensions: ExtensionCodecType<undefined> = {
  tryToEncode(object: unknown): ExtData | null {
    if (!(object instanceof Date)) return null;
    return new ExtData(EXT_TIMESTAMP, encodeTimestampExtension(object)!);
  },
  decode(data: Uint8Array, type: number): unknown {
    if (type === EXT_TIMESTAMP) {
      const length = data.length;
      return length === 4 || length === 8 || length === 12
        ? decodeTimestampExtension(data)
        : [type, data];
    }
    if (type === 0) return decodeLegacyExtension(data);
    return [type, data];
  },
};

// notepack's extension 0 means by format: fixext 1 undefined, fixext 8 a Date (milliseconds,
// int64), ext 8/16/32 an ArrayBuffer. `data` is a view into the message, so the format byte
// is two bytes before it for a fixext (an ext's length bytes there never match).
function decodeLegacyExtension(data: Uint8Array): unknown {
  const offset = data.byteOffset;
  const header = offset >= 2 ? new DataView(data.buffer).getUint8(offset - 2) : -1;
  if (FIXEXT_LENGTH[header] !== data.length) return data;
  if (header === 0xd4) return undefined;
  if (header === 0xd7) {
    const view = new DataView(data.buffer, offset, 8);
    return new Date(view.getInt32(0) * UINT32_END + view.getUint32(4));
  }
  return [0, data];
}

const encoder = new Encoder({
  extensionCodec: extensions,
  // Only integers that prepare() turned into bigints: as notepack, uint64 / int64.
  useBigInt64: true,
  maxDepth: MAX_DEPTH + 1,
});

const decoder = new Decoder({ extensionCodec: extensions });

/**
 * Encode a value into MessagePack, with the bytes `notepack.io@3.0.1` writes for it.
 *
 * @param value A JSON-like value, with binary (`Uint8Array`, `ArrayBuffer`, views) and dates.
 * @returns A fresh buffer, which the caller may keep.
 * @throws {TypeError} For a `bigint`, symbol or function without `toJSON()` (as notepack).
 * @throws {RangeError} For values nested more than 1000 levels deep (or cycles).
 *
 * @example
 * ```ts
 * import { encode } from "@socketio-edge/core/redis";
 *
 * console.log(encode({ a: 1, b: undefined })); // Uint8Array(4) [ 129, 161, 97, 1 ]: no "b"
 * ```
 */
export function encode(value: unknown): Uint8Array {
  return encoder.encode(prepare(value, 0));
}

/**
 * Decode MessagePack as notepack does, `bin` as `Uint8Array` views into `bytes`.
 *
 * @param bytes One whole MessagePack value (a Node `Buffer` is fine).
 * @returns The value.
 * @throws {Error} For malformed or truncated input, extra bytes, or a `__proto__` key.
 *
 * @example
 * ```ts
 * import { decode } from "@socketio-edge/core/redis";
 *
 * console.log(decode(new Uint8Array([0x92, 0x01, 0xc4, 0x01, 0xff]))); // [ 1, Uint8Array(1) [ 255 ] ]
 * ```
 */
export function decode(bytes: Uint8Array): unknown {
  // A Buffer's subarray is a Buffer: view it as a plain Uint8Array so binary comes out as one.
  const view = bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decoder.decode(view);
}

// What @msgpack/msgpack should encode for `value` to write notepack's bytes; `value` itself
// when that is it.
function prepare(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case "string":
      return value.isWellFormed() ? value : notepackString(value);
    case "number":
      // Rarely out of int32 / uint32: checked first.
      return (value >= UINT32_END || value < INT32_MIN) && Number.isInteger(value) &&
          value >= INT64_MIN && value < UINT64_END
        ? BigInt(value)
        : value;
    case "object":
      return value === null ? null : prepareObject(value, depth);
    case "bigint":
    case "symbol":
    case "function":
      return prepareJson(value, depth);
    default:
      return value;
  }
}

function prepareJson(value: unknown, depth: number): unknown {
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== "function") throw new TypeError(`cannot encode a ${typeof value}`);
  if (depth >= MAX_DEPTH) throw new RangeError("value too deep to encode");
  return prepare(toJSON.call(value), depth + 1);
}

function prepareObject(value: object, depth: number): unknown {
  if (depth >= MAX_DEPTH) throw new RangeError("value too deep to encode");
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const prepared = prepare(item, depth + 1);
      if (copy === undefined && !Object.is(prepared, item)) copy = value.slice();
      if (copy !== undefined) copy[i] = prepared;
    }
    return copy ?? value;
  }
  if (value instanceof Date || ArrayBuffer.isView(value)) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
    return prepareJson(value, depth);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  // A null prototype, so that a "__proto__" key stays a key.
  let copy: Record<string, unknown> | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i];
    const item = record[key];
    // Left out as by notepack (here rather than by the encoder's ignoreUndefined, which counts
    // every map's entries once more).
    const skip = item === undefined || typeof item === "function";
    const fixedKey = key.isWellFormed() ? key : notepackString(key);
    // A value whose toJSON() gives undefined keeps its key, as nil.
    const prepared = skip ? item : (prepare(item, depth + 1) ?? null);
    if (copy === undefined && (skip || fixedKey !== key || !Object.is(prepared, item))) {
      copy = Object.create(null) as Record<string, unknown>;
      for (let j = 0; j < i; j++) copy[keys[j]] = record[keys[j]];
    }
    if (copy !== undefined && !skip) copy[fixedKey] = prepared;
  }
  return copy ?? value;
}

// The well-formed string whose UTF-8 is what notepack writes for `value`, which is not.
function notepackString(value: string): string {
  // Buffer's UTF-8 writes U+FFFD for a lone surrogate.
  if (value.length > NOTEPACK_SHORT_STRING) return value.toWellFormed();
  // notepack's own writer takes any surrogate and the next code unit as a pair.
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit < 0xd800 || unit >= 0xe000) {
      out += value[i];
      continue;
    }
    i++;
    // Past the end, charCodeAt is NaN, which notepack's bit operations read as 0.
    out += String.fromCodePoint(0x10000 + (((unit & 0x3ff) << 10) | (value.charCodeAt(i) & 0x3ff)));
  }
  return out;
}
