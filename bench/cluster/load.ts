/**
 * The cluster bench's load generator, in a process of its own: clients split across the nodes
 * (client i on node i mod n; every other client of each node in "room"), broadcasts kept under
 * way, each sent by the next client in turn (so from every node), deliveries counted. Then,
 * with the nodes on Redis, a fixed number of broadcasts against the server's publish count.
 *
 *   deno run -A bench/cluster/load.ts '<ClusterLoadConfig as JSON>'
 *
 * Prints the {@linkcode ClusterLoadResult} as one JSON line (or `{"error":...}`), then exits.
 *
 * @module
 */
import { treeCpuUs } from "../server/proc.ts";
import { WsClient } from "../server/wire.ts";
import { publishCount } from "./redis_info.ts";

/** What the orchestrator asks of one run. */
export interface ClusterLoadConfig {
  /** "all": `io.emit`; "room": `io.to("room").emit` (half the clients are in it). */
  scenario: "all" | "room";
  /** The nodes' ports. */
  ports: number[];
  /** The server processes: their trees' CPU is read from /proc. */
  pids: number[];
  /** The redis-server, when the nodes share one: its CPU and publish count are read. */
  redis?: { port: number; pid: number };
  clients: number;
  /** Broadcasts under way at once. */
  inflight: number;
  warmupMs: number;
  measureMs: number;
  /** Broadcasts of the publish check (with `redis`). */
  checkBroadcasts: number;
}

/** Raw counts of the measured window. */
export interface ClusterLoadResult {
  /** Deliveries in the window. */
  ops: number;
  /** Broadcasts completed in the window. */
  broadcasts: number;
  seconds: number;
  /** CPU (user + system) of every node's process tree in the window. */
  cpuUs: number;
  /** The redis-server's CPU in the window. */
  redisCpuUs?: number;
  /** The generator's own CPU in the window. */
  loadCpuUs: number;
  /** Redis publishes per broadcast in the check (one is the goal). */
  publishesPerBroadcast?: number;
  /** Lost connections, abandoned broadcasts. */
  errors: number;
}

const HANDSHAKE_TIMEOUT_MS = 10_000;
const ABANDON_MS = 5_000;
const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function connectAll(cfg: ClusterLoadConfig): Promise<{ c: WsClient; inRoom: boolean }[]> {
  const out: { c: WsClient; inRoom: boolean }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cfg.clients) {
      const i = next++;
      const nodes = cfg.ports.length;
      const inRoom = Math.floor(i / nodes) % 2 === 0;
      const c = await WsClient.connect(
        cfg.ports[i % nodes],
        HANDSHAKE_TIMEOUT_MS,
        inRoom ? "&room=1" : "",
      );
      out.push({ c, inRoom });
    }
  };
  await Promise.all(Array.from({ length: Math.min(50, cfg.clients) }, worker));
  return out;
}

async function run(cfg: ClusterLoadConfig): Promise<ClusterLoadResult> {
  const all = await connectAll(cfg);
  // Joins happen in the connection handler: let every node finish them.
  await delay(300);
  const clients = all.map((x) => x.c);
  const receivers = cfg.scenario === "all" ? all.length : all.filter((x) => x.inRoom).length;
  const event = cfg.scenario === "all" ? "broadcast" : "room";
  const RING = 1024;
  const sentAt = new Float64Array(RING);
  const remaining = new Int32Array(RING);
  const underWay = new Set<number>();
  let next = 0;
  let launching = true;
  let budget = Infinity; // broadcasts still to launch (the check sets it)
  let measuring = false;
  let ops = 0;
  let broadcasts = 0;
  let errors = 0;
  let drained = () => {};
  const launch = () => {
    if (!launching || budget <= 0) return;
    budget--;
    const k = next++;
    sentAt[k % RING] = performance.now();
    remaining[k % RING] = receivers;
    underWay.add(k);
    clients[k % clients.length].send(`42["${event}",{"k":${k},"text":"hello everyone"}]`);
  };
  const done = (k: number) => {
    underWay.delete(k);
    if (measuring) broadcasts++;
    launch();
    if (underWay.size === 0) drained();
  };
  const onPacket = (p: string) => {
    const i = p.indexOf('"k":');
    if (i === -1) return;
    const k = parseInt(p.slice(i + 4, i + 16), 10);
    if (!underWay.has(k)) return;
    if (measuring) ops++;
    if (--remaining[k % RING] === 0) done(k);
  };
  for (const c of clients) c.onPacket = onPacket;
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const k of underWay) {
      if (now - sentAt[k % RING] > ABANDON_MS) {
        errors++;
        done(k);
      }
    }
  }, 500);
  const serverCpu = () => cfg.pids.reduce((sum, pid) => sum + treeCpuUs(pid), 0);
  const redisCpu = () => (cfg.redis ? treeCpuUs(cfg.redis.pid) : 0);
  /** Stops launching and waits until every broadcast under way arrived or was abandoned. */
  const drain = async () => {
    launching = false;
    if (underWay.size > 0) await new Promise<void>((r) => drained = r);
    drained = () => {};
  };

  try {
    for (let i = 0; i < cfg.inflight; i++) launch();
    await delay(cfg.warmupMs);
    const cpu0 = serverCpu();
    const redis0 = redisCpu();
    const self0 = treeCpuUs(Deno.pid);
    const t0 = performance.now();
    measuring = true;
    await delay(cfg.measureMs);
    measuring = false;
    const seconds = (performance.now() - t0) / 1000;
    const result: ClusterLoadResult = {
      ops,
      broadcasts,
      seconds,
      cpuUs: serverCpu() - cpu0,
      redisCpuUs: cfg.redis ? redisCpu() - redis0 : undefined,
      loadCpuUs: treeCpuUs(Deno.pid) - self0,
      errors: 0,
    };
    await drain();
    if (cfg.redis && cfg.checkBroadcasts > 0) {
      // Exactly N broadcasts, every one delivered: the publishes they cost.
      const before = await publishCount(cfg.redis.port);
      const errors0 = errors;
      launching = true;
      budget = cfg.checkBroadcasts;
      for (let i = 0; i < cfg.inflight; i++) launch();
      await new Promise<void>((r) => drained = r);
      const published = await publishCount(cfg.redis.port) - before;
      if (errors === errors0) result.publishesPerBroadcast = published / cfg.checkBroadcasts;
    }
    result.errors = errors + clients.filter((c) => c.isClosed).length;
    return result;
  } finally {
    clearInterval(watchdog);
    await Promise.all(clients.map((c) => c.close()));
  }
}

if (import.meta.main) {
  const cfg = JSON.parse(Deno.args[0]) as ClusterLoadConfig;
  const limit = 60_000 + cfg.warmupMs + 2 * cfg.measureMs;
  setTimeout(() => {
    console.log(JSON.stringify({ error: `generator gave up after ${limit} ms` }));
    Deno.exit(2);
  }, limit);
  try {
    console.log(JSON.stringify(await run(cfg)));
  } catch (err) {
    console.log(JSON.stringify({ error: String(err) }));
  }
  Deno.exit(0);
}
