// Idle Socket.IO clients for the idle-connections bench (bench/conns/idle.ts): bare TCP sockets
// on Node that upgrade to WebSocket, join the main namespace ("40"), then only answer the
// server's Engine.IO pings ("2" -> "3") and WebSocket pings. No library and no per-socket
// buffer in the common case, so that one process holds thousands for a few MB and the CPU on
// this side stays small beside the server's.
//
// Each socket binds its own source address, round robin over SOURCES (127.0.0.2, 127.0.0.3,
// ...), so that the ephemeral ports of one address (about 28,000 per address and destination
// here) do not cap the count; the open-files limit caps a process, so 100,000 clients take
// several of these.
//
//   node idle_client.mjs '{"port":1234,"sources":["127.0.0.2"]}'
//
// Commands on stdin, one a line; each answered by one JSON line on stdout:
//   open <n> <concurrency>  opens n more clients -> {"open":total,"failed":f}
//   stats                   -> {"open":o,"pings":p,"lost":l}
//   exit                    closes everything and exits
import { connect } from "node:net";
import { createInterface } from "node:readline";

const cfg = JSON.parse(process.argv[2]);
const HOST = cfg.host ?? "127.0.0.1";
const SOURCES = cfg.sources ?? [];
const HANDSHAKE_MS = cfg.handshakeMs ?? 20_000;

const UPGRADE = Buffer.from(
  `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: ${HOST}:${cfg.port}\r\n` +
    "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
);
// Client frames must be masked; a zero mask leaves the payload as it is.
const maskedText = (s) =>
  Buffer.concat([Buffer.from([0x81, 0x80 | s.length, 0, 0, 0, 0]), Buffer.from(s)]);
const JOIN = maskedText("40");
const PONG = maskedText("3");

let open = 0;
let pings = 0;
let lost = 0;
let next = 0;

/** Reads the frames of `buf` from `at`; returns where an incomplete frame starts, or -1. */
function frames(sock, state, buf, at) {
  while (at < buf.length) {
    if (buf.length - at < 2) return at;
    const op = buf[at] & 0x0f;
    let len = buf[at + 1] & 0x7f;
    let head = 2;
    if (len === 126) {
      if (buf.length - at < 4) return at;
      len = buf.readUInt16BE(at + 2);
      head = 4;
    } else if (len === 127) {
      if (buf.length - at < 10) return at;
      len = Number(buf.readBigUInt64BE(at + 2));
      head = 10;
    }
    if (buf.length - at < head + len) return at;
    const p = at + head;
    if (op === 0x1) {
      const c = buf[p];
      if (len === 1 && c === 0x32) {
        pings++;
        sock.write(PONG);
      } else if (c === 0x30 && state.stage === 1) {
        sock.write(JOIN); // the open packet
        state.stage = 2;
      } else if (c === 0x34 && buf[p + 1] === 0x30 && state.stage === 2) {
        state.stage = 3;
        state.done(true);
      }
    } else if (op === 0x9) {
      // A WebSocket ping (Bun sends them on idle sockets): the pong echoes its payload, masked
      // with zeros.
      sock.write(
        Buffer.concat([Buffer.from([0x8a, 0x80 | len, 0, 0, 0, 0]), buf.subarray(p, p + len)]),
      );
    } else if (op === 0x8) {
      sock.destroy();
    }
    at = p + len;
  }
  return -1;
}

/** One client; resolves true once joined, false on failure. */
function client() {
  return new Promise((resolve) => {
    const opts = { host: HOST, port: cfg.port };
    if (SOURCES.length > 0) opts.localAddress = SOURCES[next++ % SOURCES.length];
    const sock = connect(opts);
    sock.setNoDelay(true);
    let settled = false;
    const state = {
      stage: 0, // 0: upgrade sent, 1: upgraded, 2: "40" sent, 3: joined
      done(ok) {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (ok) open++;
        resolve(ok);
      },
    };
    const timer = setTimeout(() => {
      sock.destroy();
      state.done(false);
    }, HANDSHAKE_MS);
    let pending; // the tail of an incomplete frame or header, rare
    sock.on("data", (chunk) => {
      let buf = pending ? Buffer.concat([pending, chunk]) : chunk;
      pending = undefined;
      let at = 0;
      if (state.stage === 0) {
        const end = buf.indexOf("\r\n\r\n");
        if (end === -1) {
          pending = buf;
          return;
        }
        if (buf.toString("latin1", 9, 12) !== "101") {
          sock.destroy();
          return;
        }
        state.stage = 1;
        at = end + 4;
      }
      const rest = frames(sock, state, buf, at);
      if (rest !== -1) pending = buf.subarray(rest);
      buf = undefined;
    });
    sock.on("connect", () => sock.write(UPGRADE));
    sock.on("error", () => {});
    sock.on("close", () => {
      if (state.stage === 3) {
        open--;
        lost++;
      }
      state.done(false);
    });
  });
}

async function openMany(n, concurrency) {
  let started = 0;
  let failed = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      if (!(await client())) failed++;
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return failed;
}

const rl = createInterface({ input: process.stdin });
rl.on("line", async (line) => {
  const [cmd, a, b] = line.trim().split(" ");
  if (cmd === "open") {
    const failed = await openMany(Number(a), Number(b ?? 200));
    console.log(JSON.stringify({ open, failed }));
  } else if (cmd === "stats") {
    console.log(JSON.stringify({ open, pings, lost }));
  } else if (cmd === "exit") {
    process.exit(0);
  }
});
rl.on("close", () => process.exit(0));
console.log(JSON.stringify({ ready: true }));
