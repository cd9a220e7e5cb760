/**
 * The official tests that do not apply to us, by the full title mocha gives them, each with
 * why: tests that read or drive an official internal (a private field, an internal method) or
 * that depend on how an official package is built inside. They are left out of the run. Every
 * other test must pass.
 *
 * @module
 */
import type { NotApplicable } from "./mocha.ts";

/** socket.io-client suite, official client against our server. */
export const CLIENT_NOT_APPLICABLE: NotApplicable = {};

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

/** engine.io-client suite, our client's engine against our engine. */
export const ENGINE_CLIENT_OURS_NOT_APPLICABLE: NotApplicable = {};
