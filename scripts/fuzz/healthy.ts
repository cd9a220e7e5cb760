/**
 * Healthy clients beside the fuzzer: official `socket.io-client` clients (long-polling,
 * WebSocket, and polling upgraded to WebSocket) that echo without pause, each echo awaited for
 * at most {@linkcode HANG_MS}. One not answered in time is a hang; a disconnect is a lost
 * session.
 *
 * @module
 */
import { io, type Socket } from "socket.io-client";
import { trackedTransports } from "../../tests/helpers/official_transports.ts";
import { closeClients } from "../../tests/helpers/socketio.ts";

/** How long an echo may take before it counts as a hang (ms). */
export const HANG_MS = 10_000;

/** What the healthy clients saw. */
export interface HealthReport {
  /** Echoes answered. */
  echoes: number;
  /** Echoes not answered within {@linkcode HANG_MS}. */
  hangs: number;
  /** Disconnects while the run went on. */
  disconnects: number;
  /** Round trips of the answered echoes, ms: median, 99th percentile, most. */
  p50: number;
  p99: number;
  max: number;
}

const MODES = [["polling"], ["websocket"], ["polling", "websocket"]] as const;

/** Connects the healthy clients; they echo until {@linkcode Healthy.stop}. */
export class Healthy {
  readonly #sockets: Socket[] = [];
  readonly #loops: Promise<void>[] = [];
  #running = true;
  #echoes = 0;
  #hangs = 0;
  #disconnects = 0;
  #latencies: number[] = [];

  private constructor() {}

  /** Connects one client per mode to `url` and starts their echoes. */
  static async start(url: string): Promise<Healthy> {
    const h = new Healthy();
    for (const transports of MODES) {
      const socket = io(url, {
        transports: trackedTransports([...transports]) as never,
        forceNew: true,
        reconnectionDelay: 100,
        auth: { healthy: true },
      });
      h.#sockets.push(socket);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("a healthy client did not connect")),
          HANG_MS,
        );
        socket.once("connect", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      socket.on("disconnect", () => {
        if (h.#running) h.#disconnects++;
      });
      h.#loops.push(h.#echo(socket));
    }
    return h;
  }

  async #echo(socket: Socket): Promise<void> {
    let n = 0;
    const payload = { text: "healthy", bytes: new Uint8Array([1, 2, 3]), n };
    while (this.#running) {
      const started = performance.now();
      payload.n = n++;
      try {
        const answer = await socket.timeout(HANG_MS).emitWithAck("echo", payload);
        if ((answer as { n?: number })?.n !== payload.n) throw new Error("wrong echo");
        this.#echoes++;
        this.#latencies.push(performance.now() - started);
        if (this.#latencies.length > 100_000) this.#latencies = this.#latencies.slice(-50_000);
      } catch {
        if (this.#running) this.#hangs++;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** What they saw so far. */
  report(): HealthReport {
    const sorted = [...this.#latencies].sort((a, b) => a - b);
    const at = (q: number) =>
      sorted.length ? Math.round(sorted[Math.floor(q * (sorted.length - 1))]) : 0;
    return {
      echoes: this.#echoes,
      hangs: this.#hangs,
      disconnects: this.#disconnects,
      p50: at(0.5),
      p99: at(0.99),
      max: at(1),
    };
  }

  /** Stops the echoes and closes the clients. */
  async stop(): Promise<HealthReport> {
    this.#running = false;
    await Promise.all(this.#loops);
    const report = this.report();
    await closeClients(this.#sockets);
    return report;
  }
}

/**
 * Whether a new client still gets in and is answered: one over WebSocket and one over polling,
 * each connecting and echoing within {@linkcode HANG_MS}.
 */
export async function acceptsNewClients(url: string): Promise<boolean> {
  const results = await Promise.all(
    MODES.slice(0, 2).map(async (transports) => {
      const socket = io(url, {
        transports: trackedTransports([...transports]) as never,
        forceNew: true,
        reconnection: false,
        timeout: HANG_MS,
      });
      try {
        const answer = await socket.timeout(HANG_MS).emitWithAck("echo", "still there?");
        return answer === "still there?";
      } catch {
        return false;
      } finally {
        await closeClients([socket]);
      }
    }),
  );
  return results.every(Boolean);
}
