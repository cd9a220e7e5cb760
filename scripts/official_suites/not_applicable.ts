/**
 * The official tests that do not apply to us, by the full title mocha gives them, each with
 * why: only tests that read or drive an official internal (a private field, an internal
 * method, the layout of an official package). Every other test must pass.
 *
 * @module
 */
import type { NotApplicable } from "./mocha.ts";

/** socket.io-client suite, official client against our server. */
export const CLIENT_NOT_APPLICABLE: NotApplicable = {};

/** socket.io-client suite, our client against our server. */
export const CLIENT_OURS_NOT_APPLICABLE: NotApplicable = {};

/** engine.io-client suite, official client against our engine. */
export const ENGINE_CLIENT_NOT_APPLICABLE: NotApplicable = {};

/** engine.io-client suite, our client's engine against our engine. */
export const ENGINE_CLIENT_OURS_NOT_APPLICABLE: NotApplicable = {};
