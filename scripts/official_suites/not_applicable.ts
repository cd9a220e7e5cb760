/**
 * The official tests that do not apply to us, by the full title mocha gives them, each with
 * why: tests that read or drive an official internal (a private field, an internal method) or
 * that depend on how an official package is built inside. They are left out of the run. Every
 * other test must pass.
 *
 * @module
 */
import type { NotApplicable } from "./mocha.ts";

/**
 * `new Manager(options)` without a URL: in Node the client goes to localhost:80, not to the
 * server under test, so the test times the client's own timers against a refused connection.
 */
const NO_SERVER =
  "never reaches the server under test: `new Manager(options)` has no URL, so in Node the " +
  "client connects to localhost:80 (refused here) and the test times the client's own " +
  "reconnection timers; it races with how fast that refusal surfaces during the fake clock's " +
  "ticks, and fails now and then against the official server too";

/** socket.io-client suite, official client against our server. */
export const CLIENT_NOT_APPLICABLE: NotApplicable = {
  "connection reconnect timeout should use overridden setTimeout by default": NO_SERVER,
};

/**
 * Node's fetch (undici) arms its own 499 ms timer on the global clock when a request starts;
 * under `@sinonjs/fake-timers` that timer is faked.
 */
const FETCH_UNDER_FAKE_TIMERS =
  "depends on the official client's Node transport (XHR over node:http): ours polls with fetch, " +
  "and Node's fetch (undici) arms a 499 ms timer on the faked clock, so the refused connection " +
  "to localhost:80 surfaces at fake 499 ms, before the 500 ms connect timeout the test counts from";

/** socket.io-client suite, our client against our server. */
export const CLIENT_OURS_NOT_APPLICABLE: NotApplicable = {
  "connection should emit a connect_error event when reaching a Socket.IO server in v2.x":
    "calls the official internal `socket.onpacket()` (ours is the private `#onpacket`, which " +
    "gives the same connect_error for a v2 CONNECT without sid)",
  "connection reconnect timeout should use overridden setTimeout by default":
    FETCH_UNDER_FAKE_TIMERS,
  "connection reconnect timeout should use native setTimeout with useNativeSetTimers":
    FETCH_UNDER_FAKE_TIMERS,
  "socket timeout acknowledgement upon disconnection should not ack upon disconnection (callback)":
    "reads the official private field `socket.acks` (ours: `#acks`)",
  "socket timeout acknowledgement upon disconnection should ack with an error upon disconnection (callback & timeout)":
    "reads the official private field `socket.acks` (ours: `#acks`)",
  "socket throttled timer should buffer the event and send it upon reconnection":
    "writes the official private field `engine._pingTimeoutTime` to fake a throttled timer " +
    "(ours: `#pingTimeoutTime`, checked on write the same way)",
  "retry should preserve the order of the packets":
    "reads the official private field `socket._queue` (ours: `#queue`)",
};

/** Why `test/webtransport.mjs` of the engine.io-client suite is not run. */
export const WEBTRANSPORT_REASON =
  "test/webtransport.mjs starts the official engine.io server itself (over HTTP/3) and tests " +
  "the client against it, so it measures nothing of ours; our engine has no WebTransport";

/** engine.io-client suite, official client against our engine. */
export const ENGINE_CLIENT_NOT_APPLICABLE: NotApplicable = {};

/** Reads the private `hostname` / `port` of the official `Socket`. */
const PRIVATE_HOST_PORT =
  "reads the official private fields `hostname` / `port` of `Socket` (ours keeps them in `opts`)";

/** Builds transports from engine.io-client's `transports` export. */
const TRANSPORTS_MAP =
  "builds transports from engine.io-client's `transports` map (classes by name): our client " +
  "publishes `Engine` and `Transport` only, its polling and WebSocket classes are internal";

/** Passes the official transport classes. */
const CUSTOM_TRANSPORT =
  "passes the official `NodeXHR` / `NodeWebSocket` transport classes in `transports`; our " +
  "client exports no transport classes and takes transport names";

/**
 * engine.io-client suite, our client's engine against our engine: our client mirrors
 * socket.io-client and publishes its Engine.IO socket as `Engine`, not the rest of the
 * engine.io-client package, so tests of that package's other exports and internals are listed.
 */
export const ENGINE_CLIENT_OURS_NOT_APPLICABLE: NotApplicable = {
  "engine.io-client should properly parse http uri without port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse https uri without port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse wss uri without port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse wss uri with port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse a host without port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse a host with port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 uri without port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 uri with port": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 host without port (1/2)": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 host without port (2/2)": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 host without brace": PRIVATE_HOST_PORT,
  "engine.io-client should properly parse an IPv6 host with port": PRIVATE_HOST_PORT,
  "engine.io-client should properly handle the addTrailingSlash option": PRIVATE_HOST_PORT,
  "engine.io-client should generate a random string":
    "calls `randomString()` of the official internal module `build/cjs/util.js`",
  "cookie parsing should parse a simple set-cookie header":
    "calls `parse()` of the official internal module `build/cjs/globals.node.js`",
  "cookie parsing should parse a complex set-cookie header":
    "calls `parse()` of the official internal module `build/cjs/globals.node.js`",
  "cookie parsing should parse a weird but valid cookie":
    "calls `parse()` of the official internal module `build/cjs/globals.node.js`",
  "Socket should connect with a custom transport implementation (polling)": CUSTOM_TRANSPORT,
  "Socket should connect with a custom transport implementation (websocket)": CUSTOM_TRANSPORT,
  "Socket filterUpgrades should return only available transports":
    "calls the official private method `socket._filterUpgrades()`",
  "Socket throttled timer checks the state of the timer":
    "calls the official private `socket._hasPingExpired()` and writes `_pingTimeoutTime` (ours: `#pingTimeoutTime`)",
  "Transport public constructors should include Polling and WebSocket": TRANSPORTS_MAP,
  "Transport transport uris should generate an http uri": TRANSPORTS_MAP,
  "Transport transport uris should generate an http uri w/o a port": TRANSPORTS_MAP,
  "Transport transport uris should generate an http uri with a port": TRANSPORTS_MAP,
  "Transport transport uris should generate an https uri w/o a port": TRANSPORTS_MAP,
  "Transport transport uris should generate an https uri w/o a port (string)": TRANSPORTS_MAP,
  "Transport transport uris should generate an https uri with a port": TRANSPORTS_MAP,
  "Transport transport uris should generate a timestamped uri": TRANSPORTS_MAP,
  "Transport transport uris should generate an ipv6 uri": TRANSPORTS_MAP,
  "Transport transport uris should generate an ipv6 uri with port": TRANSPORTS_MAP,
  "Transport transport uris should generate a ws uri": TRANSPORTS_MAP,
  "Transport transport uris should generate a wss uri": TRANSPORTS_MAP,
  "Transport transport uris should generate a ws ipv6 uri": TRANSPORTS_MAP,
  "Transport transport uris should generate a ws ipv6 uri with port": TRANSPORTS_MAP,
  "Transport transport uris should timestamp ws uris": TRANSPORTS_MAP,
  "Transport options for extraHeaders should correctly set them for WebSockets": TRANSPORTS_MAP,
  "Transport options for extraHeaders should correctly set them for XMLHttpRequest": TRANSPORTS_MAP,
  "parseuri should parse an uri":
    "calls `parse` of engine.io-client's package surface; our URL parser is internal to the client",
};
