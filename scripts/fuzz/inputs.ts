/**
 * The fuzzer's inputs: scenarios made from a seed, as plain data (JSON), so that a crasher is
 * kept as it is and played again without its seed.
 *
 * A scenario is one client's go at the server: raw HTTP requests (any method, path, query and
 * headers, broken framing), a long-polling session (a handshake, then POSTed payloads in
 * Engine.IO v4 or v3 framing and held or dropped GETs), or a WebSocket (alone, or upgrading a
 * polling session) sending text, binary and control frames, some of them malformed. What they
 * carry is mostly Socket.IO packets, valid enough to get far, hostile where the library takes
 * client values: namespaces, ack ids, attachment counts and placeholders, event names, nesting
 * depth, prototype keys, and rooms given to the app's `join`, `to`, `fetch`...
 *
 * Every byte string here is a "binary string": one character per byte (0-255).
 *
 * @module
 */
import { encode as msgpackEncode } from "notepack.io";
import { Rng } from "./prng.ts";

/** One request on a connection of its own; `hold` is how long its answer is waited for (ms). */
export interface RequestStep {
  /** The request's bytes; `$SID` is replaced with the session's id. */
  request: string;
  /** Milliseconds to wait for the answer before dropping the connection. */
  hold: number;
  /** Sent without waiting for its answer (a poll held meanwhile); awaited at the end. */
  background?: true;
}

/** One WebSocket frame, as a client writes it (masked unless `unmasked`). */
export interface WsFrame {
  /** The opcode (1 text, 2 binary, 0 continuation, 8 close, 9 ping, 10 pong, others reserved). */
  op: number;
  /** The payload's bytes; `$SID` is replaced with the session's id. */
  data: string;
  /** Cleared for a fragment followed by continuations. */
  fin?: false;
  /** RSV bits, set only by hostile frames. */
  rsv?: number;
  /** Sent without a mask, which servers must refuse. */
  unmasked?: true;
  /** A length that is not the payload's (the frame then lies). */
  declared?: number;
  /** A CONNECT: the next frames wait (a while at most) for its answer, as a client's do. */
  connect?: true;
}

/** One client's go at the server. */
export type Scenario =
  | { kind: "http"; steps: RequestStep[] }
  | {
    kind: "polling";
    /** The handshake request; its answer gives `$SID`. */
    handshake: string;
    steps: RequestStep[];
  }
  | {
    kind: "websocket";
    /** A polling handshake first (an upgrade), giving `$SID`. */
    polling?: string;
    /** The upgrade request. */
    upgrade: string;
    frames: WsFrame[];
    /** After the frames: a close frame, the connection dropped, or left open a while (ms). */
    end: "close" | "drop" | number;
  };

/** How many inputs a scenario counts: each request and each frame. */
export function inputCount(s: Scenario): number {
  if (s.kind === "http") return s.steps.length;
  if (s.kind === "polling") return 1 + s.steps.length;
  return (s.polling ? 1 : 0) + 1 + s.frames.length;
}

const PATHS = ["/socket.io/", "/plain/", "/msgpack/"] as const;

/** The events the fuzz app listens to (app.ts). */
const APP_EVENTS = [
  "echo",
  "join",
  "join",
  "leave",
  "to",
  "io-to",
  "except",
  "volatile",
  "ask",
  "ask-room",
  "fetch",
  "sockets-join",
  "set-data",
  "rooms",
  "ask-await",
  "kick",
  "sockets-leave",
  "compress",
  "bye",
  "bye-all",
  "nobody-listens",
];

/** Keys that are data (the decoder keeps them), though they name things in JavaScript. */
const CLEAN_KEYS = ["constructor", "toString", "valueOf", "then", "length", "hasOwnProperty"];

/** Makes scenario `seed` (an input seed, `inputSeed(runSeed, index)`). */
export function makeScenario(seed: number): Scenario {
  const g = new Gen(new Rng(seed));
  return g.scenario();
}

/** The generators, over one random source. */
class Gen {
  /** The namespace the scenario joined: most packets after go to it. */
  joined = "";
  /**
   * Set while a packet is made "clean": well-formed, to a joined namespace, for the app's events,
   * with data the decoder takes (no prototype keys, no deep nesting), so that client values get
   * as far as the library's uses of them (rooms, acks, broadcasts).
   */
  clean = false;
  /**
   * How often a packet or frame of this scenario is hostile rather than clean: most scenarios
   * stay connected for a while, a few are hostile throughout.
   */
  hostility = 0.1;
  /**
   * Whether the scenario's requests, headers, queries and handshakes are sound, so that only
   * its packets are hostile (most scenarios); else anything may be broken.
   */
  sound = true;
  /** Whether the scenario talks to `/plain/` or `/msgpack/`, whose only namespace is `/`. */
  plain = false;
  /** Whether it talks to `/msgpack/`, whose parser is socket.io-msgpack-parser (v4 only). */
  msgpack = false;

  constructor(readonly r: Rng) {}

  scenario(): Scenario {
    this.hostility = this.r.weighted([[50, 0.03], [30, 0.15], [20, 0.6]]);
    this.sound = this.r.chance(0.6);
    return this.r.weighted<() => Scenario>([
      [20, () => this.httpScenario()],
      [35, () => this.pollingScenario()],
      [45, () => this.wsScenario()],
    ])();
  }

  // ---- HTTP ----

  httpScenario(): Scenario {
    const n = this.r.range(1, 3);
    const steps: RequestStep[] = [];
    for (let i = 0; i < n; i++) steps.push({ request: this.anyRequest(), hold: this.hold() });
    return { kind: "http", steps };
  }

  /** True with probability `p`, or always in a sound scenario. */
  ok(p: number): boolean {
    return this.sound || this.r.chance(p);
  }

  hold(): number {
    return this.r.pick([0, 20, 100, 300]);
  }

  /** A request anywhere on the server, anything in it. */
  anyRequest(): string {
    const r = this.r;
    if (r.chance(0.05)) return this.garbage(r.size(300));
    const method = r.weighted([
      [40, "GET"],
      [25, "POST"],
      [8, "OPTIONS"],
      [5, "HEAD"],
      [4, "PUT"],
      [3, "DELETE"],
      [3, "CONNECT"],
      [2, "get"],
      [2, "PATCH"],
      [2, "TRACE"],
      [2, "FOO"],
      [1, "G\x01T"],
      [1, ""],
    ]);
    const path = this.path();
    const query = this.query(r.pick(["4", "3"]), r.chance(0.3) ? "$SID" : undefined);
    const target = method === "CONNECT" && r.chance(0.5)
      ? r.pick(["127.0.0.1:80", "*", "*?" + query, "host:port"])
      : r.chance(0.04)
      ? `http://127.0.0.1${path}?${query}`
      : `${path}${query === "" && r.chance(0.5) ? "" : "?" + query}`;
    const body = method === "GET" && r.chance(0.8) ? undefined : this.body(r.pick(["4", "3"]));
    return this.request(method, target, this.headers(method, body), body);
  }

  path(): string {
    if (this.r.chance(0.01)) return "/socket.io/" + "a".repeat(5000);
    return this.r.weighted([
      [60, "/socket.io/"],
      [10, "/plain/"],
      [5, "/socket.io"],
      [4, "/socket.io/socket.io.js"],
      [2, "/socket.io/socket.io.min.js"],
      [2, "/socket.io/socket.io.esm.min.js.map"],
      [2, "/socket.io/socket.io.msgpack.min.js"],
      [2, "/socket.io/x/y"],
      [2, "/socket.io/%2e%2e/%2e%2e"],
      [2, "//socket.io/"],
      [2, "/"],
      [1, "/socket.io/\xff"],
      [1, "/socket.io/%zz"],
      [1, "/plain"],
      [1, "/__fuzz/stats"],
    ]);
  }

  /** A query string: the engine's parameters, valid or not, and others. */
  query(eio: string, sid: string | undefined): string {
    const r = this.r;
    const parts: string[] = [];
    const add = (k: string, v: string) => parts.push(`${k}=${v}`);
    if (r.chance(0.9)) {
      add(
        "EIO",
        r.weighted([[80, eio], [4, "5"], [3, "2"], [3, ""], [2, "4x"], [2, "04"], [1, "%34"], [
          1,
          "4&EIO=4",
        ]]),
      );
    }
    if (r.chance(0.92)) {
      add(
        "transport",
        r.weighted([
          [70, "polling"],
          [15, "websocket"],
          [3, "webtransport"],
          [3, ""],
          [2, "POLLING"],
          [2, "polling&transport=polling"],
          [1, "pol%6Cing"],
          [1, "flashsocket"],
        ]),
      );
    }
    if (sid !== undefined) {
      add(
        "sid",
        r.weighted([
          [80, sid],
          [5, ""],
          [4, this.token()],
          [3, `${sid}&sid=${sid}`],
          [2, `${sid},${sid}`],
          [2, sid + "x"],
          [1, "%00"],
        ]),
      );
    } else if (r.chance(0.05)) add("sid", r.pick(["", this.token(), "%ff%fe"]));
    if (r.chance(0.5)) add("t", r.chance(0.9) ? this.token().slice(0, 7) : this.garbageUrl());
    if (r.chance(0.1)) add("b64", r.pick(["1", "", "true", "0"]));
    if (r.chance(0.03)) add("j", r.pick(["0", "1", "x"]));
    if (r.chance(0.1)) {
      add(
        r.pick(["__proto__", "constructor", "hasOwnProperty", "%5F_proto__", "x", "", "a[b]"]),
        this.garbageUrl(),
      );
    }
    if (r.chance(0.01)) add("pad", "x".repeat(r.range(100, 9000)));
    if (r.chance(0.03)) parts.push(r.pick(["&&", "=", "%", "%%", "&=&", "\xc3("]));
    // Shuffled now and then: the order of parameters must not matter.
    if (r.chance(0.2)) parts.sort(() => (this.r.chance(0.5) ? 1 : -1));
    return parts.join("&");
  }

  headers(method: string, body: string | undefined, extra: [string, string][] = []) {
    const r = this.r;
    const h: [string, string][] = [];
    if (r.chance(0.97)) h.push(["Host", r.chance(0.95) ? "127.0.0.1" : this.garbageHeader()]);
    if (r.chance(0.3)) {
      h.push([
        "Origin",
        r.pick([
          "http://example.com",
          "null",
          "http://evil.example",
          "",
          "http://127.0.0.1:1",
          this.garbageHeader(),
        ]),
      ]);
    }
    if (r.chance(0.25)) {
      h.push([
        "Cookie",
        r.pick([
          "io=" + this.token(),
          "block=1",
          "a=b; c",
          "=;=;",
          "io=$SID",
          this.garbageHeader(),
        ]),
      ]);
    }
    if (body !== undefined || r.chance(0.1)) {
      if (r.chance(0.85)) {
        h.push([
          "Content-Type",
          r.weighted([
            [50, "text/plain;charset=UTF-8"],
            [15, "application/octet-stream"],
            [10, "text/plain"],
            [5, "application/json"],
            [3, ""],
            [2, "multipart/form-data; boundary=x"],
            [2, "application/octet-stream; x"],
            [1, this.garbageHeader()],
          ]),
        ]);
      }
    }
    if (r.chance(0.15)) {
      h.push([
        "Accept-Encoding",
        r.pick(["gzip", "br", "deflate", "br;q=0, gzip;q=0.5", "*;q=0", "identity", "x;q=abc", ""]),
      ]);
    }
    if (r.chance(0.05)) h.push(["If-None-Match", r.pick(['"x"', "*", 'W/"1"', ""])]);
    if (method === "OPTIONS" || r.chance(0.05)) {
      h.push(["Access-Control-Request-Method", r.pick(["GET", "POST", "X"])]);
      if (r.chance(0.5)) {
        h.push(["Access-Control-Request-Headers", r.pick(["x-a", "", "a,b,\xff"])]);
      }
    }
    if (r.chance(0.05)) h.push(["X-Refuse", "1"]);
    if (r.chance(0.03)) h.push(["X-End", "1"]);
    if (r.chance(0.1)) h.push(["Upgrade", r.pick(["websocket", "WebSocket", "h2c", ""])]);
    if (r.chance(0.1)) h.push(["Connection", r.pick(["Upgrade", "keep-alive, Upgrade", "close"])]);
    if (r.chance(0.05)) {
      h.push(["Sec-WebSocket-Key", r.pick(["dGhlIHNhbXBsZSBub25jZQ==", "x", ""])]);
    }
    if (r.chance(0.05)) h.push(["Sec-WebSocket-Version", r.pick(["13", "8", "x"])]);
    if (r.chance(0.01)) h.push(["X-Long", "v".repeat(r.range(1000, 16000))]);
    if (r.chance(0.03)) h.push([this.garbageHeader().slice(0, 20) || "X", "1"]);
    if (r.chance(0.02)) h.push(["X-Bytes", "\x80\xff\xc3\x28"]);
    return [...h, ...extra];
  }

  /**
   * The request's bytes: a head and a body, the body framed by Content-Length (true or false) or
   * chunked (sound or broken), the head now and then broken too.
   */
  request(method: string, target: string, headers: [string, string][], body?: string): string {
    const r = this.r;
    const eol = this.ok(0.97) ? "\r\n" : r.pick(["\n", "\r", "\n\r"]);
    const version = this.ok(0.97) ? " HTTP/1.1" : r.pick([" HTTP/1.0", " HTTP/2.0", "", " HTTP/9"]);
    let head = `${method} ${target}${version}${eol}`;
    let framed = "";
    if (body !== undefined) {
      const form = this.sound
        ? r.weighted([[85, "length"], [15, "chunked"]])
        : r.weighted([[75, "length"], [15, "chunked"], [5, "lie"], [5, "none"]]);
      if (form === "length") headers.push(["Content-Length", String(body.length)]);
      else if (form === "lie") {
        headers.push([
          "Content-Length",
          r.pick([
            String(Math.max(0, body.length - 1)),
            String(body.length + r.range(1, 100)),
            "-1",
            "abc",
            "1e3",
            "99999999999999999999",
            `${body.length}, ${body.length + 1}`,
          ]),
        ]);
      } else if (form === "chunked") {
        headers.push([
          "Transfer-Encoding",
          r.chance(0.9) ? "chunked" : r.pick(["chunked, gzip", "x"]),
        ]);
        if (r.chance(0.1)) headers.push(["Content-Length", String(body.length)]);
      }
      framed = form === "chunked" ? this.chunked(body) : body;
    }
    for (const [k, v] of headers) head += `${k}: ${v}${eol}`;
    return head + eol + framed;
  }

  chunked(body: string): string {
    const r = this.r;
    let out = "";
    let at = 0;
    const pieces = r.chance(0.1) ? r.range(50, 3000) : r.range(1, 5);
    const step = Math.max(1, Math.ceil(body.length / pieces));
    while (at < body.length) {
      const piece = body.slice(at, at + step);
      at += step;
      const size = r.chance(0.97)
        ? piece.length.toString(16)
        : r.pick(["zz", "-1", "ffffffff", ""]);
      out += `${size}${r.chance(0.05) ? ";ext=1" : ""}\r\n${piece}\r\n`;
    }
    return out + (r.chance(0.95) ? "0\r\n\r\n" : "");
  }

  /** The server a session talks to, and what that says of its packets. */
  pickPath(): string {
    const path = this.r.weighted([[75, PATHS[0]], [13, PATHS[1]], [12, PATHS[2]]]);
    this.plain = path !== PATHS[0];
    this.msgpack = path === PATHS[2];
    return path;
  }

  // ---- Long-polling ----

  pollingScenario(): Scenario {
    const r = this.r;
    const path = this.pickPath();
    const eio = !this.msgpack && r.chance(0.25) ? "3" : "4";
    const b64 = eio === "3" && r.chance(0.3) ? "&b64=1" : "";
    const handshake = this.request(
      "GET",
      `${path}?EIO=${eio}&transport=polling&t=${this.token().slice(0, 7)}${b64}`,
      this.sound ? [["Host", "127.0.0.1"]] : this.headers("GET", undefined),
    );
    const steps: RequestStep[] = [];
    const n = r.size(6) + 1;
    const post = (body: string, query = `EIO=${eio}&transport=polling&sid=$SID${b64}`) => {
      const headers: [string, string][] = r.chance(this.hostility)
        ? this.headers("POST", body)
        : [["Host", "127.0.0.1"], ["Content-Type", "text/plain;charset=UTF-8"]];
      steps.push({ request: this.request("POST", `${path}?${query}`, headers, body), hold: 300 });
    };
    if (r.chance(0.85)) {
      if (this.msgpack) post("b" + btoa(this.msgpackConnect()));
      else {
        const connect = this.connectPacket(eio === "3");
        if (connect) post(eio === "4" ? this.v4Payload([connect]) : this.v3Payload([connect]));
      }
    }
    if (r.chance(0.8)) {
      // A poll waiting meanwhile, as a client keeps one.
      steps.push({
        request: this.request("GET", `${path}?EIO=${eio}&transport=polling&sid=$SID${b64}`, [[
          "Host",
          "127.0.0.1",
        ]]),
        hold: 4000,
        background: true,
      });
    }
    for (let i = 0; i < n; i++) {
      const kind = r.chance(1 - this.hostility)
        ? "post"
        : r.weighted([[40, "post"], [25, "get"], [25, "any"], [10, "bad-post"]]);
      if (kind === "any") {
        steps.push({ request: this.anyRequestOn(path, eio), hold: this.hold() });
      } else if (kind === "get") {
        steps.push({
          request: this.request(
            "GET",
            `${path}?${this.query(eio, "$SID")}`,
            this.headers("GET", undefined),
          ),
          hold: r.pick([0, 10, 50, 200]),
        });
      } else if (kind === "post") post(this.body(eio));
      else post(this.body(eio), this.query(eio, "$SID"));
    }
    if (r.chance(0.7)) {
      // The client's goodbye, so the session does not wait for its heartbeat to end.
      steps.push({
        request: this.request("POST", `${path}?EIO=${eio}&transport=polling&sid=$SID`, [
          ["Host", "127.0.0.1"],
          ["Content-Type", "text/plain;charset=UTF-8"],
        ], eio === "4" ? "1" : "1:1"),
        hold: 100,
      });
    }
    return { kind: "polling", handshake, steps };
  }

  anyRequestOn(path: string, eio: string): string {
    const method = this.r.pick(["GET", "POST", "PUT", "OPTIONS", "DELETE"]);
    const body = method === "GET" ? undefined : this.body(eio);
    return this.request(
      method,
      `${path}?${this.query(eio, "$SID")}`,
      this.headers(method, body),
      body,
    );
  }

  /** A POST body: a payload of the protocol, mostly, or anything. */
  body(eio: string): string {
    const r = this.r;
    const packets: string[] = [];
    const n = r.size(12) + 1;
    for (let i = 0; i < n; i++) {
      packets.push(
        this.msgpack && r.chance(0.85)
          ? "b" + btoa(this.msgpackPacket())
          : this.enginePacket(eio === "3"),
      );
    }
    const proper = () => (eio === "4" ? this.v4Payload(packets) : this.v3Payload(packets));
    if (r.chance(1 - this.hostility)) return proper();
    const body = r.weighted<() => string>([
      [70, proper],
      [10, () => (eio === "4" ? this.v3Payload(packets) : this.v4Payload(packets))],
      [8, () => this.v3BinaryPayload(packets)],
      [7, () => this.garbage(r.size(2000))],
      [3, () => ""],
      // Around maxHttpBufferSize (1e6), rarely: each costs a megabyte on both sides.
      [0.2, () => "4" + "x".repeat(r.range(999_990, 1_000_010))],
    ])();
    return this.corruptBytes(body, 0.05);
  }

  v4Payload(packets: string[]): string {
    const r = this.r;
    const sep = r.chance(0.95) ? "\x1e" : r.pick(["\x1e\x1e", "", "\n"]);
    return utf8(packets.join(sep)) + (r.chance(0.03) ? "\x1e" : "");
  }

  /** v3 text framing: `<length in UTF-16 units>:<packet>`, the lengths true or not. */
  v3Payload(packets: string[]): string {
    const r = this.r;
    let out = "";
    for (const p of packets) {
      const len = r.chance(0.9) ? String(p.length) : r.pick([
        String(p.length + 1),
        String(Math.max(0, p.length - 1)),
        "",
        "-1",
        "99999999999",
        "x",
        "0",
      ]);
      out += `${len}${r.chance(0.98) ? ":" : ""}${p}`;
    }
    return utf8(out);
  }

  /** v3 binary framing: `<0 text|1 binary><length digits as bytes>\xff<packet>`. */
  v3BinaryPayload(packets: string[]): string {
    const r = this.r;
    let out = "";
    for (const p of packets) {
      const bytes = utf8(p);
      const binary = r.chance(0.3);
      const digits = r.chance(0.9) ? String(bytes.length) : r.pick(["", "0", "99999999999", "12a"]);
      out += binary ? "\x01" : "\x00";
      for (const d of digits) out += String.fromCharCode(d.charCodeAt(0) - 48 & 0xff);
      out += r.chance(0.97) ? "\xff" : "";
      out += binary ? String.fromCharCode(r.int(8)) + bytes.slice(1) : bytes;
    }
    return out;
  }

  // ---- WebSocket ----

  wsScenario(): Scenario {
    const r = this.r;
    const path = this.pickPath();
    const eio = !this.msgpack && r.chance(0.2) ? "3" : "4";
    const upgrading = r.chance(0.35);
    const polling = upgrading
      ? this.request(
        "GET",
        `${path}?EIO=${eio}&transport=polling&t=${this.token().slice(0, 7)}`,
        [["Host", "127.0.0.1"]],
      )
      : undefined;
    const query = this.ok(0.85)
      ? `EIO=${eio}&transport=websocket${upgrading ? "&sid=$SID" : ""}`
      : this.query(eio, upgrading ? "$SID" : undefined);
    const upgrade = this.upgradeRequest(`${path}?${query}`);
    const frames: WsFrame[] = [];
    if (upgrading && this.ok(1 - this.hostility / 2)) {
      frames.push({ op: 1, data: "2probe" });
      frames.push({
        op: 1,
        data: this.ok(1 - this.hostility) ? "5" : r.pick(["5", "2probe", "6", "52", "40"]),
      });
    }
    if (r.chance(0.85)) {
      if (this.msgpack) frames.push({ op: 2, data: this.msgpackConnect(), connect: true });
      else {
        const connect = this.connectPacket(eio === "3");
        if (connect) frames.push({ op: 1, data: utf8("4" + connect), connect: true });
      }
    }
    const n = r.size(20) + 1;
    for (let i = 0; i < n; i++) {
      if (this.msgpack && r.chance(0.85)) frames.push({ op: 2, data: this.msgpackPacket() });
      else frames.push(...this.wsFrames(eio === "3"));
    }
    const end = r.weighted<"close" | "drop" | number>([
      [45, "close"],
      [35, "drop"],
      [20, r.pick([100, 300, 800])],
    ]);
    return { kind: "websocket", polling, upgrade, frames, end };
  }

  upgradeRequest(target: string): string {
    const r = this.r;
    const h: [string, string][] = [["Host", "127.0.0.1"]];
    if (this.ok(0.97)) {
      h.push(["Upgrade", this.ok(0.95) ? "websocket" : r.pick(["WebSocket", "ws", ""])]);
    }
    if (this.ok(0.97)) {
      h.push(["Connection", this.ok(0.95) ? "Upgrade" : r.pick(["keep-alive", "upgrade, x"])]);
    }
    if (this.ok(0.97)) {
      h.push([
        "Sec-WebSocket-Key",
        this.ok(0.95) ? "dGhlIHNhbXBsZSBub25jZQ==" : r.pick(["", "short", "=="]),
      ]);
    }
    if (this.ok(0.97)) {
      h.push(["Sec-WebSocket-Version", this.ok(0.95) ? "13" : r.pick(["8", "", "x"])]);
    }
    if (!this.sound && r.chance(0.05)) {
      h.push(["Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits"]);
    }
    if (!this.sound && r.chance(0.05)) {
      h.push(["Sec-WebSocket-Protocol", r.pick(["chat", "", ",,"])]);
    }
    if (!this.sound && r.chance(0.2)) {
      h.push(...this.headers("GET", undefined).filter(([k]) => k !== "Host"));
    }
    return this.request(this.ok(0.97) ? "GET" : r.pick(["POST", "PUT"]), target, h);
  }

  /** One message's frames (an event with attachments is several), or a control frame. */
  wsFrames(v3: boolean): WsFrame[] {
    const r = this.r;
    const kind = r.chance(1 - this.hostility)
      ? "packet"
      : r.weighted([[40, "packet"], [20, "binary"], [15, "control"], [13, "fragments"], [
        12,
        "hostile",
      ]]);
    switch (kind) {
      case "packet": {
        const sio = this.sioPacket(v3);
        const frames: WsFrame[] = [{ op: 1, data: this.corruptBytes(utf8("4" + sio.text), 0.03) }];
        // The announced attachments, mostly as many as announced.
        const count = r.chance(0.85) ? sio.attachments : r.int(4);
        for (let i = 0; i < count; i++) {
          frames.push({
            op: 2,
            data: v3 ? "\x04" + this.garbage(r.size(64)) : this.garbage(r.size(64)),
          });
        }
        if (r.chance(0.1)) frames.push({ op: 1, data: this.enginePacket(v3) });
        return frames;
      }
      case "binary":
        return [{
          op: 2,
          data: r.chance(0.5)
            ? String.fromCharCode(r.int(10)) + this.garbage(r.size(100))
            : this.garbage(r.size(100)),
        }];
      case "control": {
        const op = r.pick([8, 9, 10]);
        if (op !== 8) return [{ op, data: this.garbage(r.size(125)) }];
        const code = r.pick([1000, 1001, 1005, 1006, 999, 4000, 65535, 3000, 1015]);
        return [{
          op,
          data: r.chance(0.2)
            ? "\x03"
            : String.fromCharCode(code >> 8, code & 0xff) + (r.chance(0.3) ? "\xff\xfe" : "bye"),
        }];
      }
      case "fragments": {
        const text = utf8("4" + this.sioPacket(v3).text);
        const cut = r.int(text.length + 1);
        return [
          { op: r.chance(0.9) ? 1 : 2, data: text.slice(0, cut), fin: false },
          ...(r.chance(0.2) ? [{ op: 9, data: "p" }] : []),
          { op: 0, data: text.slice(cut) },
        ];
      }
      default:
        return [r.pick<WsFrame>([
          { op: 1, data: "4\xff\xfe\xfd" },
          { op: 1, data: "4\xed\xa0\x80" },
          { op: 0, data: "orphan continuation" },
          { op: r.pick([3, 4, 5, 6, 7, 11, 12, 15]), data: "reserved" },
          { op: 1, data: '42["echo",1]', rsv: r.range(1, 7) },
          { op: 1, data: '42["echo",1]', unmasked: true },
          { op: 9, data: "x".repeat(126) },
          { op: 1, data: "4", declared: r.pick([126, 65536, 50_000_000]) },
          ...(r.chance(0.1)
            ? [
              { op: 1, data: "4" + "x".repeat(r.range(999_990, 1_000_010)) },
              { op: 2, data: "\x00".repeat(r.range(999_990, 1_000_010)) },
            ]
            : []),
        ])];
    }
  }

  // ---- Engine.IO and Socket.IO packets ----

  /** One Engine.IO packet of a payload or frame, as text (code points, not bytes). */
  enginePacket(v3: boolean): string {
    const r = this.r;
    if (r.chance(1 - this.hostility)) return r.chance(0.95) ? "4" + this.sioPacket(v3).text : "2";
    return r.weighted<() => string>([
      [65, () => "4" + this.sioPacket(v3).text],
      [6, () => r.pick(["2", "2probe", "3", "3probe", "2x"])],
      [4, () => "1"],
      [3, () => r.pick(["5", "6", "0", "0{}", "7", "9", "x", ""])],
      [
        8,
        () =>
          "b" + (r.chance(0.8) ? base64(this.garbage(r.size(80))) : r.pick(["!!", "=", "a", "b4"])),
      ],
      [4, () => "b4" + base64(this.garbage(r.size(40)))],
      [5, () => "4" + this.garbageText(r.size(60))],
      [5, () => this.garbageText(r.size(30))],
    ])();
  }

  /**
   * A CONNECT, or "" for none (Socket.IO v2 clients are in `/` from the start: a CONNECT there
   * would be one for a namespace joined already, which closes).
   */
  connectPacket(v3 = false): string {
    const r = this.r;
    this.clean = r.chance(1 - this.hostility);
    const nsp = this.nsp(false);
    this.joined = nsp;
    if (v3 && this.clean && nsp === "") {
      this.clean = false;
      return "";
    }
    const auth = r.chance(0.6) ? this.auth() : "";
    this.clean = false;
    return `0${nsp}${nsp && (auth || r.chance(0.5)) ? "," : ""}${auth}`;
  }

  auth(): string {
    const r = this.r;
    const keys: string[] = [];
    const n = r.size(5);
    const names = this.clean
      ? ["token", "pid", "offset", "user", "x"]
      : ["token", "pid", "offset", "user", "deny", "__proto__", "constructor", "x"];
    for (let i = 0; i < n; i++) {
      const key = r.pick(names);
      const value = key === "token" && (this.clean || r.chance(0.5))
        ? this.clean ? '"secret"' : r.pick(['"secret"', '"wrong"'])
        : (key === "pid" || key === "offset") && r.chance(0.6)
        ? JSON.stringify(this.token())
        : this.json(3);
      keys.push(`${JSON.stringify(key)}:${value}`);
    }
    return this.clean || r.chance(0.9) ? `{${keys.join(",")}}` : this.json(4);
  }

  nsp(v3: boolean): string {
    const r = this.r;
    if (this.clean) {
      if (this.plain) return "";
      return r.weighted([[40, ""], [15, "/admin"], [15, "/async"], [10, "/dyn-abc"], [
        10,
        "/fn-x",
      ]]);
    }
    const name = r.lazy<string>([
      [50, () => ""],
      [8, () => "/admin"],
      [8, () => "/async"],
      [6, () => "/dyn-" + this.token().toLowerCase().slice(0, 5)],
      [6, () => "/fn-x"],
      [4, () => "/nope"],
      [3, () => "/"],
      [2, () => "/__proto__"],
      [2, () => "/constructor"],
      [2, () => "/dyn-"],
      [2, () => "/" + this.garbageText(r.size(20)).replace(/,/g, "")],
      [1, () => "/" + "n".repeat(r.range(100, 5000))],
      [1, () => "/admin/"],
    ]);
    if (v3 && name && r.chance(0.3)) {
      return name + "?" + r.pick(["token=secret", "__proto__=x", "a=1&a=2", "%zz", "=&="]);
    }
    return name;
  }

  /** A Socket.IO packet's text, and how many attachments it announces. */
  sioPacket(v3: boolean): { text: string; attachments: number } {
    if (this.r.chance(this.hostility)) return this.hostilePacket(v3);
    this.clean = true;
    try {
      return this.cleanPacket();
    } finally {
      this.clean = false;
    }
  }

  /** A packet the decoder takes, for the joined namespace and the app's events. */
  cleanPacket(): { text: string; attachments: number } {
    const r = this.r;
    const type = r.weighted([[70, 2], [10, 3], [12, 5], [4, 6], [2, 1], [2, 0]]);
    if (type === 0) return { text: this.connectPacket(), attachments: 0 };
    let text = String(type);
    const attachments = type === 5 || type === 6 ? r.range(1, 3) : 0;
    if (attachments) text += `${attachments}-`;
    if (this.joined) text += this.joined + ",";
    if (type === 1) return { text, attachments };
    if (type === 3 || type === 6 || r.chance(0.4)) text += String(r.int(8));
    text += this.eventData(attachments, type === 2 || type === 5);
    return { text, attachments };
  }

  hostilePacket(v3: boolean): { text: string; attachments: number } {
    const r = this.r;
    const type = r.weighted([[42, 2], [12, 0], [12, 3], [10, 5], [6, 1], [6, 6], [4, 4], [8, -1]]);
    if (type === -1) {
      return {
        text: r.pick(["7", "9", "a", "", "-", "2-", "22", " 2", "\u0662"]) + this.json(2),
        attachments: 0,
      };
    }
    let text = String(type);
    let attachments = 0;
    if (type === 5 || type === 6 || r.chance(0.02)) {
      const count = r.weighted([[70, r.range(1, 3)], [5, 0], [5, 10], [5, 11], [5, 2147483648], [
        5,
        -1,
      ], [5, NaN]]);
      attachments = Number.isFinite(count) && count > 0 && count <= 10 ? count : 0;
      text += r.chance(0.95) ? `${Number.isNaN(count) ? "" : count}-` : String(count);
    }
    const nsp = this.nsp(v3);
    if (nsp) text += nsp + (r.chance(0.9) ? "," : "");
    if (r.chance(type === 3 || type === 6 ? 0.9 : 0.25)) {
      text += r.weighted([
        [70, String(r.int(8))],
        [10, String(r.int(100000))],
        [5, "2147483647"],
        [5, "2147483648"],
        [4, "99999999999999999999"],
        [3, "007"],
        [3, "-1"],
      ]);
    }
    switch (type) {
      case 0:
        if (r.chance(0.6)) text += this.auth();
        break;
      case 1:
        if (r.chance(0.1)) text += this.json(2);
        break;
      case 4:
        text += r.chance(0.8) ? '{"message":"x"}' : this.json(2);
        break;
      default:
        text += r.chance(0.93)
          ? this.eventData(attachments, type === 2 || type === 5)
          : this.json(3);
    }
    if (r.chance(0.04)) text = text.slice(0, r.int(text.length + 1));
    if (r.chance(0.03)) text += this.garbageText(r.size(8));
    return { text, attachments };
  }

  /** An event's `[name, ...args]` (or an ack's args), with `attachments` placeholders. */
  eventData(attachments: number, named: boolean): string {
    const r = this.r;
    const items: string[] = [];
    if (named) items.push(this.eventName());
    const n = r.size(5);
    for (let i = 0; i < n; i++) items.push(this.json(!this.clean && r.chance(0.02) ? 130 : 4));
    // The placeholders: in place of arguments, or deeper, numbered mostly right.
    for (let i = 0; i < attachments; i++) {
      const num = this.clean || r.chance(0.9)
        ? String(i)
        : r.pick(["-1", "1.5", '"0"', "null", "99", String(attachments)]);
      const placeholder = this.clean || r.chance(0.95)
        ? `{"_placeholder":true,"num":${num}}`
        : r.pick([`{"_placeholder":1,"num":${num}}`, `{"num":${num}}`, `{"_placeholder":true}`]);
      // After the name: a placeholder is no event name.
      const first = named && this.clean ? 1 : 0;
      const at = first + r.int(items.length + 1 - first);
      items.splice(at, 0, r.chance(0.8) ? placeholder : `{"a":[${placeholder}]}`);
    }
    if (!this.clean && r.chance(0.05) && !attachments) {
      items.push(`{"_placeholder":true,"num":${r.int(3)}}`);
    }
    return `[${items.join(",")}]`;
  }

  eventName(): string {
    const r = this.r;
    if (this.clean) return JSON.stringify(r.pick(APP_EVENTS));
    return r.lazy<string>(
      ([
        [12, '"echo"'],
        [10, '"join"'],
        [5, '"leave"'],
        [6, '"to"'],
        [5, '"io-to"'],
        [4, '"except"'],
        [3, '"volatile"'],
        [6, '"ask"'],
        [5, '"ask-room"'],
        [5, '"fetch"'],
        [4, '"sockets-join"'],
        [3, '"set-data"'],
        [3, '"rooms"'],
        [2, '"bye"'],
        [1, '"bye-all"'],
        [
          3,
          r.pick([
            '"connect"',
            '"disconnect"',
            '"disconnecting"',
            '"newListener"',
            '"removeListener"',
            '"connect_error"',
          ]),
        ],
        [
          3,
          r.pick([
            '"__proto__"',
            '"constructor"',
            '"toString"',
            '"hasOwnProperty"',
            '"error"',
            '"message"',
          ]),
        ],
        [
          4,
          r.pick(["0", "1", "-1", "1.5", "1e400", "null", "true", "[]", "{}", '{"toString":"x"}']),
        ],
      ] as [number, string][]).map(([w, v]) => [w, () => v] as const).concat([
        [2, () => JSON.stringify(this.garbageText(r.size(20)))],
        [0.2, () => JSON.stringify("e".repeat(r.range(1000, 100_000)))],
      ]),
    );
  }

  /** JSON text, up to `depth` levels deep, with the values and keys that hurt. */
  json(depth: number): string {
    const r = this.r;
    if (depth > 20) {
      // A deep chain around the decoder's limit (100), or far past it.
      const levels = r.chance(0.9) ? r.range(95, 105) : r.range(500, 5000);
      const [open, close] = r.chance(0.5) ? ["[", "]"] : ['{"a":', "}"];
      return open.repeat(levels) + "1" + close.repeat(r.chance(0.95) ? levels : r.int(levels));
    }
    const kind = r.weighted([
      [14, "string"],
      [10, "number"],
      [6, "literal"],
      [depth > 0 ? 14 : 0, "array"],
      [depth > 0 ? 16 : 0, "object"],
      [depth > 0 && !this.clean ? 3 : 0, "placeholder"],
    ]);
    switch (kind) {
      case "string":
        return r.lazy<string>([
          [60, () => JSON.stringify(this.token().slice(0, r.range(0, 12)))],
          [10, () => '"\\ud800"'],
          [5, () => '"\\u0000"'],
          [5, () => '"\\"\\\\"'],
          [5, () => JSON.stringify(this.garbageText(r.size(40)))],
          [5, () => '"__proto__"'],
          [0.5, () => JSON.stringify("s".repeat(r.range(100, 20000)))],
          [3, () => '"\\u005f_proto__"'],
        ]);
      case "number":
        return r.pick([
          "0",
          "-0",
          "1",
          "-1",
          "1.5",
          "1e308",
          "1e400",
          "-1e400",
          "2147483648",
          "9007199254740993",
          "0.1",
          "1E-7",
        ]);
      case "literal":
        return r.pick(["null", "true", "false"]);
      case "placeholder":
        return r.pick([
          '{"_placeholder":true,"num":0}',
          '{"_placeholder":true,"num":"0"}',
          '{"_placeholder":true}',
        ]);
      case "array": {
        const n = r.size(6);
        const items: string[] = [];
        for (let i = 0; i < n; i++) items.push(this.json(depth - 1));
        return `[${items.join(",")}]`;
      }
      default: {
        const n = r.size(6);
        const items: string[] = [];
        for (let i = 0; i < n; i++) {
          const key = this.clean || r.chance(0.55)
            ? (this.clean && r.chance(0.3)
              ? r.pick(CLEAN_KEYS)
              : this.token().slice(0, r.range(1, 6)))
            : r.weighted([
              [6, "__proto__"],
              [4, "constructor"],
              [4, "prototype"],
              [3, "toString"],
              [2, "valueOf"],
              [2, "hasOwnProperty"],
              [2, "then"],
              [2, "length"],
              [2, "_placeholder"],
              [2, "num"],
              [2, "\\u005f\\u005fproto\\u005f\\u005f"],
              [1, ""],
            ]);
          // Escaped keys are written as they are (already JSON).
          const k = key.includes("\\") ? `"${key}"` : JSON.stringify(key);
          items.push(`${k}:${this.json(depth - 1)}`);
        }
        return `{${items.join(",")}}`;
      }
    }
  }

  // ---- socket.io-msgpack-parser packets (`/msgpack/`) ----

  /** A CONNECT, as msgpack bytes. */
  msgpackConnect(): string {
    if (this.r.chance(this.hostility)) return this.msgpackBytes(this.hostileMsgpack());
    const packet: Record<string, unknown> = { type: 0, nsp: "/" };
    const auth = this.r.chance(0.5) ? this.jsValue(2) : undefined;
    if (typeof auth === "object" && auth !== null && !Array.isArray(auth)) packet.data = auth;
    return this.msgpackBytes(packet);
  }

  /** An event or ack, clean (to `/`, the app's events) or hostile, as msgpack bytes. */
  msgpackPacket(): string {
    const r = this.r;
    if (r.chance(this.hostility)) return this.msgpackBytes(this.hostileMsgpack());
    this.clean = true;
    try {
      const ack = r.chance(0.15);
      const args: unknown[] = [];
      const n = r.size(4);
      for (let i = 0; i < n; i++) args.push(this.jsValue(3));
      const packet: Record<string, unknown> = ack
        ? { type: 3, nsp: "/", id: r.int(8), data: args }
        : { type: 2, nsp: "/", data: [r.pick(APP_EVENTS), ...args] };
      if (!ack && r.chance(0.4)) packet.id = r.int(8);
      return this.msgpackBytes(packet);
    } finally {
      this.clean = false;
    }
  }

  /** A packet whose fields are anything: the parser takes some, the library the rest. */
  hostileMsgpack(): unknown {
    const r = this.r;
    if (r.chance(0.6)) {
      // A shape the parser takes (it checks type, nsp, id and that data is an array), with a
      // name and arguments ours would have refused: what reaches the library as it is.
      const packet: Record<string, unknown> = {
        type: 2,
        nsp: "/",
        data: [this.hostileName(), ...Array.from({ length: r.size(3) }, () => this.jsValue(3))],
      };
      if (r.chance(0.3)) packet.id = r.pick([0, 1, 2147483647, 2 ** 40, -1]);
      return packet;
    }
    if (r.chance(0.05)) return r.pick<unknown>([null, 5, "x", [], [2, "/"]]);
    const packet: Record<string, unknown> = {};
    if (r.chance(0.95)) {
      packet.type = r.pick<unknown>([0, 1, 2, 2, 2, 3, 4, 5, 6, 7, -1, 2.5, "2", null]);
    }
    if (r.chance(0.95)) packet.nsp = r.pick<unknown>(["/", "/", "/admin", "", 5, null, "/nope"]);
    if (r.chance(0.4)) {
      packet.id = r.pick<unknown>([0, 1, 2147483648, -1, 2 ** 53, 1.5, "1", null]);
    }
    if (r.chance(0.9)) {
      packet.data = r.lazy<unknown>([
        [
          40,
          () => [this.hostileName(), ...Array.from({ length: r.size(3) }, () => this.jsValue(3))],
        ],
        [10, () => []],
        [10, () => this.jsValue(3)],
        [5, () => [[["nested"]]]],
        [2, () => Array.from({ length: r.range(1000, 20000) }, () => 0)],
        [5, () => ({ message: "x", data: this.jsValue(2) })],
      ]);
    }
    return packet;
  }

  /** An event name msgpack can carry: any value, not only a string. */
  hostileName(): unknown {
    const r = this.r;
    return r.lazy<unknown>([
      [30, () => r.pick(APP_EVENTS)],
      [10, () => r.pick(["connect", "disconnect", "disconnecting", "newListener", "error"])],
      [10, () => r.pick([0, 1.5, -1, 2 ** 53])],
      [10, () => ({ toString: 5 })],
      [5, () => ({ toString: "x", valueOf: "y" })],
      [5, () => null],
      [5, () => true],
      [5, () => [r.pick(APP_EVENTS)]],
      [5, () => new Uint8Array([101, 99, 104, 111])],
      [5, () => JSON.parse('{"__proto__":{"toString":1}}')],
      [5, () => "__proto__"],
    ]);
  }

  /** A JavaScript value (what JSON text of {@linkcode Gen.json} parses to), or bytes. */
  jsValue(depth: number): unknown {
    const r = this.r;
    if (r.chance(0.1)) return new Uint8Array(Array.from({ length: r.size(32) }, () => r.int(256)));
    try {
      return JSON.parse(this.json(depth));
    } catch {
      return null;
    }
  }

  /** `value` as msgpack bytes (a binary string); what cannot be encoded, as an empty map. */
  msgpackBytes(value: unknown): string {
    let bytes: Uint8Array;
    try {
      bytes = msgpackEncode(value);
    } catch {
      bytes = new Uint8Array([0x80]);
    }
    let s = "";
    for (let i = 0; i < bytes.length; i += 8192) {
      s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    }
    return this.corruptBytes(s, this.hostility * 0.2);
  }

  // ---- Bytes ----

  token(): string {
    const r = this.r;
    const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    let s = "";
    for (let i = 0; i < 20; i++) s += chars[r.int(chars.length)];
    return s;
  }

  /** Any bytes. */
  garbage(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.r.int(256));
    return s;
  }

  /** Text with the characters that matter to the codecs (separators, quotes, surrogates). */
  garbageText(n: number): string {
    const r = this.r;
    const alphabet = [
      "a",
      "4",
      "2",
      ",",
      "/",
      "[",
      "]",
      "{",
      "}",
      '"',
      ":",
      "-",
      "\x1e",
      "\x00",
      "\ud800",
      "\udc00",
      "é",
      "😀",
      "\\",
      "?",
      "&",
      "b",
      " ",
    ];
    let s = "";
    for (let i = 0; i < n; i++) s += r.pick(alphabet);
    return s;
  }

  garbageUrl(): string {
    return this.r.pick([
      "%",
      "%zz",
      "%00",
      "%ff",
      "a+b",
      "%E2%82",
      "x".repeat(50),
      "\xe9",
      "%C0%AF",
      "../",
    ]);
  }

  garbageHeader(): string {
    return this.r.pick([
      "\x01",
      "a\tb",
      "\x7f",
      "\xff\xfe",
      "x".repeat(300),
      " lead",
      "trail ",
      "a, b",
    ]);
  }

  /** Now and then, some bytes of `s` changed, cut or added (bad UTF-8 among them). */
  corruptBytes(s: string, p: number): string {
    const r = this.r;
    if (!r.chance(p)) return s;
    const at = r.int(s.length + 1);
    return r.lazy([
      [
        3,
        () =>
          s.slice(0, at) + r.pick(["\xff", "\xc0\x80", "\xed\xa0\x80", "\xe2\x82", "\x80"]) +
          s.slice(at),
      ],
      [2, () => s.slice(0, at)],
      [1, () => s.slice(0, at) + this.garbage(r.size(10)) + s.slice(at)],
    ]);
  }
}

/** `text` as UTF-8, one character per byte (lone surrogates become U+FFFD, as they go out). */
export function utf8(text: string): string {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

/** Base64 of a binary string. */
function base64(bytes: string): string {
  return btoa(bytes);
}
