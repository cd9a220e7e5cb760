/**
 * The load scenarios, run by the generator process (load.ts) against one server. Each
 * warms up, then counts operations, latencies and the server's CPU over a fixed window.
 *
 * @module
 */
import { Histogram } from "./histogram.ts";
import { treeCpuUs, treeRssKiB } from "./proc.ts";
import { ackId, type PacketHandler, PollingClient, WsClient } from "./wire.ts";

/** What the orchestrator asks of one generator run. */
export interface LoadConfig {
  scenario: "acks" | "fanout" | "storm" | "polling" | "polling1";
  port: number;
  /** The server's pid: its process tree's CPU and memory are read from /proc. */
  pid: number;
  clients: number;
  /** Acks per client (acks, polling), broadcasts overall (fanout), handshakes (storm). */
  inflight: number;
  warmupMs: number;
  measureMs: number;
}

/** Raw counts of the measured window; the orchestrator derives rates and costs. */
export interface LoadResult {
  ops: number;
  seconds: number;
  /** Server CPU (user + system) during the window. */
  cpuUs: number;
  /** The generator's own CPU during the window: near 100% means it was the bottleneck. */
  loadCpuUs?: number;
  p50Ms?: number;
  p99Ms?: number;
  rssPerConnKiB?: number;
  /** Lost connections, failed handshakes or requests, abandoned broadcasts. */
  errors: number;
}

/** How long a handshake may take before a client counts as failed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts operations and latencies only between `begin` and `end`, so warm-up is left out. */
export class Meter {
  measuring = false;
  ops = 0;
  errors = 0;
  hist = new Histogram();
  #t0 = 0;
  #cpu0 = 0;
  #self0 = 0;
  constructor(readonly pid: number) {}

  begin(): void {
    this.ops = 0;
    this.hist = new Histogram();
    this.#cpu0 = treeCpuUs(this.pid);
    this.#self0 = treeCpuUs(Deno.pid);
    this.#t0 = performance.now();
    this.measuring = true;
  }

  end(): LoadResult {
    this.measuring = false;
    const seconds = (performance.now() - this.#t0) / 1000;
    return {
      ops: this.ops,
      seconds,
      cpuUs: treeCpuUs(this.pid) - this.#cpu0,
      loadCpuUs: treeCpuUs(Deno.pid) - this.#self0,
      p50Ms: this.hist.quantile(0.5),
      p99Ms: this.hist.quantile(0.99),
      errors: this.errors,
    };
  }
}

/** Opens `n` clients with at most `concurrency` handshakes under way; failures are counted. */
export async function connectMany<C>(
  n: number,
  concurrency: number,
  open: () => Promise<C>,
  meter?: Meter,
): Promise<C[]> {
  const out: C[] = [];
  let started = 0;
  let failed = 0;
  const worker = async () => {
    while (started < n) {
      started++;
      const t = performance.now();
      try {
        out.push(await open());
        if (meter?.measuring) {
          meter.ops++;
          meter.hist.record(performance.now() - t);
        }
      } catch (err) {
        if (++failed === 1) console.error(`handshake failed: ${err}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  if (meter) meter.errors += failed;
  else if (failed > 0) throw new Error(`${failed} of ${n} handshakes failed`);
  return out;
}

interface Sender {
  send(packet: string): void;
  onPacket: PacketHandler;
}

/** Keeps `inflight` echo acks under way on each client: a new one leaves as each returns. */
function driveAcks(clients: Sender[], inflight: number, meter: Meter): () => void {
  let stopped = false;
  for (const c of clients) {
    // Ack ids grow per client and at most `inflight` are under way: a small ring suffices.
    const sentAt = new Float64Array(64);
    let next = 0;
    const fire = () => {
      const id = next++;
      sentAt[id & 63] = performance.now();
      c.send(`42${id}["echo",{"n":${id},"text":"hello"}]`);
    };
    c.onPacket = (p) => {
      if (p[1] !== "3") return;
      if (meter.measuring) {
        meter.ops++;
        meter.hist.record(performance.now() - sentAt[ackId(p) & 63]);
      }
      if (!stopped) fire();
    };
    for (let i = 0; i < Math.min(inflight, 32); i++) fire();
  }
  return () => stopped = true;
}

/** Warms up, then measures one window. */
export async function measureWindow(
  meter: Meter,
  cfg: Pick<LoadConfig, "warmupMs" | "measureMs">,
): Promise<LoadResult> {
  await delay(cfg.warmupMs);
  meter.begin();
  await delay(cfg.measureMs);
  return meter.end();
}

/** (1) Ack round trips over WebSocket. */
async function acks(cfg: LoadConfig): Promise<LoadResult> {
  const meter = new Meter(cfg.pid);
  const clients = await connectMany(
    cfg.clients,
    50,
    () => WsClient.connect(cfg.port, HANDSHAKE_TIMEOUT_MS),
  );
  const stop = driveAcks(clients, cfg.inflight, meter);
  const result = await measureWindow(meter, cfg);
  stop();
  result.errors += clients.filter((c) => c.isClosed).length;
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

/**
 * (4) Ack round trips over long-polling: `polling` with several acks in flight per session (they
 * batch into shared POSTs and polls), `polling1` with one, so that each ack costs one POST and one
 * held GET, as a polling client that waits for each answer talks.
 */
async function polling(cfg: LoadConfig): Promise<LoadResult> {
  const meter = new Meter(cfg.pid);
  const clients = await connectMany(
    cfg.clients,
    10,
    () => PollingClient.connect(cfg.port, HANDSHAKE_TIMEOUT_MS),
  );
  const stop = driveAcks(clients, cfg.inflight, meter);
  const result = await measureWindow(meter, cfg);
  stop();
  result.errors += clients.reduce((n, c) => n + c.errors, 0);
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

/** (2) Fan-out: `inflight` broadcasts under way, each sent by the next client in turn. */
async function fanout(cfg: LoadConfig): Promise<LoadResult> {
  const meter = new Meter(cfg.pid);
  const clients = await connectMany(
    cfg.clients,
    100,
    () => WsClient.connect(cfg.port, HANDSHAKE_TIMEOUT_MS),
  );
  const n = clients.length;
  const RING = 1024;
  const sentAt = new Float64Array(RING);
  const remaining = new Int32Array(RING);
  const underWay = new Set<number>();
  let next = 0;
  let stopped = false;
  const launch = () => {
    const k = next++;
    sentAt[k % RING] = performance.now();
    remaining[k % RING] = n;
    underWay.add(k);
    clients[k % n].send(`42["broadcast",{"k":${k},"text":"hello everyone"}]`);
  };
  const done = (k: number) => {
    underWay.delete(k);
    if (!stopped) launch();
  };
  const onPacket = (p: string) => {
    // 42["bcast",{"k":123,...}]: the broadcast's number, without a full JSON parse.
    const i = p.indexOf('"k":');
    if (i === -1) return;
    const k = parseInt(p.slice(i + 4, i + 16), 10);
    if (!underWay.has(k)) return; // abandoned by the watchdog
    const slot = k % RING;
    if (meter.measuring) {
      meter.ops++;
      meter.hist.record(performance.now() - sentAt[slot]);
    }
    if (--remaining[slot] === 0) done(k);
  };
  for (const c of clients) c.onPacket = onPacket;
  // A broadcast some client never receives would hold its slot forever: give up after 5 s.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const k of underWay) {
      if (now - sentAt[k % RING] > 5000) {
        meter.errors++;
        done(k);
      }
    }
  }, 500);
  for (let i = 0; i < cfg.inflight; i++) launch();
  const result = await measureWindow(meter, cfg);
  stopped = true;
  clearInterval(watchdog);
  result.errors += clients.filter((c) => c.isClosed).length;
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

/** Collects the server's garbage (every fixture does on SIGUSR2), then reads its memory. */
async function settledRssKiB(pid: number): Promise<number> {
  Deno.kill(pid, "SIGUSR2");
  await delay(300);
  return treeRssKiB(pid);
}

/** (3) Connect storm, then the memory each idle connection holds. */
async function storm(cfg: LoadConfig): Promise<LoadResult> {
  const meter = new Meter(cfg.pid);
  const open = () => WsClient.connect(cfg.port, HANDSHAKE_TIMEOUT_MS);
  // Warm-up: a tenth of the storm, closed again, so that the JIT and the heap have settled.
  const warm = await connectMany(Math.ceil(cfg.clients / 10), cfg.inflight, open);
  await Promise.all(warm.map((c) => c.close()));
  await delay(cfg.warmupMs);
  const rss0 = await settledRssKiB(cfg.pid);
  meter.begin();
  const clients = await connectMany(cfg.clients, cfg.inflight, open, meter);
  const result = meter.end();
  // Idle: let the server finish whatever the handshakes queued before reading its memory.
  await delay(cfg.measureMs);
  result.rssPerConnKiB = (await settledRssKiB(cfg.pid) - rss0) / Math.max(1, clients.length);
  result.errors += clients.filter((c) => c.isClosed).length;
  await Promise.all(clients.map((c) => c.close()));
  return result;
}

/** Runs one scenario. */
export function runScenario(cfg: LoadConfig): Promise<LoadResult> {
  switch (cfg.scenario) {
    case "acks":
      return acks(cfg);
    case "fanout":
      return fanout(cfg);
    case "storm":
      return storm(cfg);
    case "polling":
    case "polling1":
      return polling(cfg);
  }
}
