/**
 * Options are checked at construction: each wrong option throws a `TypeError` or `RangeError`
 * naming it and its value, each right one is taken (normalized as the official servers do), an
 * unknown name warns with the closest known one, and two servers on one path are refused.
 */
import assert from "node:assert/strict";
import msgpackParser from "socket.io-msgpack-parser";
import { InMemoryAdapter, Server, type ServerOptions } from "../mod.ts";
import {
  defaultScheduler,
  type Scheduler,
  Server as Engine,
  type TimerHandle,
} from "../server/engine/mod.ts";
import { handshake } from "./helpers/engine.ts";
import { serve } from "./helpers/serve.ts";

type Wrong = [options: Record<string, unknown>, error: typeof TypeError, message: RegExp];

const WRONG: Wrong[] = [
  [{ pingInterval: "5s" }, TypeError, /"pingInterval" must be a number of milliseconds, got "5s"/],
  [{ pingInterval: 0 }, RangeError, /"pingInterval".*got 0/],
  [{ pingInterval: -1 }, RangeError, /"pingInterval".*got -1/],
  [{ pingInterval: NaN }, RangeError, /"pingInterval".*got NaN/],
  [{ pingInterval: 2 ** 31 }, RangeError, /"pingInterval".*got 2147483648/],
  [{ pingTimeout: "20000" }, TypeError, /"pingTimeout".*got "20000"/],
  [{ pingInterval: 2 ** 31 - 2, pingTimeout: 10 }, RangeError, /"pingInterval" \+ "pingTimeout"/],
  [{ upgradeTimeout: null }, TypeError, /"upgradeTimeout".*got null/],
  [{ maxHttpBufferSize: 0 }, RangeError, /"maxHttpBufferSize".*got 0/],
  [{ maxHttpBufferSize: "1mb" }, TypeError, /"maxHttpBufferSize".*got "1mb"/],
  [{ maxHttpBufferSize: Infinity }, RangeError, /"maxHttpBufferSize".*got Infinity/],
  [{ path: "socket.io" }, RangeError, /"path" must start with "\/".*did you mean "\/socket\.io"/],
  [{ path: 42 }, TypeError, /"path" must be a string, got 42/],
  [{ path: "/io?x=1" }, RangeError, /"path".*"\/io\?x=1"/],
  [{ transports: ["websockets"] }, RangeError, /"transports".*got "websockets"/],
  [{ transports: "websocket" }, TypeError, /"transports".*got "websocket"/],
  [{ transports: [] }, RangeError, /"transports" must be a non-empty/],
  [{ allowUpgrades: "yes" }, TypeError, /"allowUpgrades" must be a boolean, got "yes"/],
  [{ addTrailingSlash: 0 }, TypeError, /"addTrailingSlash" must be a boolean, got 0/],
  [{ allowEIO3: 1 }, TypeError, /"allowEIO3" must be a boolean, got 1/],
  [{ allowRequest: true }, TypeError, /"allowRequest" must be a function, got true/],
  [{ generateId: "id" }, TypeError, /"generateId" must be a function/],
  [{ cors: "*" }, TypeError, /"cors" must be a boolean or an object, got "\*"/],
  [{ cors: () => {} }, TypeError, /"cors".*delegate is not supported/],
  [{ cors: { origin: 42 } }, TypeError, /"cors\.origin".*got 42/],
  [{ cors: { credentials: "true" } }, TypeError, /"cors\.credentials".*got "true"/],
  [{ cors: { methods: [1] } }, TypeError, /"cors\.methods"/],
  [{ cors: { optionsSuccessStatus: 404 } }, RangeError, /"cors\.optionsSuccessStatus".*404/],
  [{ cookie: "io" }, TypeError, /"cookie" must be a boolean or an object, got "io"/],
  [{ cookie: { name: "my cookie" } }, RangeError, /"cookie\.name".*"my cookie"/],
  [{ cookie: { sameSite: "loose" } }, RangeError, /"cookie\.sameSite".*"loose"/],
  [{ cookie: { maxAge: "1h" } }, TypeError, /"cookie\.maxAge".*"1h"/],
  [{ cookie: { expires: "tomorrow" } }, TypeError, /"cookie\.expires" must be a Date/],
  [{ cookie: { path: true } }, TypeError, /"cookie\.path" must be a string, got true/],
  [
    { scheduler: "setTimeout" },
    TypeError,
    /"scheduler" must be a scheduler \(an object with now\(\), set\(fn, ms\) and clear\(handle\) methods\), got "setTimeout"/,
  ],
  [{ scheduler: () => {} }, TypeError, /"scheduler" must be a scheduler.*got a function/],
  [{ scheduler: {} }, TypeError, /"scheduler" must be a scheduler.*its "now" is missing/],
  [
    { scheduler: { now() {}, set() {}, clear: "clearTimeout" } },
    TypeError,
    /"scheduler" must be a scheduler.*its "clear" is not a function \(string\)/,
  ],
  [{ serveClient: "false" }, TypeError, /"serveClient" must be a boolean, got "false"/],
  [{ adapter: {} }, TypeError, /"adapter" must be a function/],
  [{ parser: {} }, TypeError, /"parser" must be a parser module/],
  [{ connectTimeout: -5 }, RangeError, /"connectTimeout".*got -5/],
  [{ connectTimeout: "45s" }, TypeError, /"connectTimeout".*got "45s"/],
  [
    { connectionStateRecovery: { maxDisconnectionDuration: "2m" } },
    TypeError,
    /"connectionStateRecovery\.maxDisconnectionDuration".*"2m"/,
  ],
  [
    { connectionStateRecovery: { skipMiddlewares: 1 } },
    TypeError,
    /"connectionStateRecovery\.skipMiddlewares".*got 1/,
  ],
  [{ cleanupEmptyChildNamespaces: "yes" }, TypeError, /"cleanupEmptyChildNamespaces"/],
];

/** Runs `fn` and returns what it passed to `console.warn`. */
function warnings(fn: () => void): string[] {
  const seen: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => void seen.push(args.join(" "));
  try {
    fn();
  } finally {
    console.warn = warn;
  }
  return seen;
}

for (const [opts, type, message] of WRONG) {
  Deno.test(`a wrong option throws a ${type.name}: ${Deno.inspect(opts)}`, () => {
    assert.throws(() => new Server(opts as Partial<ServerOptions>), (err: unknown) => {
      assert.ok(err instanceof type, `${err} is a ${type.name}`);
      assert.match((err as Error).message, message);
      return true;
    });
  });
}

Deno.test("the engine alone checks its options with the same rules", () => {
  for (const [opts, type, message] of WRONG) {
    const engineOnly = Object.keys(opts).every((k) =>
      !["serveClient", "adapter", "parser", "connectTimeout", "connectionStateRecovery"]
        .includes(k) && k !== "cleanupEmptyChildNamespaces"
    );
    if (!engineOnly) continue;
    assert.throws(() => new Engine(opts), type, Deno.inspect(opts));
    assert.throws(() => new Engine(opts), message);
  }
});

type Right = [options: Record<string, unknown>, check: (io: Server) => void];

// A scheduler of the user's: a class whose methods are on its prototype is one too.
class OwnScheduler implements Scheduler {
  now(): number {
    return 0;
  }
  set(): TimerHandle {
    return 1;
  }
  clear(): void {}
}
const OWN_SCHEDULER = new OwnScheduler();

const RIGHT: Right[] = [
  [{}, (io) => assert.equal(io.engine.opts.path, "/socket.io/")],
  [{}, (io) => assert.equal(io.engine.opts.scheduler, defaultScheduler)],
  [{ scheduler: OWN_SCHEDULER }, (io) => assert.equal(io.engine.opts.scheduler, OWN_SCHEDULER)],
  [{ pingInterval: 5000, pingTimeout: 3000 }, (io) => {
    assert.equal(io.engine.opts.pingInterval, 5000);
    assert.equal(io.engine.opts.pingTimeout, 3000);
  }],
  [{ path: "/custom" }, (io) => assert.equal(io.engine.opts.path, "/custom/")],
  [{ path: "/custom/" }, (io) => assert.equal(io.engine.opts.path, "/custom/")],
  // As the official `opts.path || "/socket.io"`.
  [{ path: "" }, (io) => assert.equal(io.engine.opts.path, "/socket.io/")],
  [
    { transports: ["websocket"] },
    (io) => assert.deepEqual(io.engine.opts.transports, ["websocket"]),
  ],
  [{ maxHttpBufferSize: 1e8, upgradeTimeout: 1 }, (io) => {
    assert.equal(io.engine.opts.maxHttpBufferSize, 1e8);
  }],
  [
    { allowUpgrades: false, allowEIO3: true, allowRequest: () => {}, generateId: () => "x" },
    (io) => {
      assert.equal(io.engine.opts.allowEIO3, true);
    },
  ],
  // `cors: true` is npm cors's defaults, as the official server reads it.
  [{ cors: true }, (io) => assert.deepEqual(io.engine.opts.cors, {})],
  [{ cors: false }, (io) => assert.equal(io.engine.opts.cors, undefined)],
  [{
    cors: {
      origin: ["https://a.example", /\.b\.example$/],
      credentials: true,
      headers: ["x-token"],
      maxAge: 600,
    },
  }, (io) => assert.deepEqual(io.engine.opts.cors?.headers, ["x-token"])],
  [
    { cors: { origin: (_o: unknown, cb: (e: null, v: boolean) => void) => cb(null, true) } },
    () => {},
  ],
  [{ cookie: true }, (io) => assert.deepEqual(io.engine.opts.cookie, {})],
  [
    { cookie: { name: "sid", sameSite: "Strict", priority: "High", expires: new Date(0) } },
    (io) => {
      const cookie = io.engine.opts.cookie as Record<string, unknown>;
      assert.equal(cookie.sameSite, "strict");
      assert.equal(cookie.priority, "high");
    },
  ],
  [{ cookie: { path: false, maxAge: 60 } }, () => {}],
  [{ serveClient: false, cleanupEmptyChildNamespaces: true }, (io) => {
    assert.equal(io.serveClient, false);
  }],
  [{ adapter: class extends InMemoryAdapter {} }, () => {}],
  [{ parser: msgpackParser }, (io) => assert.equal(io._parser, msgpackParser)],
  // As the official `opts.connectTimeout || 45000`.
  [{ connectTimeout: 0 }, (io) => assert.equal(io.connectTimeout, 45000)],
  [{ connectTimeout: 1000 }, (io) => assert.equal(io.connectTimeout, 1000)],
  [{ connectionStateRecovery: {} }, (io) => {
    assert.equal(io.recovery?.maxDisconnectionDuration, 120000);
  }],
  [
    { connectionStateRecovery: { maxDisconnectionDuration: 1000, skipMiddlewares: false } },
    (io) => {
      assert.deepEqual(io.recovery, { maxDisconnectionDuration: 1000, skipMiddlewares: false });
    },
  ],
  // Official options that tune Node internals are accepted for ported code, silently.
  [{
    perMessageDeflate: false,
    httpCompression: { threshold: 1024 },
    wsEngine: class {},
    destroyUpgrade: false,
    destroyUpgradeTimeout: 1000,
  }, () => {}],
  [{ addTrailingSlash: false }, (io) => assert.equal(io.engine.opts.path, "/socket.io")],
  [{ pingInterval: undefined, path: undefined }, (io) => {
    assert.equal(io.engine.opts.pingInterval, 25000);
  }],
];

for (const [opts, check] of RIGHT) {
  Deno.test(`a right option is taken: ${Deno.inspect(opts, { depth: 1 })}`, () => {
    let io: Server | undefined;
    assert.deepEqual(warnings(() => (io = new Server(opts as Partial<ServerOptions>))), []);
    check(io!);
  });
}

Deno.test("a typo or an unknown option warns with the closest known name, and is ignored", () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ pingIntervall: 1000 }, /unknown option "pingIntervall" \(did you mean "pingInterval"\?\)/],
    [{ PingTimeout: 1000 }, /"PingTimeout" \(did you mean "pingTimeout"\?\)/],
    [{ transport: ["polling"] }, /"transport" \(did you mean "transports"\?\)/],
    [{ maxHttpBuffer: 10 }, /"maxHttpBuffer" \(did you mean "maxHttpBufferSize"\?\)/],
    [{ cors: { orgin: "*" } }, /"cors\.orgin" \(did you mean "cors\.origin"\?\)/],
    [{ cookie: { httponly: true } }, /"cookie\.httponly" \(did you mean "cookie\.httpOnly"\?\)/],
    [{ serveclient: false }, /"serveclient" \(did you mean "serveClient"\?\)/],
    [{ somethingElse: 1 }, /unknown option "somethingElse"; it is ignored/],
  ];
  for (const [opts, message] of cases) {
    let io: Server | undefined;
    const seen = warnings(() => (io = new Server(opts as Partial<ServerOptions>)));
    assert.equal(seen.length, 1, `${Deno.inspect(opts)}: ${seen.join("\n")}`);
    assert.match(seen[0], message);
    // Ignored: the defaults stay.
    assert.equal(io!.engine.opts.pingInterval, 25000);
    assert.equal(io!.serveClient, true);
  }
  // The engine alone knows no Socket.IO option.
  const seen = warnings(() => new Engine({ serveClient: false } as never));
  assert.equal(seen.length, 1);
  assert.match(seen[0], /unknown option "serveClient"/);
});

Deno.test("official options this server does not implement warn once", () => {
  let io: Server | undefined;
  const seen = warnings(() => {
    io = new Server({
      transports: ["polling", "websocket", "webtransport"],
      initialPacket: "hi",
      cors: { preflightContinue: true },
    } as Partial<ServerOptions>);
  });
  assert.equal(seen.length, 3, seen.join("\n"));
  assert.match(seen[0], /transport "webtransport" is not supported/);
  assert.match(seen[1], /"initialPacket" is not supported/);
  assert.match(seen[2], /"cors\.preflightContinue" is not supported/);
  assert.deepEqual(io!.engine.opts.transports, ["polling", "websocket"]);
});

Deno.test("new Server(port) or new Server(httpServer) says how to serve instead", () => {
  for (const arg of [3000, "3000", { listen() {} }]) {
    assert.throws(() => new Server(arg as never), {
      name: "TypeError",
      message: /Deno\.serve\(\{ port: 3000 \}, io\.handler\(\)\)/,
    });
  }
});

Deno.test("a path without its trailing slash serves clients", async () => {
  const engine = new Engine({ path: "/custom" });
  const http = serve(engine.handler());
  try {
    const { sid } = await handshake(`${http.origin}/custom/`);
    assert.ok(sid);
  } finally {
    await engine.close();
    await http.close();
  }
});

Deno.test("two servers on one path: the handler refuses the other's as its fallback", () => {
  const io1 = new Server();
  const io2 = new Server();
  assert.throws(() => io1.handler(io2.handler()), {
    name: "Error",
    message: /another server on "\/socket\.io\/".*give each server its own `path`/,
  });
  // The engine alone, and a spread Bun handler's `fetch`, the same.
  const e1 = new Engine();
  const e2 = new Engine();
  assert.throws(() => e1.handler(e2.handler().fetch), /another server on "\/engine\.io\/"/);
  assert.throws(() => e1.handler(new Server({ path: "/engine.io" }).handler()), Error);
  // Servers on their own paths chain fine.
  io1.handler(new Server({ path: "/admin" }).handler());
  io1.handler(e1.handler());
  e1.handler(io1.handler());
  io1.handler((req) => new Response(req.url));
});
