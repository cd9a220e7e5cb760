/**
 * Admission control (`maxClients`, `handshakeRate`): a handshake past a limit gets `503` with
 * `Retry-After` and an Engine.IO error body, over polling and over a direct WebSocket handshake
 * (before any upgrade), and `connection_error` names the limit; requests of open sessions are
 * never refused. A flood from one address leaves other addresses admitted (a raw client from
 * 127.0.0.2), in bounded memory. Our client waits at least the `Retry-After` before its next
 * attempt, with jitter (its own scheduled delay, on a fake clock); the official client retries
 * by its backoff. A reconnect storm of 1,000 raw clients is absorbed: each is admitted or told
 * when to come back, and all are in when they do (5,000 in `scripts/admission_storm.ts`).
 */
import assert from "node:assert/strict";
import net from "node:net";
import FakeTimers from "@sinonjs/fake-timers";
import { Server } from "../mod.ts";
import { Manager } from "../client/mod.ts";
import type { TransportError } from "../client/mod.ts";
import {
  type ConnectionError,
  type EngineOptions,
  type Scheduler,
  Server as Engine,
} from "../server/engine/mod.ts";
import {
  closeOf,
  handshake,
  nextConnection,
  poll,
  post,
  request,
  startEngine,
} from "./helpers/engine.ts";
import { rawUpgrade, WsClient } from "./helpers/raw.ts";
import { serve } from "./helpers/serve.ts";
import { findBun, startBunFixture } from "./helpers/bun.ts";
import { buildForNode, startNode } from "./helpers/node.ts";
import { connected, Fixture, MODES } from "./helpers/socketio.ts";
import { once, track } from "./fixtures/client_env.ts";
import { stormOnce } from "../scripts/admission_storm.ts";
import { Admission } from "../server/engine/admission.ts";
import { ManualClock } from "./helpers/manual_clock.ts";

const NODE_SERVER = new URL("./fixtures/node_server.mjs", import.meta.url).pathname;
const BUN_FIXTURE = new URL("./fixtures/hostile_admission_bun.ts", import.meta.url).pathname;
const POLLING = "?EIO=4&transport=polling";
/** Whether a polling payload ends with the close packet. */
const endsWithClose = (payload: string) => payload.split("\x1e").at(-1) === "1";
const WEBSOCKET = "?EIO=4&transport=websocket";

/** The `connection_error` events of `engine`, as `[code, context]`. */
function refusals(engine: Engine): Array<[number, Record<string, unknown>]> {
  const seen: Array<[number, Record<string, unknown>]> = [];
  engine.on("connection_error", (e: ConnectionError) => seen.push([e.code, e.context]));
  return seen;
}

/** Asserts a polling refusal by admission control: 503, `Retry-After`, the JSON error body. */
function assertBusy(
  answer: { status: number; headers: Headers; body: string },
  retryAfter: number,
): void {
  assert.equal(answer.status, 503, answer.body);
  assert.equal(answer.headers.get("retry-after"), String(retryAfter));
  assert.equal(answer.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(answer.body), { code: 6, message: "Server busy" });
}

/** A raw HTTP/1.1 answer read off a `node:net` connection. */
interface NetAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `request` from the source address `from` (what `Deno.connect` cannot choose) and reads
 * the answer: its head, and the body until the server closes (a `101` ends at its head).
 */
function requestFrom(from: string, port: number, request: string): Promise<NetAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: from });
    let text = "";
    let done = false;
    const finish = () => {
      if (done) return;
      const head = text.indexOf("\r\n\r\n");
      if (head === -1) return reject(new Error(`no answer: ${JSON.stringify(text)}`));
      done = true;
      const lines = text.slice(0, head).split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(":");
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(lines[0].split(" ")[1]), headers, body: text.slice(head + 4) });
      socket.destroy();
    };
    socket.on("connect", () => socket.write(request));
    socket.on("data", (chunk) => {
      text += chunk;
      if (text.startsWith("HTTP/1.1 101") && text.includes("\r\n\r\n")) finish();
    });
    socket.on("close", finish);
    socket.on("error", (err) => done || reject(err));
  });
}

function pollingFrom(from: string, port: number): Promise<NetAnswer> {
  return requestFrom(
    from,
    port,
    `GET /engine.io/${POLLING} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
  );
}

function upgradeFrom(from: string, port: number): Promise<NetAnswer> {
  return requestFrom(
    from,
    port,
    `GET /engine.io/${WEBSOCKET} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
  );
}

Deno.test("admission options are checked, each wrong one named", () => {
  const wrong: Array<[Record<string, unknown>, typeof TypeError, RegExp]> = [
    [{ maxClients: "10" }, TypeError, /"maxClients" must be a whole number, got "10"/],
    [{ maxClients: 0 }, RangeError, /"maxClients".*got 0/],
    [{ maxClients: 1.5 }, RangeError, /"maxClients".*got 1\.5/],
    [{ handshakeRate: 100 }, TypeError, /"handshakeRate" must be an object, got 100/],
    [{ handshakeRate: { perServer: 5 } }, TypeError, /"handshakeRate\.perServer" must be an/],
    [
      { handshakeRate: { perServer: { count: 5 } } },
      TypeError,
      /"handshakeRate\.perServer\.windowMs" is missing/,
    ],
    [
      { handshakeRate: { perServer: { windowMs: 1000 } } },
      TypeError,
      /"handshakeRate\.perServer\.count" is missing/,
    ],
    [
      { handshakeRate: { perAddress: { count: 0, windowMs: 1000 } } },
      RangeError,
      /"handshakeRate\.perAddress\.count".*got 0/,
    ],
    [
      { handshakeRate: { perAddress: { count: 1, windowMs: "1s" } } },
      TypeError,
      /"handshakeRate\.perAddress\.windowMs" must be a number of milliseconds, got "1s"/,
    ],
    [
      { handshakeRate: { perAddress: { count: 1, windowMs: 1, maxAddresses: -1 } } },
      RangeError,
      /"handshakeRate\.perAddress\.maxAddresses".*got -1/,
    ],
    [
      { handshakeRate: { perAddress: { count: 1, windowMs: 1, key: "ip" } } },
      TypeError,
      /"handshakeRate\.perAddress\.key" must be a function, got "ip"/,
    ],
  ];
  for (const [opts, type, message] of wrong) {
    assert.throws(() => new Engine(opts as Partial<EngineOptions>), type, JSON.stringify(opts));
    assert.throws(() => new Engine(opts as Partial<EngineOptions>), message);
    // The Socket.IO server takes them as the engine does.
    assert.throws(() => new Server(opts), message);
  }
  const engine = new Engine({
    maxClients: 10,
    handshakeRate: { perServer: { count: 5, windowMs: 1000 } },
  });
  assert.equal(engine.opts.maxClients, 10);
  assert.deepEqual(engine.opts.handshakeRate, { perServer: { count: 5, windowMs: 1000 } });
  // Off by default, as on the official server.
  assert.equal(new Engine().opts.maxClients, undefined);
  assert.equal(new Engine().opts.handshakeRate, undefined);
});

for (const first of ["polling", "websocket"] as const) {
  Deno.test(`maxClients refuses the next handshake with 503 and Retry-After, over polling and WebSocket, until a session closes (first session over ${first})`, async () => {
    const f = startEngine({ maxClients: 1, cors: { origin: "http://app.example" } });
    const seen = refusals(f.engine);
    f.engine.on("connection", (s) => s.on("message", (d) => s.send(d)));
    let ws: WsClient | undefined;
    try {
      const opened = nextConnection(f.engine);
      let sid: string | undefined;
      if (first === "polling") sid = (await handshake(f.base)).sid;
      else {
        ws = new WsClient(`${f.wsBase}${WEBSOCKET}`);
        await ws.opened;
        assert.equal((await ws.next())[0], "0");
      }
      const session = await opened;

      const polled = await request(`${f.base}${POLLING}`, {
        headers: { origin: "http://app.example" },
      });
      assertBusy(polled, 1);
      // A page of another origin may read the header.
      assert.match(polled.headers.get("access-control-expose-headers")!, /Retry-After/);
      const upgrade = await rawUpgrade(f.http.port, `/engine.io/${WEBSOCKET}`);
      assert.equal(upgrade.status, 503);
      assert.equal(upgrade.headers["retry-after"], "1");
      assert.equal(upgrade.body, "Server busy");
      assert.equal(f.engine.clientsCount, 1);
      const busy = { name: "SERVER_BUSY", limit: "maxClients", retryAfter: 1 };
      assert.deepEqual(seen, [[6, busy], [6, busy]]);

      // The open session's requests are never refused.
      if (sid !== undefined) {
        assert.equal((await post(f.base, sid, "4hello")).status, 200);
        assert.equal(await poll(f.base, sid), "4hello");
      } else {
        ws!.send("4hello");
        assert.equal(await ws!.next(), "4hello");
      }

      const closed = closeOf(session);
      session.close();
      // A polling client gets the close packet with its next poll.
      if (sid !== undefined) assert.ok(endsWithClose(await poll(f.base, sid)));
      await closed;
      await ws?.closed;
      assert.equal(f.engine.clientsCount, 0);
      // Admitted again: over polling, then (once that closes) over WebSocket.
      const again = nextConnection(f.engine);
      const { sid: secondSid } = await handshake(f.base);
      const second = await again;
      const secondClosed = closeOf(second);
      second.close();
      assert.ok(endsWithClose(await poll(f.base, secondSid)));
      await secondClosed;
      ws = new WsClient(`${f.wsBase}${WEBSOCKET}`);
      await ws.opened;
      assert.equal((await ws.next())[0], "0");
      assert.equal(seen.length, 2);
    } finally {
      await ws?.close();
      await f.close();
    }
  });
}

/** Asserts what a server with `maxClients: 1` and one session answers a handshake more. */
async function assertFull(port: number, path: string): Promise<void> {
  const base = `http://127.0.0.1:${port}${path}`;
  assertBusy(await request(`${base}${POLLING}`), 1);
  const upgrade = await rawUpgrade(port, `${path}${WEBSOCKET}`);
  assert.equal(upgrade.status, 503);
  assert.equal(upgrade.headers["retry-after"], "1");
  assert.equal(upgrade.body, "Server busy");
}

Deno.test("maxClients on Node (the Node entry) and on Bun: 503 with Retry-After over polling and before the WebSocket upgrade", async (t) => {
  await t.step("Node", async () => {
    const build = await buildForNode();
    const server = await startNode(NODE_SERVER, [build.entry, "http", '{"maxClients":1}']);
    try {
      await handshake(`${server.url}/socket.io/`);
      await assertFull(server.port, "/socket.io/");
    } finally {
      const out = await server.stop();
      await build.remove();
      assert.match(out, /CONNECTION_ERROR \{"code":6,"message":"Server busy","name":"SERVER_BUSY"/);
    }
  });
  await t.step("Bun", async () => {
    const bun = await findBun();
    if (!bun) {
      console.log("SKIPPED: bun not installed");
      return;
    }
    const { port, stop } = await startBunFixture(bun, BUN_FIXTURE);
    try {
      await handshake(`http://127.0.0.1:${port}/engine.io/`);
      await assertFull(port, "/engine.io/");
    } finally {
      await stop();
    }
  });
});

Deno.test("maxClients counts handshakes under way: concurrent ones never overshoot it", async () => {
  // allowRequest takes a while, so every handshake is under way at once.
  const f = startEngine({
    maxClients: 5,
    allowRequest: (_req, fn) => setTimeout(() => fn(null, true), 20),
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => request(`${f.base}${POLLING}`)),
    );
    const statuses = answers.map((a) => a.status).sort();
    assert.deepEqual(statuses, [...Array(5).fill(200), ...Array(15).fill(503)]);
    assert.equal(f.engine.clientsCount, 5);
  } finally {
    await f.close();
  }
});

Deno.test("handshakeRate.perAddress refuses the flood of one address, while another address is admitted over polling and WebSocket", async () => {
  const clock = new ManualClock();
  const f = startEngine({
    scheduler: clock,
    handshakeRate: { perAddress: { count: 3, windowMs: 60_000 } },
  });
  const seen = refusals(f.engine);
  const sockets: WsClient[] = [];
  try {
    const sids: string[] = [];
    for (let i = 0; i < 3; i++) sids.push((await handshake(f.base)).sid);
    // One token per 20 s: each refused handshake is sent 20 s after the one before it.
    assertBusy(await request(`${f.base}${POLLING}`), 20);
    assertBusy(await request(`${f.base}${POLLING}`), 40);
    const upgrade = await rawUpgrade(f.http.port, `/engine.io/${WEBSOCKET}`);
    assert.equal(upgrade.status, 503);
    assert.equal(upgrade.headers["retry-after"], "60");
    const limit = "handshakeRate.perAddress";
    assert.deepEqual(seen.map(([code, c]) => [code, c.limit, c.retryAfter]), [
      [6, limit, 20],
      [6, limit, 40],
      [6, limit, 60],
    ]);
    assert.equal(f.engine.clientsCount, 3);

    // Another address is admitted, over polling and WebSocket.
    const other = await pollingFrom("127.0.0.2", f.http.port);
    assert.equal(other.status, 200, other.body);
    assert.equal(other.body[0], "0");
    const otherWs = await upgradeFrom("127.0.0.2", f.http.port);
    assert.equal(otherWs.status, 101);
    assert.equal(f.engine.clientsCount, 5);
    const addresses = [...f.engine.clients.values()].map((s) => s.request.address).sort();
    assert.deepEqual(addresses, ["127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"]);

    // The refused address's open sessions still work.
    assert.equal((await post(f.base, sids[0], "4still")).status, 200);

    // Back after its Retry-After, the first refused is admitted, the next not yet.
    clock.advance(20_000);
    await handshake(f.base);
    assertBusy(await request(`${f.base}${POLLING}`), 60);
    const ws = new WsClient(`${f.wsBase}${WEBSOCKET}`);
    sockets.push(ws);
    await ws.closed; // refused: the WebSocket never opens
    assert.equal(ws.didOpen, false);
  } finally {
    for (const ws of sockets) await ws.close();
    await f.close();
  }
});

Deno.test("handshakeRate.perServer spreads a burst: each refused handshake is sent a token's time after the one before, and admitted then", async () => {
  const clock = new ManualClock();
  const f = startEngine({
    scheduler: clock,
    handshakeRate: { perServer: { count: 2, windowMs: 2000 } },
  });
  const seen = refusals(f.engine);
  try {
    await handshake(f.base);
    await handshake(f.base);
    const told: number[] = [];
    for (let i = 0; i < 4; i++) {
      const answer = await request(`${f.base}${POLLING}`);
      assert.equal(answer.status, 503);
      told.push(Number(answer.headers.get("retry-after")));
    }
    assert.deepEqual(told, [1, 2, 3, 4]);
    assert.deepEqual(seen.map(([, c]) => c.limit), Array(4).fill("handshakeRate.perServer"));
    // Each comes back when told, and is admitted.
    for (let s = 1; s <= 4; s++) {
      clock.advance(1000);
      await handshake(f.base);
    }
    assert.equal(f.engine.clientsCount, 6);
  } finally {
    await f.close();
  }
});

Deno.test("handshakeRate.perAddress keeps at most maxAddresses, forgetting the least recently heard from", async () => {
  const clock = new ManualClock();
  const f = startEngine({
    scheduler: clock,
    handshakeRate: {
      perAddress: { count: 1, windowMs: 60_000, maxAddresses: 2, key: (req) => req.query.k },
    },
  });
  try {
    const from = (k: string) => request(`${f.base}${POLLING}&k=${k}`);
    assert.equal((await from("a")).status, 200);
    assert.equal((await from("b")).status, 200);
    assert.equal((await from("a")).status, 503); // a is heard from again: now the most recent
    assert.equal((await from("c")).status, 200); // b is forgotten to make room
    assert.equal((await from("b")).status, 200); // and starts afresh (a is forgotten now)
    assert.equal((await from("c")).status, 503); // c is remembered
  } finally {
    await f.close();
  }
});

Deno.test("handshakeRate.perAddress: a flood from 100,000 addresses keeps at most maxAddresses in memory, and a quiet window gives it back", () => {
  // The engine's admission state itself: how many addresses it holds is what memory it takes.
  const admission = new Admission(Infinity, {
    perAddress: { count: 2, windowMs: 1000, maxAddresses: 1000 },
  });
  const req = { method: "GET", url: "/", headers: {}, query: {}, address: "", secure: false };
  let most = 0;
  for (let i = 0; i < 100_000; i++) {
    req.address = `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(admission.admit(req, 0, i / 100), undefined); // each is new: admitted
    admission.pending--;
    most = Math.max(most, admission.addresses);
  }
  assert.equal(most, 1000);
  // One address floods meanwhile: remembered, so refused, however many others come.
  req.address = "10.0.0.1";
  const now = 1000;
  admission.admit(req, 0, now);
  admission.admit(req, 0, now);
  admission.pending -= 2;
  assert.equal(admission.admit(req, 0, now)?.limit, "handshakeRate.perAddress");
  // Two windows later, one handshake: everything older is let go.
  req.address = "10.0.0.2";
  assert.equal(admission.admit(req, 0, now + 2000), undefined);
  assert.equal(admission.addresses, 1);
});

Deno.test("handshakeRate.perAddress: a key function that throws refuses the handshake with 400, no crash", async () => {
  const f = startEngine({
    handshakeRate: {
      perAddress: {
        count: 1,
        windowMs: 1000,
        key: () => {
          throw new Error("no header");
        },
      },
    },
  });
  const seen = refusals(f.engine);
  try {
    const answer = await request(`${f.base}${POLLING}`);
    assert.equal(answer.status, 400);
    assert.deepEqual(JSON.parse(answer.body), { code: 3, message: "Bad request" });
    assert.equal(seen[0][1].name, "ADMISSION_KEY_ERROR");
    assert.equal((seen[0][1].error as Error).message, "no header");
  } finally {
    await f.close();
  }
});

/** How the manager's attempt under way ends: `"open"` or `"error"`. */
function outcome(manager: Manager): Promise<"open" | "error"> {
  return new Promise((resolve) => {
    const open = () => (manager.off("error", error), resolve("open"));
    const error = () => (manager.off("open", open), resolve("error"));
    manager.once("open", open).once("error", error);
  });
}

// The real timers, captured before a test fakes them.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/**
 * Our Socket.IO server whose clock is `Date.now` (the fake one, when a test installs it, shared
 * with the client) and whose timers are real, so that a fake clock moves only the client's.
 */
function serverOnFakeDate(
  opts: ConstructorParameters<typeof Server>[0],
  front?: (req: Request) => Response | undefined,
) {
  const scheduler: Scheduler = {
    now: () => Date.now(),
    set: (fn, ms) => realSetTimeout(fn, ms),
    clear: (h) => realClearTimeout(h as number),
  };
  const io = new Server({ ...opts, scheduler });
  const handler = io.handler();
  const http = serve((req, info) => front?.(req) ?? handler(req, info));
  return {
    io,
    url: http.origin,
    async close() {
      await io.close();
      await http.close();
    },
  };
}

const REFUSALS = [
  ...[0, 0.5, 0.99].map((rand) => ({ status: 503, rand, by: "our server's handshakeRate" })),
  { status: 429, rand: 0.5, by: "a rate-limiting proxy" },
];

for (const { status, rand, by } of REFUSALS) {
  Deno.test(`our client, refused with ${status} and Retry-After: 2 over polling (${by}), waits at least 2 s (with jitter, random ${rand}) before its next attempt, then connects`, async () => {
    const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const random = Math.random;
    Math.random = () => rand;
    let proxied = false;
    const target = status === 503
      ? serverOnFakeDate({ handshakeRate: { perServer: { count: 1, windowMs: 2000 } } })
      : serverOnFakeDate({}, () => {
        if (proxied) return undefined;
        proxied = true;
        return new Response("slow down", { status: 429, headers: { "Retry-After": "2" } });
      });
    const tracker = track();
    let manager: Manager | undefined;
    try {
      if (status === 503) {
        // Someone else takes the one handshake of this window.
        const first = await fetch(`${target.url}/socket.io/${POLLING}`);
        assert.equal(first.status, 200);
        await first.body?.cancel();
      }
      manager = new Manager(target.url, {
        transports: ["polling"],
        reconnectionDelay: 100,
        reconnectionDelayMax: 500,
        randomizationFactor: 0.5,
      });
      const socket = manager.socket("/");
      const events: unknown[] = [];
      let failedAt = 0;
      socket.on("connect_error", (err) => {
        const e = err as TransportError;
        failedAt = Date.now();
        events.push(["connect_error", e.message, e.description, e.retryAfter]);
      });
      manager.on(
        "reconnect_attempt",
        (n) => events.push(["reconnect_attempt", n, Date.now() - failedAt]),
      );
      socket.on("connect", () => events.push(["connect"]));
      assert.equal(await outcome(manager), "error");
      // The one timer now is the reconnection's: run it.
      await clock.nextAsync();
      if (await outcome(manager) === "open") await once(socket, "connect");
      // backoff: 100 ms at most 150; the server's 2 s wins, spread by up to half of it.
      const waited = 2000 * (1 + rand * 0.5);
      assert.deepEqual(events, [
        ["connect_error", "server busy", status, 2000],
        ["reconnect_attempt", 1, waited],
        ["connect"],
      ]);
      // Once connected, the next reconnection after a drop is the usual backoff again.
      const dropped = once(manager, "close");
      socket.io.engine.close();
      await dropped;
      const at = Date.now();
      let attemptAfter = -1;
      manager.once("reconnect_attempt", () => attemptAfter = Date.now() - at);
      const back = once(socket, "connect");
      await clock.nextAsync();
      // (A fresh window by now: admitted.)
      clock.tick(2000);
      await back;
      assert.ok(attemptAfter >= 0 && attemptAfter <= 150, `usual backoff, got ${attemptAfter}`);
    } finally {
      manager?._close();
      for (const nsp of Object.values(manager?.nsps ?? {})) nsp.disconnect();
      Math.random = random;
      clock.uninstall();
      await tracker.drained();
      tracker.restore();
      await target.close();
    }
  });
}

Deno.test("our client over WebSocket cannot see the 503 (a WebSocket hides it): it retries by its backoff and connects", async () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  const target = serverOnFakeDate({ handshakeRate: { perServer: { count: 1, windowMs: 2000 } } });
  const tracker = track();
  let manager: Manager | undefined;
  try {
    const first = await fetch(`${target.url}/socket.io/${POLLING}`);
    await first.body?.cancel();
    manager = new Manager(target.url, {
      transports: ["websocket"],
      reconnectionDelay: 100,
      reconnectionDelayMax: 5000,
      randomizationFactor: 0,
    });
    const socket = manager.socket("/");
    const delays: number[] = [];
    const messages: string[] = [];
    let failedAt = 0;
    socket.on("connect_error", (err) => {
      failedAt = Date.now();
      messages.push(err.message);
    });
    manager.on("reconnect_attempt", () => delays.push(Date.now() - failedAt));
    // After each refused attempt, run the timer of the next.
    while (await outcome(manager) === "error") await clock.nextAsync();
    await once(socket, "connect");
    // 100 + 200 + 400 + 800 ms are refused (the window is 2 s), the next attempt is admitted.
    assert.deepEqual(delays, [100, 200, 400, 800, 1600]);
    assert.deepEqual(messages, Array(5).fill("websocket error"));
  } finally {
    manager?._close();
    clock.uninstall();
    await tracker.drained();
    tracker.restore();
    await target.close();
  }
});

for (const mode of MODES) {
  Deno.test(`the official client gets the 503 and retries by its backoff until admitted [${mode}]`, async () => {
    const fx = new Fixture(mode, { maxClients: 1 });
    try {
      const first = await fx.connect();
      const second = fx.client("/", {
        reconnection: true,
        reconnectionDelay: 50,
        reconnectionDelayMax: 100,
      });
      const errors: Array<[string, unknown]> = [];
      const outcome = new Promise<string>((resolve) => {
        second.once("connect", () => resolve("connected"));
        second.on("connect_error", (err) => {
          errors.push([err.message, (err as unknown as { description: unknown }).description]);
          if (errors.length === 2) resolve("refused twice");
        });
      });
      assert.equal(await outcome, "refused twice");
      // Its polling request sees the status; its WebSocket cannot.
      if (mode === "websocket") assert.equal(errors[0][0], "websocket error");
      else assert.deepEqual(errors[0], ["xhr poll error", 503]);
      first.disconnect();
      await connected(second);
      assert.equal(fx.io.engine.clientsCount, 1);
    } finally {
      await fx.close();
    }
  });
}

for (const virtualTime of [true, false]) {
  const clock = virtualTime ? "on a clock that stands still while requests come" : "in real time";
  Deno.test(`a reconnect storm of 1,000 raw clients ${clock}: each is admitted or told when to come back, none fails, and all get in`, async () => {
    const report = await stormOnce({
      clients: 1000,
      concurrency: 100,
      perSecond: 250,
      virtualTime,
    });
    assert.equal(report.errors, 0, report.firstError);
    assert.equal(report.badAnswers, 0, report.firstBadAnswer);
    assert.equal(report.admitted, 1000);
    assert.ok(report.refused > 0, "the storm went past the rate");
    assert.equal(report.serverRefusals, report.refused);
    assert.equal(report.openSessions, 1000);
    // The server is full: one more is refused by maxClients.
    assert.equal(report.oneMore, "maxClients");
    if (virtualTime) {
      // 250 at once, then the 750 refused are sent 1, 2 and 3 s ahead, 250 a second: each is
      // admitted when it comes back.
      assert.deepEqual(report.retryAfter, { 1: 250, 2: 250, 3: 250 });
      assert.equal(report.refusedAgain, 0);
      assert.equal(report.maxAttempts, 2);
    }
  });
}
