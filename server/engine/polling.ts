/**
 * The long-polling transport: a GET is held open (a streamed `Response`, or on Bun a deferred one)
 * until packets are ready; a POST carries a payload and is answered `ok`. Browser compatible.
 *
 * @module
 */
import type { EnginePacket } from "../../parser/engine.ts";
import { isDecodeError } from "../../parser/errors.ts";
import { report } from "../runtime/report.ts";
import type { Answer } from "../runtime/types.ts";
import type { WireCodec } from "./codec.ts";
import type { GracedPoll, PollGrace } from "./poll_grace.ts";
import type { OutPacket, Transport, TransportOwner } from "./transport.ts";

const encoder = new TextEncoder();
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A GET waiting for packets; `body` is set when packets came while it was being set up. */
interface PendingPoll {
  body?: string | Uint8Array;
  /** The streamed response's controller (Engine.IO v4). */
  controller?: ReadableStreamDefaultController<Uint8Array>;
  /**
   * Resolves a deferred response (v3, whose content type depends on the payload; a poll the
   * runtime watches; a poll in its grace), made with `answer` and `headers`.
   */
  settle?: (res: Response) => void;
  answer?: Answer;
  headers?: Headers;
}

/** What reading a POST body gave: its bytes, or the status to refuse it with. */
// A refusal; `ends` when it ends the session too (a body in too many chunks, which Node's HTTP
// parser refuses by dropping the connection), not only the request (a body over the size limit,
// which the official server answers 413 and leaves the session to the client).
type BodyResult = Uint8Array | { status: number; ends?: true };

/**
 * The most chunks a body without a `Content-Length` may arrive in: one per 512 bytes of the size
 * limit, and at least 1024. A TCP segment carries at least 536 bytes, so a real client's body
 * stays far below it; a body in thousands of tiny chunks is refused with 413, as the official
 * server's HTTP parser refuses it (Node answers 413 past about 11,000 one-byte chunks).
 */
export function maxBodyChunks(max: number): number {
  return Math.max(1024, Math.ceil(max / 512));
}

/**
 * Reads a body, refusing a declared length above `max`; a body without one is counted as it
 * streams in and stopped past `max` bytes or {@linkcode maxBodyChunks} chunks, so an oversized
 * body is never held whole. `onReader` receives the reader of such a body, to cancel it early.
 */
export async function readBody(
  req: Request,
  max: number,
  onReader?: (reader: ReadableStreamDefaultReader<Uint8Array>) => void,
): Promise<BodyResult> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > max) {
    await req.body?.cancel().catch(() => {});
    return { status: 413 };
  }
  // Looked at before `req.body`: on Node, reading `body` makes a stream just to be tested.
  if (declared > 0) {
    // A declared length is one the runtime enforces: the body is read whole.
    try {
      return new Uint8Array(await req.arrayBuffer());
    } catch {
      return { status: 400 };
    }
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  onReader?.(reader);
  const maxChunks = maxBodyChunks(max);
  // Each chunk is copied out: Deno hands a chunk over as a view on its own 64 KiB buffer, so
  // keeping the chunks would keep those buffers, whatever few bytes they hold.
  let out = new Uint8Array(0);
  let size = 0;
  let chunks = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const end = size + value.byteLength;
      if (end > max || ++chunks > maxChunks) {
        await reader.cancel().catch(() => {});
        return end > max ? { status: 413 } : { status: 413, ends: true };
      }
      if (end > out.byteLength) {
        const grown = new Uint8Array(Math.min(max, Math.max(end, out.byteLength * 2, 1024)));
        grown.set(out.subarray(0, size));
        out = grown;
      }
      out.set(value, size);
      size = end;
    }
  } catch {
    return { status: 400 };
  }
  return out.subarray(0, size);
}

const TEXT_TYPE = "text/plain; charset=UTF-8";
const NOOP: readonly EnginePacket[] = [{ type: "noop" }];
const NOOP_CLOSE: readonly EnginePacket[] = [{ type: "noop" }, { type: "close" }];

/** The default {@linkcode Answer}: a `Response`. */
export const responseAnswer: Answer = (status, headers, body) =>
  new Response(body as BodyInit | null, { status, headers });

/** A poll's answer: text, or a v3 binary payload as `application/octet-stream`. */
function respond(answer: Answer, body: string | Uint8Array, headers: Headers): Response {
  if (typeof body !== "string") headers.set("Content-Type", "application/octet-stream");
  return answer(200, headers, body);
}

/** The polling transport of one session. */
export class PollingTransport implements Transport, GracedPoll {
  /** The transport name. */
  readonly name = "polling" as const;
  /** Receives this transport's events. */
  owner: TransportOwner;
  /** Largest POST body in bytes. */
  readonly maxHttpBufferSize: number;
  readonly #codec: WireCodec;
  #poll: PendingPoll | undefined;
  /** Cancels the POST being read; set while one is. */
  #cancelPost: (() => void) | undefined;
  /** Closing: the close packet waits for the next poll. */
  #closing = false;
  #closed = false;
  readonly #grace: PollGrace | undefined;

  /**
   * @param owner receives the transport's events
   * @param maxHttpBufferSize largest POST body in bytes
   * @param codec the session's wire codec
   * @param grace where a held poll the runtime does not watch waits before it is streamed
   * (undefined: streamed at once)
   */
  constructor(
    owner: TransportOwner,
    maxHttpBufferSize: number,
    codec: WireCodec,
    grace?: PollGrace,
  ) {
    this.owner = owner;
    this.maxHttpBufferSize = maxHttpBufferSize;
    this.#codec = codec;
    this.#grace = grace;
  }

  /** Whether a poll is waiting for packets. */
  get canSend(): boolean {
    return this.#poll !== undefined && this.#poll.body === undefined && !this.#closed;
  }

  /** Whether a poll is waiting for packets: a payload answers it at once. */
  get writable(): boolean {
    return this.canSend;
  }

  /**
   * Answers a GET: at once when packets wait, else held open until they come. `watch` is the
   * runtime's `onDisconnect` for this request, given where it has one (Bun, Node): when it will
   * tell that the client went away, the answer is deferred with a plain body, cheaper there than
   * a stream. Whole answers go through `answer` (the runtime's, where it takes them without a
   * `Response`).
   */
  onGet(
    headers: Headers,
    watch?: (gone: () => void) => boolean,
    answer: Answer = responseAnswer,
  ): Response | Promise<Response> {
    headers.set("Content-Type", TEXT_TYPE);
    headers.set("Cache-Control", "no-store");
    if (this.#poll) {
      // Two polls at once: the official server calls this an error and closes the session,
      // which answers the first poll with a close packet.
      this.owner.onTransportError("transport error", "overlap from client");
      return answer(400, headers, null);
    }
    if (this.#closed) return answer(400, headers, null);
    const poll: PendingPoll = {};
    this.#poll = poll;
    if (this.#closing) {
      // The close waited for this poll: it goes behind a noop, as the official transport sends
      // an empty round to carry it (`6\x1e1`).
      this.send(NOOP_CLOSE);
      this.owner.onTransportClose("forced close");
    } else this.owner.onWritable();
    if (poll.body !== undefined) return respond(answer, poll.body, headers);
    const watched = watch?.(() => this.#aborted(poll)) ?? false;
    // Gone already: `#aborted` ran, and the client reads no answer.
    if (this.#poll !== poll) return answer(400, headers, null);
    const grace = this.#grace;
    if (this.#codec.protocol === 3 || watched || grace !== undefined) {
      // Deferred: a v3 payload is text or bytes, and its content type says which, so answer
      // when it is known; on Bun and Node, a plain body costs less than a stream. Unwatched,
      // the poll is in its grace: answered within it, it needs no stream.
      poll.answer = answer;
      poll.headers = headers;
      if (!watched && this.#codec.protocol !== 3) grace?.add(this);
      return new Promise((resolve) => poll.settle = resolve);
    }
    return this.#streamed(poll, headers);
  }

  /**
   * A streamed answer to `poll`, which tells when the client goes away: the runtime cancels the
   * body. (`req.signal` is not used on Deno: it also aborts it after successful responses, and
   * warns about listeners relying on that.)
   */
  #streamed(poll: PendingPoll, headers: Headers): Response {
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        poll.controller = controller;
      },
      cancel: () => this.#aborted(poll),
    });
    return new Response(stream, { headers });
  }

  /** The client of `poll` went away before it was answered. */
  #aborted(poll: PendingPoll): void {
    if (this.#poll !== poll) return;
    this.#poll = undefined;
    this.#grace?.delete(this);
    // A deferred answer is still given, to no one: else the runtime's request and everything the
    // handler holds for it stay pending forever.
    const settle = poll.settle;
    if (settle !== undefined) {
      poll.settle = undefined;
      settle(poll.answer!(400, poll.headers!, null));
    }
    this.owner.onTransportError("transport error", "poll connection closed prematurely");
  }

  /** @internal The held poll outlived its grace: it is streamed, and so watched, from now. */
  graceEnded(): void {
    const poll = this.#poll;
    const settle = poll?.settle;
    if (poll === undefined || settle === undefined || poll.headers === undefined) return;
    poll.settle = undefined;
    settle(this.#streamed(poll, poll.headers));
  }

  /** Reads a POSTed payload and hands its packets to the owner; answers through `answer`. */
  async onPost(
    req: Request,
    headers: Headers,
    answer: Answer = responseAnswer,
  ): Promise<Response> {
    headers.set("Content-Type", "text/html");
    headers.set("Cache-Control", "no-store");
    if (this.#cancelPost) {
      this.owner.onTransportError("transport error", "data request overlap from client");
      await req.body?.cancel().catch(() => {});
      return answer(400, headers, null);
    }
    if (
      !this.#codec.binaryPosts && req.headers.get("content-type") === "application/octet-stream"
    ) {
      // Engine.IO v4 sends binary as base64 in text payloads: raw bytes here are not ours.
      this.owner.onTransportError("transport error", "invalid content");
      await req.body?.cancel().catch(() => {});
      return answer(400, headers, null);
    }
    let cancelled = false;
    let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    const cancel = () => {
      cancelled = true;
      reader?.cancel().catch(() => {});
    };
    this.#cancelPost = cancel;
    let body: BodyResult;
    try {
      body = await readBody(req, this.maxHttpBufferSize, (r) => (reader = r));
    } finally {
      if (this.#cancelPost === cancel) this.#cancelPost = undefined;
    }
    if (cancelled) {
      // The session closed while the body streamed in: nobody is left to take it.
      return answer(400, headers, null);
    }
    if (!(body instanceof Uint8Array)) {
      if (body.status !== 413) this.owner.onTransportError("transport error", "invalid body");
      else if (body.ends) this.owner.onTransportError("transport error", "payload too large");
      return answer(body.status, headers, null);
    }
    let payload: string | Uint8Array = body;
    if (req.headers.get("content-type") !== "application/octet-stream") {
      try {
        payload = utf8.decode(body);
      } catch {
        this.owner.onTransportError("transport error", "invalid UTF-8");
        return answer(400, headers, null);
      }
    }
    this.#onPayload(payload);
    return answer(200, headers, "ok");
  }

  #onPayload(body: string | Uint8Array): void {
    const packets = this.#codec.decodePayload(body);
    if (isDecodeError(packets)) {
      this.owner.onTransportError("parse error", packets.message);
      return;
    }
    for (const packet of packets as EnginePacket[]) {
      if (this.#closed) return;
      if (packet.type === "close") {
        // The official server releases the pending poll with a noop, then closes.
        this.#finish();
        this.owner.onTransportClose("transport closed by the client");
        return;
      }
      try {
        this.owner.onPacket(packet);
      } catch (err) {
        // An application's listener (`packet`, `message`): reported, and the payload's other
        // packets are read all the same, as they would be over WebSocket.
        report(err);
      }
    }
  }

  /** Answers the pending poll with `packets`; a trailing close packet ends the transport. */
  send(packets: readonly OutPacket[]): void {
    const poll = this.#poll;
    if (!poll || poll.body !== undefined || this.#closed) return;
    const payload = this.#codec.encodePayload(packets);
    this.#poll = undefined;
    if (poll.settle) {
      this.#grace?.delete(this);
      poll.settle(respond(poll.answer!, payload, poll.headers!));
    } else if (poll.controller) {
      try {
        poll.controller.enqueue(typeof payload === "string" ? encoder.encode(payload) : payload);
        poll.controller.close();
      } catch {
        // the client went away while the answer was on its way
      }
    } else {
      poll.body = payload;
    }
    if (packets[packets.length - 1]?.type === "close") this.#finish();
  }

  /** Sends the close packet on the pending poll, or on the next one. */
  close(): void {
    if (this.#closed || this.#closing) return;
    this.#closing = true;
    this.#cancelPost?.();
    if (this.#poll) {
      this.send([{ type: "close" }]);
      this.owner.onTransportClose("forced close");
    }
  }

  /** Drops the transport, releasing a pending poll with a noop (after an upgrade). */
  discard(): void {
    this.#finish();
  }

  #finish(): void {
    this.#closed = true;
    this.#cancelPost?.();
    const poll = this.#poll;
    this.#poll = undefined;
    if (poll?.settle) {
      this.#grace?.delete(this);
      poll.settle(respond(poll.answer!, this.#codec.encodePayload(NOOP), poll.headers!));
    } else if (poll?.controller) {
      try {
        // A noop, so that a client still polling parses an empty round and moves on.
        poll.controller.enqueue(encoder.encode("6"));
        poll.controller.close();
      } catch {
        // the client went away first
      }
    }
  }
}
