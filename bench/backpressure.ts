/**
 * Slow consumers and memory (issue 14, backpressure): 200 healthy clients and 50 that stop
 * reading (bare TCP WebSockets that joined, then read nothing, posting a pong now and then) get
 * the same broadcasts of 1 KB, paced by the healthy ones (each burst of 100 once every healthy
 * client got the one before). The server's RSS (its process tree's VmRSS) is read once everyone
 * joined, sampled every 100 ms for its peak, and read again after the slow clients are reset and
 * the server collected its garbage; with `maxBufferedBytes` at its default (4 MB) and with none
 * (`Infinity`, as the official server), on Deno and on Bun.
 *
 * Usage: `deno run -A bench/backpressure.ts [--broadcasts=16000] [--runtimes=deno,bun]`
 * (about a minute per run at 16,000 broadcasts on 2 cores).
 *
 * @module
 */
import { bunPath, ensureBenchPackages } from "./server/install.ts";
import { treeRssKiB } from "./server/proc.ts";
import { WsClient } from "./server/wire.ts";

const HEALTHY = 200;
const SLOW = 50;
const BURST = 100;
const SIZE = 1024;
/** A run that takes longer than this is stopped (a safety net). */
const RUN_TIMEOUT = 300_000;

function arg(name: string, fallback: string): string {
  const a = Deno.args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
}

const BROADCASTS = Number(arg("broadcasts", "16000"));
const RUNTIMES = arg("runtimes", "deno,bun").split(",");
const FIXTURE = new URL("./server/fixtures/slow_consumers.ts", import.meta.url).pathname;

/** What one run measured. */
interface Result {
  runtime: string;
  limit: string;
  beforeMiB: number;
  peakMiB: number;
  afterMiB: number;
  reasons: Record<string, number>;
  seconds: number;
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A masked client text frame (payloads under 126 bytes). */
function frame(text: string): Uint8Array {
  const payload = new TextEncoder().encode(text);
  const out = new Uint8Array(6 + payload.length);
  out[0] = 0x81;
  out[1] = 0x80 | payload.length;
  const mask = crypto.getRandomValues(new Uint8Array(4));
  out.set(mask, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i] ^ mask[i & 3];
  return out;
}

/** A client that upgrades, joins, and never reads a byte. */
async function slowClient(port: number): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const key = btoa("0123456789abcdef");
  await conn.write(
    new TextEncoder().encode(
      `GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
        "Sec-WebSocket-Version: 13\r\n\r\n",
    ),
  );
  await conn.write(frame("40"));
  return conn;
}

/** Acks of the driver's requests, by id. */
class Driver {
  #next = 0;
  #pending = new Map<number, (args: unknown[]) => void>();
  constructor(readonly client: WsClient) {}

  request(event: string, ...args: unknown[]): Promise<unknown[]> {
    const id = this.#next++;
    this.client.send(`42${id}${JSON.stringify([event, ...args])}`);
    return new Promise((resolve) => this.#pending.set(id, resolve));
  }

  /** Handles an ack packet (`43<id>[...]`). */
  ack(packet: string): void {
    const open = packet.indexOf("[");
    const id = Number(packet.slice(2, open));
    this.#pending.get(id)?.(JSON.parse(packet.slice(open)));
    this.#pending.delete(id);
  }
}

async function run(runtime: string, limit: string): Promise<Result> {
  const port = freePort();
  const cmd = runtime === "bun"
    ? [bunPath(), "run", FIXTURE]
    : [Deno.execPath(), "run", "-A", "--v8-flags=--expose-gc", FIXTURE];
  const child = new Deno.Command(cmd[0], {
    args: cmd.slice(1),
    env: { PORT: String(port), MAX_BUFFERED: limit },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready")) {
    const { done, value } = await lines.read();
    if (done) throw new Error(`${runtime} fixture exited: ${out}`);
    out += value;
  }
  const stdoutDone = (async () => {
    while (!(await lines.read()).done) { /* drain */ }
  })();
  const started = performance.now();
  const gcRss = async () => {
    child.kill("SIGUSR2");
    await delay(2000);
    return treeRssKiB(child.pid) / 1024;
  };

  // Healthy clients: each counts the broadcasts up to the one a burst waits for.
  let target = -1;
  let reached = 0;
  let onReached = () => {};
  const healthy: WsClient[] = [];
  for (let i = 0; i < HEALTHY; i += 20) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(20, HEALTHY - i) }, () => WsClient.connect(port, 10_000)),
    );
    healthy.push(...batch);
  }
  const driver = new Driver(healthy[0]);
  for (const c of healthy) {
    c.onPacket = (p) => {
      if (p.startsWith('42["b",')) {
        if (Number(p.slice(7, p.indexOf(",", 7))) === target && ++reached === HEALTHY) {
          onReached();
        }
      } else if (p.startsWith("43")) driver.ack(p);
    };
  }
  const slow = await Promise.all(Array.from({ length: SLOW }, () => slowClient(port)));
  const pong = frame("3");
  const pongs = setInterval(() => {
    for (const conn of slow) conn.write(pong).catch(() => {});
  }, 5000);
  // Everyone joined: the server counts no disconnect yet and holds all sessions.
  await delay(1000);
  const beforeMiB = await gcRss();

  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, treeRssKiB(child.pid))), 100);
  for (let sent = 0; sent < BROADCASTS; sent += BURST) {
    const got = new Promise<void>((resolve) => (onReached = resolve));
    reached = 0;
    target = sent + BURST - 1;
    const [next] = await driver.request("burst", BURST, SIZE) as [number];
    if (next !== sent + BURST) throw new Error(`unexpected sequence ${next}`);
    await got;
  }
  clearInterval(sampler);
  peak = Math.max(peak, treeRssKiB(child.pid));

  // The slow clients reset (closed with unread data), then the server settles.
  clearInterval(pongs);
  for (const conn of slow) conn.close();
  await delay(3000);
  const afterMiB = await gcRss();
  const [reasons] = await driver.request("stats") as [Record<string, number>];
  const seconds = (performance.now() - started) / 1000;

  await Promise.all(healthy.map((c) => c.close()));
  child.kill("SIGTERM");
  await child.status;
  await stdoutDone.catch(() => {});
  return { runtime, limit, beforeMiB, peakMiB: peak / 1024, afterMiB, reasons, seconds };
}

if (import.meta.main) {
  if (RUNTIMES.includes("bun")) await ensureBenchPackages();
  const results: Result[] = [];
  for (const runtime of RUNTIMES) {
    for (const limit of ["4e6", "Infinity"]) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${runtime} ${limit}: no result within ${RUN_TIMEOUT / 1000} s`)),
          RUN_TIMEOUT,
        );
      });
      const r = await Promise.race([run(runtime, limit), late]).finally(() => clearTimeout(timer));
      console.log(JSON.stringify(r));
      results.push(r);
    }
  }
  console.log(
    `\n${HEALTHY} healthy + ${SLOW} slow clients, ${BROADCASTS} broadcasts of ${SIZE} B\n` +
      "| server | maxBufferedBytes | RSS before (MiB) | peak | after | slow clients cut |\n" +
      "| --- | --- | ---: | ---: | ---: | ---: |",
  );
  for (const r of results) {
    console.log(
      `| socketio-edge, ${r.runtime} | ${r.limit === "4e6" ? "4 MB (default)" : "none"} | ` +
        `${r.beforeMiB.toFixed(0)} | ${r.peakMiB.toFixed(0)} | ${r.afterMiB.toFixed(0)} | ` +
        `${r.reasons["slow consumer"] ?? 0} |`,
    );
  }
}
