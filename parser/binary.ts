/**
 * Binary attachments of Socket.IO packets, and the safety walk over decoded data. Browser
 * compatible.
 *
 * Binary values in event or ack data travel as separate frames: the JSON part holds
 * `{"_placeholder":true,"num":N}` where the N-th attachment goes. Encoding walks user data
 * recursively with a depth cap (a clear error instead of a stack overflow); decoding walks
 * iteratively, so hostile input can never overflow the stack.
 *
 * @module
 */

import { DecodeError } from "./errors.ts";
import type { Packet } from "./socket.ts";

/**
 * How deep `hasBinary` and `deconstructPacket` follow user data before giving up with an
 * error. Far deeper than any decoder accepts (see `DecoderOptions.maxDepth`).
 */
const MAX_ENCODE_DEPTH = 1000;

const BlobClass: typeof Blob | undefined = typeof Blob === "function" ? Blob : undefined;

/**
 * Whether `value` is binary data: an `ArrayBuffer`, any `ArrayBufferView` (typed array,
 * `DataView`, Node `Buffer`) or a `Blob`, as the official `socket.io-parser` decides.
 *
 * @example
 * ```ts
 * import { isBinary } from "@socketio-edge/core/parser";
 *
 * console.log(isBinary(new Uint8Array(2))); // true
 * console.log(isBinary([1, 2])); // false
 * ```
 *
 * @param value anything
 * @returns true when `value` is sent as a binary attachment
 */
export function isBinary(value: unknown): value is ArrayBuffer | ArrayBufferView | Blob {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value) ||
    (BlobClass !== undefined && value instanceof BlobClass);
}

/**
 * Whether `data` holds binary data anywhere, following arrays, own enumerable keys and
 * `toJSON()` results exactly like the official `socket.io-parser`.
 *
 * @example
 * ```ts
 * import { hasBinary } from "@socketio-edge/core/parser";
 *
 * console.log(hasBinary(["file", { bytes: new Uint8Array(3) }])); // true
 * console.log(hasBinary(["chat", { text: "hi" }])); // false
 * ```
 *
 * @param data event or ack data
 * @returns true when some value inside `data` is binary
 * @throws {Error} when `data` is nested more than 1000 levels deep (or is cyclic)
 */
export function hasBinary(data: unknown): boolean {
  return typeof data === "object" && data !== null && hasBinaryIn(data, 0, false);
}

// `viaToJSON` mirrors the official parser: a toJSON() result is not asked for its own toJSON.
function hasBinaryIn(obj: object, depth: number, viaToJSON: boolean): boolean {
  if (depth > MAX_ENCODE_DEPTH) throw tooDeepToEncode();
  if (Array.isArray(obj)) {
    for (let i = 0; i < obj.length; i++) {
      const v: unknown = obj[i];
      if (typeof v === "object" && v !== null && hasBinaryIn(v, depth + 1, false)) return true;
    }
    return false;
  }
  if (isBinary(obj)) return true;
  if (!viaToJSON) {
    const toJSON = (obj as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      const json: unknown = toJSON.call(obj);
      return typeof json === "object" && json !== null && hasBinaryIn(json, depth + 1, true);
    }
  }
  for (const key in obj) {
    const v: unknown = (obj as Record<string, unknown>)[key];
    // Own keys only, as the official parser; asked only of objects, primitives being the rule.
    if (
      typeof v === "object" && v !== null && Object.hasOwn(obj, key) &&
      hasBinaryIn(v, depth + 1, false)
    ) return true;
  }
  return false;
}

function tooDeepToEncode(): Error {
  return new Error(
    `Cannot encode packet data nested more than ${MAX_ENCODE_DEPTH} levels deep (or cyclic)`,
  );
}

/**
 * Replaces each binary value in `packet.data` with a numbered placeholder and returns the
 * attachments in order. Returns a new packet of type BINARY_EVENT (from EVENT) or BINARY_ACK
 * (from ACK) with `attachments` set; `packet` itself is not changed. ArrayBuffers and views come
 * out as `Uint8Array`s over the same bytes (a view contributes only its own bytes); Blobs as is.
 *
 * @example
 * ```ts
 * import { deconstructPacket, PacketType } from "@socketio-edge/core/parser";
 *
 * const { packet, buffers } = deconstructPacket({
 *   type: PacketType.EVENT,
 *   nsp: "/",
 *   data: ["upload", new Uint8Array([1, 2])],
 * });
 * console.log(packet.data); // ["upload", { _placeholder: true, num: 0 }]
 * console.log(packet.type, packet.attachments, buffers.length); // 5 1 1
 * ```
 *
 * @param packet an EVENT or ACK packet (BINARY_EVENT and BINARY_ACK are accepted too)
 * @returns the packet with placeholders, and its attachments
 * @throws {Error} when the data is nested more than 1000 levels deep (or is cyclic)
 */
export function deconstructPacket(
  packet: Packet,
): { packet: Packet; buffers: Array<Uint8Array | Blob> } {
  const buffers: Array<Uint8Array | Blob> = [];
  const data = deconstructData(packet.data, buffers, 0);
  const type = packet.type === 3 || packet.type === 6 ? 6 : 5;
  const out: Packet = { type, nsp: packet.nsp, data, attachments: buffers.length };
  if (packet.id !== undefined) out.id = packet.id;
  return { packet: out, buffers };
}

/**
 * Copies `data` with placeholders instead of binary values, pushing attachments onto `out`.
 * A placeholder's `num` is its attachment's index in `out` minus `base`, so an encoder can keep
 * the packet's text at `out[0]` and pass `base` 1.
 *
 * @example
 * ```ts
 * import { deconstructData } from "@socketio-edge/core/parser";
 *
 * const out: Array<string | Uint8Array | Blob> = ["head"];
 * console.log(deconstructData([new Uint8Array(1)], out, 1)); // [{ _placeholder: true, num: 0 }]
 * console.log(out.length); // 2
 * ```
 *
 * @param data user data
 * @param out where attachments are pushed
 * @param base the index in `out` of attachment number 0
 * @returns a copy of `data` with placeholders (unchanged values are shared, not copied)
 * @throws {Error} when the data is nested more than 1000 levels deep (or is cyclic)
 */
export function deconstructData(
  data: unknown,
  out: Array<string | Uint8Array | Blob>,
  base: number,
): unknown {
  return deconstructIn(data, out, base, 0, false);
}

// Mirrors the official parser's copy: Dates kept (JSON.stringify calls their toJSON), toJSON()
// results followed once, own enumerable keys copied, functions and primitives kept.
function deconstructIn(
  data: unknown,
  out: Array<string | Uint8Array | Blob>,
  base: number,
  depth: number,
  viaToJSON: boolean,
): unknown {
  if (typeof data !== "object" || data === null) return data;
  if (depth > MAX_ENCODE_DEPTH) throw tooDeepToEncode();
  if (isBinary(data)) {
    const placeholder = { _placeholder: true, num: out.length - base };
    out.push(toAttachment(data));
    return placeholder;
  }
  if (Array.isArray(data)) {
    const copy = new Array<unknown>(data.length);
    for (let i = 0; i < data.length; i++) {
      copy[i] = deconstructIn(data[i], out, base, depth + 1, false);
    }
    return copy;
  }
  if (data instanceof Date) return data;
  if (!viaToJSON) {
    const toJSON = (data as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === "function") {
      return deconstructIn(toJSON.call(data), out, base, depth + 1, true);
    }
  }
  const copy: Record<string, unknown> = {};
  for (const key in data) {
    if (!Object.hasOwn(data, key)) continue;
    const v = deconstructIn((data as Record<string, unknown>)[key], out, base, depth + 1, false);
    // Plain assignment of "__proto__" would set the copy's prototype and drop the key.
    if (key === "__proto__") {
      Object.defineProperty(copy, key, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else copy[key] = v;
  }
  return copy;
}

function toAttachment(value: ArrayBuffer | ArrayBufferView | Blob): Uint8Array | Blob {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) {
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

/**
 * Where the placeholders of a binary packet sit: attachment `i` goes to `parents[i][keys[i]]`.
 *
 * @example
 * ```ts
 * import { locatePlaceholders } from "@socketio-edge/core/parser";
 *
 * const data = ["photo", { _placeholder: true, num: 0 }];
 * const slots = locatePlaceholders(data, 1, 100, false);
 * if (!(slots instanceof Error)) console.log(slots.parents[0] === data, slots.keys[0]); // true 1
 * ```
 */
export interface PlaceholderSlots {
  /** The array or object holding placeholder `i`. */
  readonly parents: object[];
  /** The index or key of placeholder `i` in its parent. */
  readonly keys: Array<string | number>;
}

/**
 * Walks decoded JSON data once, without recursion: refuses nesting deeper than `maxDepth`
 * ("too deep"), when `checkKeys` the ways to a prototype ("forbidden key": a `__proto__` key, a
 * `constructor` object with a `prototype` key, see {@linkcode isPrototypePath}), and, when
 * `attachments > 0`, finds the placeholders, each of which must have an integer `num` below
 * `attachments`, used once ("invalid placeholder"), all numbers present ("invalid
 * attachments"). With `attachments === 0` placeholder-looking objects stay plain data.
 *
 * @example
 * ```ts
 * import { locatePlaceholders } from "@socketio-edge/core/parser";
 *
 * const bad = locatePlaceholders(JSON.parse('[{"__proto__":{}}]'), 0, 100, true);
 * console.log(bad instanceof Error && bad.message); // "forbidden key: __proto__"
 * ```
 *
 * @param data decoded JSON data
 * @param attachments how many attachments the packet announced (0 for a non-binary packet)
 * @param maxDepth the deepest nesting accepted (the outer array or object is level 1)
 * @param checkKeys whether to refuse the ways to a prototype
 * @returns where each attachment goes, or why the data was refused
 */
export function locatePlaceholders(
  data: unknown,
  attachments: number,
  maxDepth: number,
  checkKeys: boolean,
): PlaceholderSlots | DecodeError {
  const slots: PlaceholderSlots = { parents: new Array(attachments), keys: new Array(attachments) };
  if (typeof data !== "object" || data === null) {
    return attachments === 0 ? slots : new DecodeError("invalid attachments", "no placeholders");
  }
  if (maxDepth < 1) return new DecodeError("too deep", `over ${maxDepth} levels`);
  const nodes: object[] = [data];
  const depths: number[] = [1];
  let found = 0;
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()! + 1;
    const isArray = Array.isArray(node);
    // Arrays walk by index; objects by own keys (JSON.parse makes no inherited ones).
    const keys: ArrayLike<string | number> = isArray ? node : Object.keys(node);
    const count = keys.length;
    for (let i = 0; i < count; i++) {
      const key = isArray ? i : keys[i] as string;
      if (checkKeys && !isArray && key === "__proto__") {
        return new DecodeError("forbidden key", key);
      }
      const v: unknown = (node as Record<string | number, unknown>)[key];
      if (typeof v !== "object" || v === null) continue;
      if (checkKeys && key === "constructor" && isPrototypePath(key, v)) {
        return new DecodeError("forbidden key", "constructor.prototype");
      }
      if (attachments > 0 && (v as { _placeholder?: unknown })._placeholder === true) {
        const num = (v as { num?: unknown }).num;
        if (
          typeof num !== "number" || !Number.isInteger(num) || num < 0 || num >= attachments ||
          slots.parents[num] !== undefined
        ) {
          return new DecodeError("invalid placeholder", `num ${String(num)}`);
        }
        slots.parents[num] = node;
        slots.keys[num] = key;
        found++;
        continue;
      }
      if (depth > maxDepth) return new DecodeError("too deep", `over ${maxDepth} levels`);
      nodes.push(v);
      depths.push(depth);
    }
  }
  if (found !== attachments) {
    return new DecodeError(
      "invalid attachments",
      `${attachments} announced, ${found} placeholders`,
    );
  }
  return slots;
}

/**
 * Checks decoded JSON data of a non-binary packet: refuses nesting deeper than `maxDepth` ("too
 * deep") and the ways to a prototype anywhere ("forbidden key": a `__proto__` key, a
 * `constructor` object with a `prototype` key, see {@linkcode isPrototypePath}).
 * Placeholder-looking objects are left alone (they are plain data in a non-binary packet).
 *
 * @example
 * ```ts
 * import { checkData } from "@socketio-edge/core/parser";
 *
 * console.log(checkData(["chat", { text: "hi" }], 100)); // undefined
 * console.log(checkData(["car", { constructor: "Ford" }], 100)); // undefined
 * console.log(checkData([{ constructor: { prototype: {} } }], 100)?.code); // "forbidden key"
 * console.log(checkData([[[1]]], 2)?.code); // "too deep"
 * ```
 *
 * @param data decoded JSON data
 * @param maxDepth the deepest nesting accepted (the outer array or object is level 1)
 * @returns why the data was refused, or undefined when it is fine
 */
export function checkData(data: unknown, maxDepth: number): DecodeError | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  if (maxDepth > MAX_RECURSIVE_DEPTH) {
    const slots = locatePlaceholders(data, 0, maxDepth, true);
    return slots instanceof DecodeError ? slots : undefined;
  }
  return isUnsafe(data, maxDepth) ? unsafeError(data, maxDepth) : undefined;
}

// Beyond this a user-chosen maxDepth is checked by the iterative walk instead of recursion.
const MAX_RECURSIVE_DEPTH = 1000;

// The fast recursive check: `budget` levels left, so recursion is bounded by maxDepth.
function isUnsafe(node: object, budget: number): boolean {
  if (budget === 0) return true;
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) {
      const v: unknown = node[i];
      if (typeof v === "object" && v !== null && isUnsafe(v, budget - 1)) return true;
    }
    return false;
  }
  for (const key in node) {
    if (key === "__proto__") return true;
    const v: unknown = (node as Record<string, unknown>)[key];
    if (typeof v !== "object" || v === null) continue;
    if ((key === "constructor" && isPrototypePath(key, v)) || isUnsafe(v, budget - 1)) return true;
  }
  return false;
}

// Says why isUnsafe refused (rare path, so the walk is done again for a precise error).
function unsafeError(data: object, maxDepth: number): DecodeError {
  const slots = locatePlaceholders(data, 0, maxDepth, true);
  return slots instanceof DecodeError ? slots : new DecodeError("invalid data");
}

/**
 * Whether `key: value`, found in decoded data, leads to a prototype: a `__proto__` key (an own
 * key of what `JSON.parse` returns, but code that copies by assignment, `Object.assign` or a
 * merge, sets a prototype with it on Node and Bun), or a `constructor` object with a
 * `prototype` key (a deep merge into a plain object walks `target.constructor.prototype`, which
 * is `Object.prototype`). These are the only two property paths from a plain object to a
 * prototype, and what `secure-json-parse` refuses for fastify. Any other key is data:
 * `{"constructor": "Ford"}`, `{"prototype": 1}`, `{"constructor": {"name": "x"}}`.
 *
 * @example
 * ```ts
 * import { isPrototypePath } from "@socketio-edge/core/parser";
 *
 * console.log(isPrototypePath("constructor", "Ford")); // false
 * console.log(isPrototypePath("constructor", { prototype: {} })); // true
 * console.log(isPrototypePath("__proto__", 1)); // true
 * ```
 *
 * @param key an object's key
 * @param value its value
 * @returns true when the pair is refused
 */
export function isPrototypePath(key: string, value: unknown): boolean {
  if (key === "__proto__") return true;
  return key === "constructor" && typeof value === "object" && value !== null &&
    Object.hasOwn(value, "prototype");
}

/**
 * Puts `buffers` in place of the placeholders of a decoded BINARY_EVENT or BINARY_ACK packet,
 * after the same checks as `locatePlaceholders` (keys are always checked). Changes
 * `packet.data` in place and returns an EVENT or ACK packet without `attachments`.
 *
 * @example
 * ```ts
 * import { PacketType, reconstructPacket } from "@socketio-edge/core/parser";
 *
 * const packet = reconstructPacket({
 *   type: PacketType.BINARY_EVENT,
 *   nsp: "/",
 *   data: ["photo", { _placeholder: true, num: 0 }],
 *   attachments: 1,
 * }, [new Uint8Array([7])]);
 * if (!(packet instanceof Error)) console.log(packet.type, packet.data); // 2 ["photo", Uint8Array]
 * ```
 *
 * @param packet a decoded packet with placeholders
 * @param buffers its attachments, in order
 * @param maxDepth the deepest nesting accepted (default 100)
 * @returns the packet with its binary data, or why it was refused
 */
export function reconstructPacket(
  packet: Packet,
  buffers: readonly unknown[],
  maxDepth = 100,
): Packet | DecodeError {
  const slots = locatePlaceholders(packet.data, buffers.length, maxDepth, true);
  if (slots instanceof DecodeError) return slots;
  for (let i = 0; i < buffers.length; i++) {
    (slots.parents[i] as Record<string | number, unknown>)[slots.keys[i]] = buffers[i];
  }
  const type = packet.type === 6 || packet.type === 3 ? 3 : 2;
  const out: Packet = { type, nsp: packet.nsp, data: packet.data };
  if (packet.id !== undefined) out.id = packet.id;
  return out;
}
