/**
 * `engine.use()` middleware and the engine's `initial_headers` / `headers` events, over polling and
 * WebSocket on Deno: a cookie session in the manner of express-session reaches `socket.request`,
 * refusals answer 400 or the middleware's own status, headers added by listeners go out.
 */
import assert from "node:assert/strict";
import type { EngineMiddleware, RequestSnapshot } from "../mod.ts";
import {
  closeOf,
  handshake,
  nextConnection,
  post,
  request,
  startEngine,
} from "./helpers/engine.ts";
import { rawUpgrade } from "./helpers/raw.ts";
import { eachMode, type Fixture, next } from "./helpers/socketio.ts";

type Session = { id: string; views: number; user?: string };

/**
 * A cookie session written the way express-session works: the store answers asynchronously, the
 * session lands on `req.session`, and the cookie of a new session is added when the headers are
 * written (express-session wraps `res.writeHead` through `on-headers`).
 */
function cookieSession(store: Map<string, Session>): EngineMiddleware {
  return (req, res, next) => {
    const id = /(?:^|;\s*)sid=([^;]+)/.exec(req.headers.cookie ?? "")?.[1];
    Promise.resolve().then(() => {
      let session = id === undefined ? undefined : store.get(id);
      if (!session) {
        session = { id: crypto.randomUUID(), views: 0 };
        store.set(session.id, session);
        const fresh = session.id;
        const writeHead = res.writeHead;
        res.writeHead = function (...args: Parameters<typeof writeHead>) {
          this.setHeader("Set-Cookie", `sid=${fresh}; Path=/; HttpOnly`);
          return writeHead.apply(this, args);
        };
      }
      session.views++;
      req.session = session;
      next();
    });
  };
}

/** The `sid` of a `Set-Cookie` header, or undefined. */
function sidOf(setCookie: string | undefined): string | undefined {
  return /^sid=([^;]+)/.exec(setCookie ?? "")?.[1];
}

/** A first visit without a cookie over the fixture's mode; returns the session cookie it got. */
async function firstVisit(fx: Fixture): Promise<string | undefined> {
  if (fx.mode === "websocket") {
    const opened = nextConnection(fx.io.engine);
    const answer = await rawUpgrade(fx.http.port, "/socket.io/?EIO=4&transport=websocket");
    assert.equal(answer.status, 101);
    await closeOf(await opened);
    return sidOf(answer.headers["set-cookie"]);
  }
  const res = await fetch(`${fx.url}/socket.io/?EIO=4&transport=polling`);
  const sid = JSON.parse((await res.text()).slice(1)).sid;
  const cookie = sidOf(res.headers.get("set-cookie") ?? undefined);
  const closed = closeOf(fx.io.engine.clients.get(sid)!);
  await request(`${fx.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, {
    method: "POST",
    body: "1",
    headers: { cookie: `sid=${cookie}` },
  });
  await closed;
  return cookie;
}

eachMode("engine.use(): a cookie session reaches socket.request and client.request", async (fx) => {
  const store = new Map<string, Session>();
  fx.io.engine.use(cookieSession(store));
  const cookie = await firstVisit(fx);
  assert.ok(cookie, "a new visitor gets a session cookie");
  store.get(cookie)!.user = "ann";

  const [, socket] = await fx.pair("/", { extraHeaders: { cookie: `sid=${cookie}` } });
  const session = socket.request.session as Session;
  assert.equal(session, store.get(cookie), "the handshake's session is on socket.request");
  assert.equal(session.user, "ann");
  assert.equal(socket.client.request, socket.request);
  assert.equal(socket.client.request, socket.conn.request);
  assert.equal(store.size, 1, "a known cookie starts no new session");
});

eachMode("engine.use(): next(err) refuses with 400 and a connection_error", async (fx) => {
  fx.io.engine.use((_req, _res, next) => next(new Error("no session")));
  const errors: { code: number; context: Record<string, unknown> }[] = [];
  fx.io.engine.on("connection_error", (e) => errors.push(e));
  if (fx.mode === "websocket") {
    const answer = await rawUpgrade(fx.http.port, "/socket.io/?EIO=4&transport=websocket");
    assert.equal(answer.status, 400);
  } else {
    const res = await request(`${fx.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(res.status, 400);
    assert.equal(res.body, '{"code":3,"message":"Bad request"}');
  }
  const client = fx.client();
  await next(client, "connect_error");
  assert.equal(fx.io.engine.clientsCount, 0);
  assert.ok(errors.length >= 2);
  for (const e of errors) {
    assert.equal(e.code, 3);
    assert.equal(e.context.name, "MIDDLEWARE_FAILURE");
  }
});

eachMode("engine.use(): a throwing or rejecting middleware refuses with 400", async (fx) => {
  let calls = 0;
  fx.io.engine.use(() => {
    if (calls++ % 2) throw new Error("bug");
    return Promise.reject(new Error("async bug"));
  });
  for (let i = 0; i < 2; i++) {
    const answer = fx.mode === "websocket"
      ? await rawUpgrade(fx.http.port, "/socket.io/?EIO=4&transport=websocket")
      : await request(`${fx.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(answer.status, 400);
  }
  assert.equal(fx.io.engine.clientsCount, 0);
});

eachMode("engine.use(): res.writeHead(503) and res.end() answer the request", async (fx) => {
  fx.io.engine.use((_req, res) => {
    res.writeHead(503, { "retry-after": "5" });
    res.end("busy");
  });
  fx.io.engine.on("connection", () => assert.fail("no session may open"));
  const answer = fx.mode === "websocket"
    ? await rawUpgrade(fx.http.port, "/socket.io/?EIO=4&transport=websocket")
    : await request(`${fx.url}/socket.io/?EIO=4&transport=polling`);
  assert.equal(answer.status, 503);
  assert.equal(answer.body, "busy");
  const retry = answer.headers instanceof Headers
    ? answer.headers.get("retry-after")
    : answer.headers["retry-after"];
  assert.equal(retry, "5");
});

Deno.test("engine.use(): middlewares run in order on every request, polls and POSTs too", async () => {
  const f = startEngine();
  try {
    const seen: string[] = [];
    f.engine.use((req, res, next) => {
      seen.push(`1 ${req.method}`);
      res.setHeader("x-first", "1");
      next();
    });
    f.engine.use((req, res, next) => {
      seen.push(`2 ${req.method} ${res.getHeader("x-first")}`);
      next();
    });
    const res = await request(`${f.base}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-first"), "1");
    const { sid } = JSON.parse(res.body.slice(1));
    const answer = await post(f.base, sid, "4hi");
    assert.equal(answer.headers.get("x-first"), "1");
    const closed = f.engine.clients.get(sid)!;
    const gone = closeOf(closed);
    await post(f.base, sid, "1");
    await gone;
    assert.deepEqual(seen, ["1 GET", "2 GET 1", "1 POST", "2 POST 1", "1 POST", "2 POST 1"]);
  } finally {
    await f.close();
  }
});

Deno.test("initial_headers and headers: polling handshake, POST and polls", async () => {
  const f = startEngine({ cookie: true });
  try {
    f.engine.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));
    const initial: RequestSnapshot[] = [];
    let all = 0;
    f.engine.on("initial_headers", (headers, req) => {
      initial.push(req);
      headers["test"] = "123";
      headers["set-cookie"] = "mycookie=456";
    });
    f.engine.on("headers", (headers) => {
      headers["x-every"] = String(++all);
    });
    const res = await request(`${f.base}?EIO=4&transport=polling`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("test"), "123");
    const cookies = res.headers.getSetCookie();
    assert.equal(cookies.length, 2, "the io cookie and the listener's");
    assert.match(cookies[0], /^io=/);
    assert.equal(cookies[1], "mycookie=456");
    assert.equal(res.headers.get("x-every"), "1");
    assert.equal(initial.length, 1);
    assert.equal(initial[0].method, "GET");

    const { sid } = JSON.parse(res.body.slice(1));
    const posted = await post(f.base, sid, "4hello");
    assert.equal(posted.status, 200);
    assert.equal(posted.headers.get("test"), null, "initial_headers is for the handshake only");
    assert.deepEqual(posted.headers.getSetCookie(), []);
    assert.equal(posted.headers.get("x-every"), "2");
    const polled = await request(`${f.base}?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(polled.body, "4hello");
    assert.equal(polled.headers.get("x-every"), "3");
    assert.equal(initial.length, 1, "one initial_headers per connection");
  } finally {
    await f.close();
  }
});

Deno.test("initial_headers and headers: the WebSocket handshake's 101 carries them", async () => {
  const f = startEngine({ cookie: true });
  try {
    let initial = 0;
    f.engine.on("initial_headers", (headers, req) => {
      initial++;
      assert.equal(req.method, "GET");
      headers["test"] = "123";
      headers["set-cookie"] = "mycookie=456";
    });
    f.engine.on("headers", (headers) => {
      headers["x-every"] = "yes";
    });
    const opened = nextConnection(f.engine);
    const answer = await rawUpgrade(f.http.port, "/engine.io/?EIO=4&transport=websocket");
    assert.equal(answer.status, 101);
    assert.equal(answer.headers["test"], "123");
    // As on the official server, a WebSocket handshake sends no io cookie.
    assert.equal(answer.headers["set-cookie"], "mycookie=456");
    assert.equal(answer.headers["x-every"], "yes");
    assert.equal(initial, 1);
    await closeOf(await opened);
  } finally {
    await f.close();
  }
});

Deno.test("headers, not initial_headers, on the WebSocket upgrade of a polling session", async () => {
  const f = startEngine();
  try {
    let initial = 0;
    const seen: string[] = [];
    f.engine.on("initial_headers", () => void initial++);
    f.engine.on("headers", (headers, req) => {
      seen.push(req.query.transport);
      headers["x-every"] = "yes";
    });
    const { sid } = await handshake(f.base);
    const answer = await rawUpgrade(
      f.http.port,
      `/engine.io/?EIO=4&transport=websocket&sid=${sid}`,
    );
    assert.equal(answer.status, 101);
    assert.equal(answer.headers["x-every"], "yes");
    assert.equal(initial, 1);
    assert.deepEqual(seen, ["polling", "websocket"]);
  } finally {
    await f.close();
  }
});
