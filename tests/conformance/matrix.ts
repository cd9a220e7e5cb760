/**
 * The conformance matrix: every scenario (scenarios.ts) against one target (a runtime serving
 * app.ts), with each client (the official `socket.io-client@4.8.4` and ours) over each mode
 * (polling, websocket, upgrade). Each target's test file runs its server once, so the files can
 * run side by side (`deno test --parallel tests/conformance/`).
 *
 * Adding a target is one small file, `<runtime>_test.ts`, calling {@linkcode conformance} with
 * the runtime's name and a `start()` that serves app.ts (`new Server(OPTIONS)`, `setup(io)`) on
 * 127.0.0.1, port 0, and returns its URL and a `stop()` returning what the server printed (or a
 * string saying why the runtime cannot be had: the test prints `SKIPPED: <why>`). For a server
 * in a process of its own, {@linkcode serveProcess} runs a script that prints `PORT <n>` once
 * listening and exits when its stdin closes, such as serve/deno.ts, serve/bun.ts, serve/node.ts
 * (the serve line of each runtime, as a user writes it). `SCENARIO=<part of a name>` runs only
 * the scenarios whose names contain it.
 *
 * @module
 */
import assert from "node:assert/strict";
import { io as ourClient } from "../../client/mod.ts";
import { startServerProcess } from "../helpers/process.ts";
import {
  type ClientOptions,
  type ClientSocket,
  closeClients,
  connected,
  type Mode,
  MODES,
  officialClient,
  settle,
  upgraded,
  within,
} from "../helpers/socketio.ts";
import { SCENARIOS } from "./scenarios.ts";

/** The app, served by a target. */
export interface Served {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /**
   * Stops the server and returns what it printed (stdout and stderr); throws when it crashed,
   * exited non-zero or did not exit once asked.
   */
  stop(): Promise<string>;
  /** Whether the server still runs, where that can be known (false: it crashed). */
  running?(): boolean;
}

/** A runtime the app runs on. */
export interface Target {
  /** Its name in test names and failures, e.g. "Bun". */
  runtime: string;
  /** Starts the app; a string says why the runtime cannot be had here (the test is skipped). */
  start(): Promise<Served | string>;
}

/** The clients every scenario runs with. */
export const CLIENTS = {
  official: officialClient,
  // Ours mirrors the official API; the scenarios are typed against the official one.
  ours: ourClient as unknown as typeof officialClient,
} as const;

const WHOSE: Record<ClientKind, string> = { official: "the official", ours: "our" };

/** Which client a run uses. */
export type ClientKind = keyof typeof CLIENTS;

/** What a scenario gets: its own namespace, and clients of the run's kind and mode. */
export interface Run {
  /** The target's runtime. */
  readonly runtime: string;
  /** The transport mode of every client of the run. */
  readonly mode: Mode;
  /** The client of the run. */
  readonly client: ClientKind;
  /** The app's URL. */
  readonly url: string;
  /** This run's namespace, `/run-<n>`; `/run-<n>-<suffix>` are its too. */
  readonly nsp: string;
  /** A client of `nsp` (this run's by default), not waiting for it to connect. */
  open(nsp?: string, opts?: ClientOptions): ClientSocket;
  /** A connected client of `nsp` (and, in "upgrade" mode, upgraded to WebSocket). */
  connect(nsp?: string, opts?: ClientOptions): Promise<ClientSocket>;
  /** Tracks a socket made another way (`manager.socket(...)`), to close it at the end. */
  track(socket: ClientSocket): ClientSocket;
}

/** How long one scenario run may take before it fails (a safety net, not a timing). */
const RUN_BOUND = 20_000;

let runs = 0;

/** Transports of the official client for a mode. */
function transportsOf(mode: Mode): string[] {
  return mode === "polling"
    ? ["polling"]
    : mode === "websocket"
    ? ["websocket"]
    : ["polling", "websocket"];
}

/** Runs one scenario once; every client it opened is closed before it resolves. */
async function runOnce(
  scenario: (run: Run) => Promise<void>,
  runtime: string,
  url: string,
  mode: Mode,
  client: ClientKind,
): Promise<void> {
  const clients: ClientSocket[] = [];
  const io = CLIENTS[client];
  const run: Run = {
    runtime,
    mode,
    client,
    url,
    nsp: `/run-${++runs}`,
    open(nsp = run.nsp, opts = {}) {
      const socket = io(url + nsp, {
        transports: transportsOf(mode),
        forceNew: true,
        reconnection: false,
        ...opts,
      });
      clients.push(socket);
      return socket;
    },
    async connect(nsp, opts) {
      const socket = run.open(nsp, opts);
      await within(connected(socket), `connection to ${nsp ?? run.nsp}`);
      if (mode === "upgrade") await within(upgraded(socket), "upgrade to WebSocket");
      return socket;
    },
    track(socket) {
      clients.push(socket);
      return socket;
    },
  };
  try {
    await within(scenario(run), "end of the scenario", RUN_BOUND);
  } finally {
    await within(closeClients(clients), "close of every client");
    await settle();
  }
}

/**
 * One test for `target`: starts the app once, runs every scenario with every client over every
 * mode as a step (`<scenario> [<mode>, <client> client]`), then stops the app and checks what
 * it printed: exactly the errors the scenarios made it report, nothing else.
 */
export function conformance(target: Target): void {
  Deno.test(`conformance on ${target.runtime}`, async (t) => {
    const served = await target.start();
    if (typeof served === "string") {
      console.log(`SKIPPED: ${served}`);
      return;
    }
    const reports: string[] = [];
    let failed = 0;
    let stopped = false;
    try {
      // SCENARIO=<part of a name> runs only those, to look into one.
      const only = Deno.env.get("SCENARIO");
      scenarios: for (const scenario of SCENARIOS.filter((s) => !only || s.name.includes(only))) {
        for (const mode of scenario.modes ?? MODES) {
          for (const client of scenario.clients ?? Object.keys(CLIENTS) as ClientKind[]) {
            const label = `${scenario.name} [${mode}, ${WHOSE[client]} client]`;
            const ok = await t.step(label, async () => {
              try {
                await runOnce(scenario.run, target.runtime, served.url, mode, client);
              } catch (err) {
                const crashed = served.running?.() === false ? " (the server exited)" : "";
                throw new Error(
                  `${scenario.name}: on ${target.runtime}, over ${mode}, with ${WHOSE[client]} ` +
                    `client${crashed}: ${err instanceof Error ? err.message : String(err)}`,
                  { cause: err },
                );
              }
            });
            const expected = typeof scenario.reports === "function"
              ? scenario.reports(target.runtime, mode)
              : scenario.reports ?? [];
            if (ok) reports.push(...expected);
            else failed++;
            // Nothing more can pass: what it printed comes with the stop below.
            if (served.running?.() === false) break scenarios;
          }
        }
      }
      stopped = true;
      const out = await served.stop();
      // A failed run may or may not have reported: its own failure says enough.
      if (failed) return;
      // Each report is one "socketio-edge: uncaught" line; nothing else may say so.
      const uncaught = out.split("socketio-edge: uncaught").length - 1;
      assert.equal(uncaught, reports.length, `${target.runtime} reported:\n${out}`);
      for (const message of new Set(reports)) assert.match(out, new RegExp(message), out);
    } finally {
      if (!stopped) await served.stop().catch(() => {});
    }
  });
}

/**
 * Starts a target that is a process (`cmd args...`) printing `PORT <n>` once listening and
 * ending when its stdin closes.
 */
export async function serveProcess(cmd: string, args: string[]): Promise<Served> {
  const { url, stop, running } = await startServerProcess(cmd, args);
  return { url, running, stop: async () => ((r) => r.out + r.err)(await stop()) };
}
