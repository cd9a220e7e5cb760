/**
 * Socket.IO protocol v5 packet codec, byte for byte as `socket.io-parser` 4.x speaks it.
 * Browser compatible.
 *
 * A packet is one text frame `<type>[<attachments>-][<nsp>,][<id>][<json>]` (the namespace is
 * left out when it is `/`, and may go without its comma when it ends the packet: `0/admin`),
 * followed, for BINARY_EVENT and BINARY_ACK, by one binary frame per attachment. The decoder
 * never throws on bad input: it returns a {@linkcode DecodeError}.
 *
 * @module
 */

import {
  checkData,
  deconstructData,
  hasBinary,
  locatePlaceholders,
  type PlaceholderSlots,
} from "./binary.ts";
import { Emitter } from "./emitter.ts";
import { DecodeError } from "./errors.ts";
import { internShort, parseJson } from "./json.ts";

/**
 * Socket.IO packet types and their wire digits.
 *
 * @example
 * ```ts
 * import { PacketType } from "@socketio-edge/core/parser";
 *
 * console.log(PacketType.EVENT); // 2
 * ```
 */
export const PacketType = {
  CONNECT: 0,
  DISCONNECT: 1,
  EVENT: 2,
  ACK: 3,
  CONNECT_ERROR: 4,
  BINARY_EVENT: 5,
  BINARY_ACK: 6,
} as const;

/**
 * A Socket.IO packet type, 0 to 6.
 *
 * @example
 * ```ts
 * import { PacketType } from "@socketio-edge/core/parser";
 *
 * const type: PacketType = PacketType.ACK;
 * console.log(type); // 3
 * ```
 */
export type PacketType = typeof PacketType[keyof typeof PacketType];

/**
 * A Socket.IO packet.
 *
 * @example An event with an ack id, in the `/chat` namespace
 * ```ts
 * import { type Packet, PacketType } from "@socketio-edge/core/parser";
 *
 * const packet: Packet = { type: PacketType.EVENT, nsp: "/chat", id: 12, data: ["hi", 1] };
 * console.log(packet.nsp);
 * ```
 */
export interface Packet {
  /** The packet type. */
  type: PacketType;
  /** The namespace, such as `"/"` or `"/admin"`. */
  nsp: string;
  /**
   * The payload: CONNECT auth object, CONNECT_ERROR object or string, EVENT `[name, ...args]`,
   * ACK `[...args]`; absent for DISCONNECT.
   */
  data?: unknown;
  /** The ack id of an EVENT that wants an ack, or of the ACK answering it. */
  id?: number;
  /** How many binary frames follow (BINARY_EVENT and BINARY_ACK, set by the encoder). */
  attachments?: number;
}

/**
 * The Socket.IO protocol version this codec speaks.
 *
 * @example
 * ```ts
 * import { protocol } from "@socketio-edge/core/parser";
 *
 * console.log(protocol); // 5
 * ```
 */
export const protocol = 5;

/**
 * Event names with a special meaning on one side or the other: a decoder refuses events named so,
 * and sockets refuse to emit them.
 *
 * @example
 * ```ts
 * import { RESERVED_EVENTS } from "@socketio-edge/core/parser";
 *
 * console.log(RESERVED_EVENTS.has("disconnect")); // true
 * ```
 */
export const RESERVED_EVENTS: ReadonlySet<string> = new Set([
  "connect",
  "connect_error",
  "disconnect",
  "disconnecting",
  "newListener",
  "removeListener",
]);

// The decoder's test for the names above. A switch, not `RESERVED_EVENTS.has`: a freshly decoded
// name has no hash yet, and computing it made decoding a small event about 20% slower.
function isReservedEvent(name: string): boolean {
  switch (name) {
    case "connect":
    case "connect_error":
    case "disconnect":
    case "disconnecting":
    case "newListener":
    case "removeListener":
      return true;
  }
  return false;
}

/**
 * A `JSON.stringify` replacer.
 *
 * @example
 * ```ts
 * import type { Replacer } from "@socketio-edge/core/parser";
 *
 * const replacer: Replacer = (_key, value) => typeof value === "bigint" ? String(value) : value;
 * console.log(JSON.stringify({ n: 1n }, replacer)); // {"n":"1"}
 * ```
 */
export type Replacer = (this: unknown, key: string, value: unknown) => unknown;

/**
 * A `JSON.parse` reviver.
 *
 * @example
 * ```ts
 * import type { Reviver } from "@socketio-edge/core/parser";
 *
 * const reviver: Reviver = (key, value) => key === "at" ? new Date(value as string) : value;
 * console.log(JSON.parse('{"at":"2020-01-01T00:00:00.000Z"}', reviver).at instanceof Date);
 * ```
 */
export type Reviver = (this: unknown, key: string, value: unknown) => unknown;

/**
 * Encodes packets into the frames to send: the text first, then one binary frame per
 * attachment.
 *
 * EVENT and ACK packets whose data holds binary (ArrayBuffer, any ArrayBufferView, Blob; also
 * under `toJSON()` results) are sent as BINARY_EVENT / BINARY_ACK with placeholders, exactly
 * like `socket.io-parser`. Views are sent as `Uint8Array`s over their own bytes only. Packets
 * given as BINARY_EVENT / BINARY_ACK are treated as EVENT / ACK (the encoder decides).
 *
 * @example
 * ```ts
 * import { Encoder, PacketType } from "@socketio-edge/core/parser";
 *
 * const encoder = new Encoder();
 * console.log(encoder.encode({ type: PacketType.EVENT, nsp: "/", data: ["hey", "Jude"] }));
 * // ['2["hey","Jude"]']
 * console.log(encoder.encode({ type: PacketType.EVENT, nsp: "/", data: ["hello", new Uint8Array([1])] }));
 * // ['51-["hello",{"_placeholder":true,"num":0}]', Uint8Array(1) [ 1 ]]
 * ```
 */
export class Encoder {
  #replacer: Replacer | undefined;

  /**
   * Makes an encoder.
   *
   * @param replacer passed to `JSON.stringify` for the packet data
   */
  constructor(replacer?: Replacer) {
    this.#replacer = replacer;
  }

  /**
   * Encodes one packet.
   *
   * @example
   * ```ts
   * import { Encoder, PacketType } from "@socketio-edge/core/parser";
   *
   * const [text] = new Encoder().encode({ type: PacketType.ACK, nsp: "/admin", id: 1, data: ["hi"] });
   * console.log(text); // 3/admin,1["hi"]
   * ```
   *
   * @param packet the packet to send
   * @returns the text frame, then the attachments in order
   * @throws {Error} when EVENT or ACK data is nested more than 1000 levels deep or is cyclic;
   * whatever `JSON.stringify` throws (cycles, BigInt)
   */
  encode(packet: Packet): Array<string | Uint8Array | Blob> {
    let type = packet.type;
    if (type === 2 || type === 3 || type === 5 || type === 6) {
      const binary = type === 5 || type === 6 ? type : type + 3;
      if (hasBinary(packet.data)) {
        const out: Array<string | Uint8Array | Blob> = [""];
        const data = deconstructData(packet.data, out, 1);
        // Only a toJSON() answering differently on its second call finds nothing here.
        out[0] = out.length > 1
          ? this.#text(binary, out.length - 1, packet.nsp, packet.id, data)
          : this.#text(binary - 3, 0, packet.nsp, packet.id, data);
        return out;
      }
      type = (binary - 3) as PacketType;
    }
    return [this.#text(type, 0, packet.nsp, packet.id, packet.data)];
  }

  /**
   * The text frame of `packet` when it holds no binary data, else undefined (then
   * {@linkcode Encoder.encode} gives the frame and its attachments). @internal
   *
   * @param packet the packet to send
   * @returns the text frame, or undefined
   */
  _encodeText(packet: Packet): string | undefined {
    const type = packet.type;
    if ((type === 2 || type === 3) && hasBinary(packet.data)) return undefined;
    if (type === 5 || type === 6) return undefined;
    return this.#text(type, 0, packet.nsp, packet.id, packet.data);
  }

  #text(type: number, attachments: number, nsp: string, id: unknown, data: unknown): string {
    let text = attachments > 0 ? `${type}${attachments}-` : String(type);
    if (nsp && nsp !== "/") text += nsp + ",";
    if (id != null) text += id;
    if (data != null) {
      const json = this.#replacer === undefined
        ? JSON.stringify(data)
        : JSON.stringify(data, this.#replacer);
      // undefined for a function or symbol: the official parser would append "undefined".
      if (json !== undefined) text += json;
    }
    return text;
  }
}

/**
 * Options of the {@linkcode Decoder}.
 *
 * @example
 * ```ts
 * import { Decoder, type DecoderOptions } from "@socketio-edge/core/parser";
 *
 * const opts: DecoderOptions = { maxAttachments: 4, maxDepth: 32, maxStringLength: 100_000 };
 * console.log(new Decoder(opts) instanceof Decoder); // true
 * ```
 */
export interface DecoderOptions {
  /** Passed to `JSON.parse`. What it returns is checked like any decoded data. */
  reviver?: Reviver;
  /** The most binary attachments one packet may announce. Default 10, as `socket.io-parser`. */
  maxAttachments?: number;
  /**
   * The deepest nesting of packet data accepted, the outer array or object being level 1.
   * Default 100. Keep it finite: it also bounds the walk over data a reviver returns.
   */
  maxDepth?: number;
  /**
   * The longest text frame accepted, in UTF-16 code units. Default 1,000,000, matching the
   * default `maxHttpBufferSize` of 1e6 bytes (a frame of N bytes is at most N code units); raise
   * both together. A client receiving large messages from a server should raise it too.
   */
  maxStringLength?: number;
}

/**
 * The events of a {@linkcode Decoder}.
 *
 * @example
 * ```ts
 * import type { DecoderEvents } from "@socketio-edge/core/parser";
 *
 * const args: DecoderEvents["decoded"] = [{ type: 1, nsp: "/" }];
 * console.log(args[0].type);
 * ```
 */
export type DecoderEvents = { decoded: [packet: Packet] };

const MAX_ACK_ID = 2147483647;

// Up to this many characters JSON goes to parseJson, which beats JSON.parse there and checks
// as it parses; longer texts go to JSON.parse and a walk over the result. (Frames reach us as
// substrings of the engine frame, and per-character reads of those are slow in V8, so the
// JavaScript parser falls behind JSON.parse beyond about 50 characters.)
const MAX_FAST_JSON = 48;

/** @internal who takes a {@linkcode Decoder}'s packets directly, field by field. */
export interface PacketSink {
  /** One packet; `data` is undefined when the packet has none. */
  _ondecoded(type: PacketType, nsp: string, id: number | undefined, data: unknown): void;
}

/**
 * Decodes Socket.IO frames into packets, emitting `"decoded"` with each complete one.
 *
 * Stricter than `socket.io-parser` (which it otherwise accepts byte for byte): the type must be
 * a digit 0-6; attachments and ids plain digits; ids at most 2^31-1; EVENT needs a non-empty
 * array whose first item is a non-reserved string name (or a number, as officially allowed); ACK
 * needs an id and an array; CONNECT_ERROR needs data;
 * placeholders must match the announced attachments exactly; the two ways from data to a
 * prototype are refused, a `__proto__` key and a `constructor` object with a `prototype` key
 * (see {@linkcode isPrototypePath}; other keys named so are data); nesting is limited. A
 * CONNECT refused for its data alone tells its namespace in {@linkcode DecodeError.packet}.
 *
 * Binary packets are emitted as EVENT / ACK with the attachments as received (`Uint8Array` or
 * `ArrayBuffer`) in place of their placeholders.
 *
 * @example
 * ```ts
 * import { Decoder } from "@socketio-edge/core/parser";
 *
 * const decoder = new Decoder();
 * decoder.on("decoded", (packet) => console.log(packet));
 * decoder.add('2["hey","Jude"]'); // { type: 2, nsp: "/", data: ["hey", "Jude"] }
 * decoder.add('51-["hello",{"_placeholder":true,"num":0}]'); // (waits for 1 attachment)
 * decoder.add(new Uint8Array([1, 2, 3])); // { type: 2, nsp: "/", data: ["hello", Uint8Array] }
 * console.log(decoder.add("9")?.code); // "invalid packet type"
 * ```
 */
export class Decoder extends Emitter<DecoderEvents> {
  #reviver: Reviver | undefined;
  #maxAttachments: number;
  #maxDepth: number;
  #maxStringLength: number;
  // The binary packet waiting for attachments, where they go, and how many came.
  #pending: Packet | undefined;
  #slots: PlaceholderSlots | undefined;
  #expected = 0;
  #received = 0;
  /**
   * @internal takes decoded packets in place of "decoded" listeners, as their fields (no packet
   * object is made for it): the server's client.
   */
  _sink: PacketSink | undefined;

  /**
   * Makes a decoder.
   *
   * @param opts decoder options, or a `JSON.parse` reviver
   */
  constructor(opts?: DecoderOptions | Reviver) {
    super();
    const o: DecoderOptions = typeof opts === "function" ? { reviver: opts } : opts ?? {};
    this.#reviver = o.reviver;
    this.#maxAttachments = o.maxAttachments ?? 10;
    this.#maxDepth = o.maxDepth ?? 100;
    this.#maxStringLength = o.maxStringLength ?? 1_000_000;
  }

  /**
   * Feeds one frame: a text frame, or a binary attachment of the pending binary packet.
   * Emits `"decoded"` for each complete packet. Never throws on bad input: returns a
   * {@linkcode DecodeError} and drops any partial packet, so the caller can close the
   * connection. (An exception thrown by a `"decoded"` listener does propagate.)
   *
   * @example
   * ```ts
   * import { Decoder } from "@socketio-edge/core/parser";
   *
   * const decoder = new Decoder();
   * decoder.on("decoded", (packet) => console.log(packet.nsp)); // /admin
   * console.log(decoder.add("0/admin,")); // undefined
   * console.log(decoder.add('2/admin,["a"')?.code); // "invalid payload"
   * ```
   *
   * @param chunk a text frame, or a binary frame as `Uint8Array` (or any view) or `ArrayBuffer`
   * @param start where the packet starts in a text `chunk`: a server can pass a whole Engine.IO
   * frame (`42[...]`, start 1) instead of slicing it, which V8 reads more slowly
   * @returns a decode error on bad input, else undefined
   */
  add(chunk: string | Uint8Array | ArrayBuffer, start = 0): DecodeError | undefined {
    if (typeof chunk === "string") {
      if (this.#slots !== undefined) {
        const missing = this.#expected - this.#received;
        this.destroy();
        return new DecodeError("invalid attachments", `got text while ${missing} pending`);
      }
      const length = chunk.length - start;
      if (length > this.#maxStringLength) {
        return new DecodeError("too large", `${length} > ${this.#maxStringLength} chars`);
      }
      return this.#decodeText(chunk, start);
    }
    if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) {
      const slots = this.#slots;
      if (slots === undefined) return new DecodeError("unexpected binary", "no packet pending");
      const i = this.#received++;
      (slots.parents[i] as Record<string | number, unknown>)[slots.keys[i]] = chunk;
      if (this.#received < this.#expected) return undefined;
      const packet = this.#pending!;
      this.destroy();
      this.#decoded(packet);
      return undefined;
    }
    this.destroy();
    return new DecodeError("invalid payload", "expected a string or binary frame");
  }

  /**
   * Drops any partially received binary packet.
   *
   * @example
   * ```ts
   * import { Decoder } from "@socketio-edge/core/parser";
   *
   * const decoder = new Decoder();
   * decoder.add('51-["file",{"_placeholder":true,"num":0}]');
   * decoder.destroy();
   * console.log(decoder.add(new Uint8Array(1))?.code); // "unexpected binary"
   * ```
   */
  destroy(): void {
    this.#pending = undefined;
    this.#slots = undefined;
    this.#expected = 0;
    this.#received = 0;
  }

  #decoded(packet: Packet): void {
    if (this._sink !== undefined) {
      this._sink._ondecoded(packet.type, packet.nsp, packet.id, packet.data);
    } else this.emit("decoded", packet);
  }

  #decodeText(str: string, start: number): DecodeError | undefined {
    const err = this.#decodeFrame(str, start);
    // A CONNECT whose auth alone is refused: the server answers it instead of closing.
    if (err !== undefined && (err.code === "forbidden key" || err.code === "too deep")) {
      const nsp = connectNamespace(str, start);
      if (nsp !== undefined) err.packet = { type: PacketType.CONNECT, nsp };
    }
    return err;
  }

  #decodeFrame(str: string, start: number): DecodeError | undefined {
    const len = str.length;
    const type = str.charCodeAt(start) - 48; // NaN for ""
    if (!(type >= 0 && type <= 6)) {
      return new DecodeError("invalid packet type", JSON.stringify(str.slice(start, start + 1)));
    }
    let i = start + 1;
    let c = str.charCodeAt(i);

    let attachments = 0;
    if (type >= 5) {
      while (c >= 48 && c <= 57) {
        attachments = attachments * 10 + c - 48;
        if (attachments > this.#maxAttachments || attachments > MAX_ACK_ID) {
          return new DecodeError("invalid attachments", `more than ${this.#maxAttachments}`);
        }
        c = str.charCodeAt(++i);
      }
      if (i === start + 1 || c !== 45 /* - */ || attachments < 1) {
        return new DecodeError("invalid attachments", "expected a count of at least 1, then -");
      }
      c = str.charCodeAt(++i);
    }

    let nsp = "/";
    if (c === 47 /* / */) {
      // Without a comma the name runs to the end of the packet (`40/admin`), as officially.
      const comma = str.indexOf(",", i);
      const end = comma === -1 ? len : comma;
      nsp = str.slice(i, end);
      i = comma === -1 ? len : comma + 1;
      c = str.charCodeAt(i);
    }

    let id: number | undefined;
    if (c >= 48 && c <= 57) {
      id = 0;
      do {
        id = id * 10 + c - 48;
        if (id > MAX_ACK_ID) return new DecodeError("invalid ack id", `over ${MAX_ACK_ID}`);
        c = str.charCodeAt(++i);
      } while (c >= 48 && c <= 57);
    }

    let data: unknown;
    const hasData = i < len;
    const maxDepth = this.#maxDepth;
    let checked = false;
    if (hasData) {
      const reviver = this.#reviver;
      // JSON.parse itself is iterative, but it applies a reviver recursively: refuse deep text
      // first (valid JSON nested deeper than maxDepth has at least 2 * (maxDepth + 1) chars).
      if (
        reviver !== undefined && len - i >= 2 * (maxDepth + 1) && exceedsDepth(str, i, maxDepth)
      ) {
        return new DecodeError("too deep", `over ${maxDepth} levels`);
      }
      if (reviver === undefined && len - i <= MAX_FAST_JSON) {
        // Short text: our parser, which also refuses forbidden keys and deep nesting.
        data = parseJson(str, i, maxDepth);
        if (data instanceof DecodeError) return data;
        checked = true;
      } else {
        try {
          data = reviver === undefined
            ? JSON.parse(str.slice(i))
            : JSON.parse(str.slice(i), reviver);
        } catch {
          return new DecodeError("invalid payload", "invalid JSON");
        }
        // The walk over the result can be skipped when the text is too short to nest deeper
        // than maxDepth and cannot spell "__proto__" or "prototype" (plainly or \u-escaped).
        checked = reviver === undefined && len - i < 2 * (maxDepth + 1) &&
          str.indexOf("proto", i) === -1 && str.indexOf("\\u", i) === -1;
        // The event name as seen before: its listeners are then found without hashing it.
        if ((type === 2 || type === 5) && Array.isArray(data) && typeof data[0] === "string") {
          data[0] = internShort(data[0]);
        }
      }
    }

    const invalid = validate(type, hasData, data, id);
    if (invalid !== undefined) return invalid;

    if (attachments > 0) {
      const slots = locatePlaceholders(data, attachments, maxDepth, !checked);
      if (slots instanceof DecodeError) return slots;
      this.#pending = id === undefined
        ? { type: type === 5 ? 2 : 3, nsp, data }
        : { type: type === 5 ? 2 : 3, nsp, id, data };
      this.#slots = slots;
      this.#expected = attachments;
      this.#received = 0;
      return undefined;
    }
    if (!checked && typeof data === "object" && data !== null) {
      const unsafe = checkData(data, maxDepth);
      if (unsafe !== undefined) return unsafe;
    }

    if (this._sink !== undefined) {
      this._sink._ondecoded(type as PacketType, nsp, id, data);
      return undefined;
    }
    this.emit(
      "decoded",
      id === undefined
        ? hasData ? { type: type as PacketType, nsp, data } : { type: type as PacketType, nsp }
        : hasData
        ? { type: type as PacketType, nsp, id, data }
        : { type: type as PacketType, nsp, id },
    );
    return undefined;
  }
}

// The namespace of a CONNECT packet's text (read as the decoder reads it), else undefined.
function connectNamespace(str: string, start: number): string | undefined {
  if (str.charCodeAt(start) !== 48 /* 0 */) return undefined;
  if (str.charCodeAt(start + 1) !== 47 /* / */) return "/";
  const comma = str.indexOf(",", start + 1);
  return str.slice(start + 1, comma === -1 ? str.length : comma);
}

// The shape each packet type's data must have (socket.io-parser's isPayloadValid, stricter).
function validate(
  type: number,
  hasData: boolean,
  data: unknown,
  id: number | undefined,
): DecodeError | undefined {
  switch (type) {
    case 0: // CONNECT
      return !hasData || isPlainObject(data)
        ? undefined
        : new DecodeError("invalid data", "CONNECT data must be an object");
    case 1: // DISCONNECT
      return hasData ? new DecodeError("invalid data", "DISCONNECT carries no data") : undefined;
    case 2: // EVENT
    case 5: { // BINARY_EVENT
      if (!Array.isArray(data) || data.length === 0) {
        return new DecodeError("invalid data", "EVENT data must be a non-empty array");
      }
      const name: unknown = data[0];
      if (typeof name === "string" ? isReservedEvent(name) : typeof name !== "number") {
        // Not String(name): a hostile name such as {"toString":0} would throw from it.
        return new DecodeError(
          "invalid event name",
          typeof name === "string" ? name : `a ${name === null ? "null" : typeof name}`,
        );
      }
      return undefined;
    }
    case 3: // ACK
    case 6: // BINARY_ACK
      if (id === undefined) return new DecodeError("invalid ack id", "ACK without id");
      return Array.isArray(data)
        ? undefined
        : new DecodeError("invalid data", "ACK data must be an array");
    default: // 4 CONNECT_ERROR
      return typeof data === "string" || isPlainObject(data)
        ? undefined
        : new DecodeError("invalid data", "CONNECT_ERROR data must be an object or a string");
  }
}

function isPlainObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// Whether the JSON text from `start` on nests deeper than maxDepth, skipping brackets inside
// strings; malformed text is left for JSON.parse to refuse. Scans the frame itself, not a slice
// of it: charCodeAt on a sliced string is several times slower.
function exceedsDepth(text: string, start: number, maxDepth: number): boolean {
  let depth = 0;
  const len = text.length;
  for (let i = start; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) i = skipString(text, i + 1, len);
    else if ((c | 32) === 123 /* [ or { */) {
      if (++depth > maxDepth) return true;
    } else if ((c | 32) === 125 /* ] or } */) depth--;
  }
  return false;
}

// The index of the quote closing the string whose content starts at `i` (or `len`). Short
// strings are walked; long ones jump from quote to quote with indexOf.
function skipString(text: string, i: number, len: number): number {
  const stop = i + 32 < len ? i + 32 : len;
  for (; i < stop; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) return i;
    if (c === 92 /* \ */) i++;
  }
  if (i >= len) return len;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q === -1) return len;
    let b = q - 1;
    while (text.charCodeAt(b) === 92) b--;
    if ((q - b) % 2 === 1) return q; // an even number of backslashes: not escaped
    i = q + 1;
  }
}

/**
 * What a custom parser module must provide to be passed as the `parser` option of the server
 * or client, like `socket.io-parser` or `socket.io-msgpack-parser`. Custom decoders may throw
 * from `add` instead of returning an error, so callers must catch as well.
 *
 * @example
 * ```ts
 * import * as parser from "@socketio-edge/core/parser";
 * import type { Parser } from "@socketio-edge/core/parser";
 *
 * const custom: Parser = { Encoder: parser.Encoder, Decoder: parser.Decoder };
 * const decoder = new custom.Decoder();
 * decoder.on("decoded", (packet) => console.log(packet));
 * for (const chunk of new custom.Encoder().encode({ type: 2, nsp: "/", data: ["hi"] })) {
 *   decoder.add(chunk);
 * }
 * ```
 */
export interface Parser {
  /** Makes an encoder; `encode` returns the frames to send, text or binary. */
  Encoder: new () => { encode(packet: Packet): unknown[] };
  /** Makes a decoder; `add` takes one received frame and emits `"decoded"` packets. */
  Decoder: new () => {
    add(chunk: unknown): unknown;
    on(event: "decoded", listener: (packet: Packet) => void): unknown;
    destroy(): void;
  };
}
