/**
 * Engine.IO test fixtures: an engine served on a free port, and raw polling requests.
 *
 * @module
 */
import { type EngineOptions, Server } from "../../server/engine/mod.ts";
import type { CloseReason, EngineSocket } from "../../server/engine/mod.ts";
import { serve, type TestServer } from "./serve.ts";

/** An engine listening on 127.0.0.1. */
export interface EngineFixture {
  /** The engine. */
  engine: Server;
  /** The HTTP server. */
  http: TestServer;
  /** `http://127.0.0.1:<port>/engine.io/`. */
  base: string;
  /** `ws://127.0.0.1:<port>/engine.io/`. */
  wsBase: string;
  /** Closes the engine, then the HTTP server. */
  close(): Promise<void>;
}

/** Starts an engine with `opts` on a free port. */
export function startEngine(opts: Partial<EngineOptions> = {}): EngineFixture {
  const engine = new Server(opts);
  const http = serve(engine.handler());
  const base = `${http.origin}${engine.opts.path}`;
  return {
    engine,
    http,
    base,
    wsBase: base.replace(/^http/, "ws"),
    async close() {
      await engine.close();
      await http.close();
    },
  };
}

/** A response read whole. */
export interface Answer {
  /** The status code. */
  status: number;
  /** The headers. */
  headers: Headers;
  /** The body text. */
  body: string;
}

/** Fetches and reads the whole body. */
export async function request(url: string, init?: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** The URL of a polling request of session `sid`. */
export function pollingUrl(base: string, sid: string): string {
  return `${base}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
}

/** The handshake data of an open packet. */
export interface OpenData {
  sid: string;
  upgrades: string[];
  pingInterval: number;
  pingTimeout: number;
  maxPayload: number;
}

/** Runs a polling handshake; returns the sid and the parsed open packet. */
export async function handshake(
  base: string,
  query = "EIO=4&transport=polling",
): Promise<OpenData> {
  const { status, body } = await request(`${base}?${query}`);
  if (status !== 200 || body[0] !== "0") throw new Error(`bad handshake: ${status} ${body}`);
  return JSON.parse(body.slice(1));
}

/** Polls once and returns the body. */
export async function poll(base: string, sid: string): Promise<string> {
  const { status, body } = await request(pollingUrl(base, sid));
  if (status !== 200) throw new Error(`poll answered ${status}: ${body}`);
  return body;
}

/** POSTs a payload and returns the answer. */
export function post(base: string, sid: string, payload: BodyInit): Promise<Answer> {
  return request(pollingUrl(base, sid), { method: "POST", body: payload });
}

/** The next session the engine opens. */
export function nextConnection(engine: Server): Promise<EngineSocket> {
  return new Promise((resolve) => engine.once("connection", resolve));
}

/** Resolves with the reason and description of `socket`'s close event. */
export function closeOf(socket: EngineSocket): Promise<[CloseReason, string | undefined]> {
  return new Promise((resolve) => {
    socket.once("close", (reason, description) => resolve([reason, description]));
  });
}

/** The next message `socket` receives. */
export function nextMessage(socket: EngineSocket): Promise<string | Uint8Array> {
  return new Promise((resolve) => socket.once("message", resolve));
}

/** Waits `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
