/**
 * Idle connections (issue 14): what an idle WebSocket connection costs a server process, in
 * memory and in heartbeat CPU, at several counts in one process so that the growth is seen to be
 * linear.
 *
 * One server per round (rounds interleave the servers), with `pingInterval` shortened to
 * {@linkcode IdleOptions.pingIntervalMs} for all. Warm-up: 500 clients join and are dropped.
 * Then RSS0 (its process tree's VmRSS after a forced full GC: the fixtures collect on
 * SIGUSR2). Then, for each count in turn, clients are added up to it (bare Node sockets,
 * idle_client.mjs, that answer pings and nothing else, spread over several client processes and
 * source addresses 127.0.0.2, ...), the server is left to settle, collected, and read:
 * RSS per connection = (RSS − RSS0) / N. Then the server's CPU over `heartbeatMs`, divided by
 * the pings the clients received in that window (each a ping out and a pong in): heartbeat CPU
 * per 1,000 connections per round.
 *
 * @module
 */
import { treeCpuUs, treeRssKiB } from "../server/proc.ts";
import { type FixturePaths, freePort, type ServerDef, startServer } from "../server/servers.ts";
import { ClientProcess, sourceAddresses } from "./clients.ts";

/** What {@linkcode runIdle} measures. */
export interface IdleOptions {
  /** The counts, ascending, reached in turn in one server process. */
  counts: number[];
  rounds: number;
  /** The servers, the first the baseline of the ratios. */
  servers: ServerDef[];
  paths: FixturePaths;
  /** The heartbeat's `pingInterval`, the same for every server. */
  pingIntervalMs: number;
  /** The window over which heartbeat CPU is read. */
  heartbeatMs: number;
  /** Clients per client process (each process is under its own open-files limit). */
  perProcess: number;
  /** Connections per source address (ephemeral ports of one address and destination). */
  perSource: number;
}

/** One count on one server in one round. */
export interface IdleReading {
  count: number;
  /** Clients joined (the count, unless handshakes failed). */
  joined: number;
  rssKiB: number;
  rss0KiB: number;
  /** Server CPU over the heartbeat window, and the pings the clients got in it. */
  cpuUs: number;
  pings: number;
  /** Clients the server closed during the run. */
  lost: number;
}

/** A server's readings of one round, or why it failed. */
export type IdleRound = IdleReading[] | string;

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Collects the server's garbage, waits for it to finish, then reads its memory. */
async function settledRssKiB(pid: number): Promise<number> {
  Deno.kill(pid, "SIGUSR2");
  await delay(1500);
  return treeRssKiB(pid);
}

async function oneServer(def: ServerDef, opts: IdleOptions): Promise<IdleReading[]> {
  const port = freePort();
  const max = opts.counts[opts.counts.length - 1];
  const sources = sourceAddresses(Math.max(2, Math.ceil(max / opts.perSource)));
  const server = await startServer(def, port, opts.paths, 30_000, {
    PING_INTERVAL: String(opts.pingIntervalMs),
  });
  const procs: ClientProcess[] = [];
  try {
    const warm = await ClientProcess.start(port, sources);
    await warm.open(500);
    await warm.stop();
    await delay(2000);
    const rss0 = await settledRssKiB(server.pid);
    const nProcs = Math.ceil(max / opts.perProcess);
    for (let i = 0; i < nProcs; i++) procs.push(await ClientProcess.start(port, sources));
    const readings: IdleReading[] = [];
    let have = 0;
    for (const count of opts.counts) {
      // Spread the new clients evenly over the processes.
      const add = count - have;
      const failed = await Promise.all(
        procs.map((p, i) => p.open(Math.floor(add / nProcs) + (i < add % nProcs ? 1 : 0))),
      );
      have = count;
      if (server.exited()) throw new Error(`server exited: ${server.log().slice(-300)}`);
      await delay(2000);
      const rss = await settledRssKiB(server.pid);
      const before = await Promise.all(procs.map((p) => p.stats()));
      const cpu0 = treeCpuUs(server.pid);
      await delay(opts.heartbeatMs);
      const cpu1 = treeCpuUs(server.pid);
      const after = await Promise.all(procs.map((p) => p.stats()));
      const sum = (xs: { pings: number }[]) => xs.reduce((n, x) => n + x.pings, 0);
      const reading: IdleReading = {
        count,
        joined: after.reduce((n, x) => n + x.open, 0),
        rssKiB: rss,
        rss0KiB: rss0,
        cpuUs: cpu1 - cpu0,
        pings: sum(after) - sum(before),
        lost: after.reduce((n, x) => n + x.lost, 0),
      };
      if (failed.some((f) => f > 0)) reading.lost += failed.reduce((a, b) => a + b, 0);
      readings.push(reading);
      console.error(`  ${def.key} ${count}: ${describe(reading)}`);
      if (reading.lost > 0) console.error(`  server log: ${server.log().slice(-600)}`);
    }
    return readings;
  } finally {
    await Promise.all(procs.map((p) => p.stop()));
    await server.stop();
  }
}

/** One line for the log. */
export function describe(r: IdleReading): string {
  const perConn = (r.rssKiB - r.rss0KiB) / Math.max(1, r.joined);
  const hb = r.pings > 0 ? (r.cpuUs / r.pings) * 1000 : NaN;
  return `joined ${r.joined} rss ${(r.rssKiB / 1024).toFixed(0)} MiB ` +
    `(${perConn.toFixed(2)} KiB/conn) heartbeat ${hb.toFixed(0)} µs per 1,000 conns per round ` +
    `(${r.pings} pings)${r.lost ? ` lost ${r.lost}` : ""}`;
}

/** Runs every server at every count, rounds interleaved; a failed round is a string. */
export async function runIdle(opts: IdleOptions): Promise<Map<string, IdleRound[]>> {
  const out = new Map<string, IdleRound[]>();
  for (let round = 1; round <= opts.rounds; round++) {
    for (const def of opts.servers) {
      console.error(`idle connections, ${def.key}, round ${round}`);
      let r: IdleRound;
      try {
        r = await oneServer(def, opts);
      } catch (err) {
        r = String(err);
        console.error(`  ${def.key}: ${r}`);
      }
      out.set(def.key, [...(out.get(def.key) ?? []), r]);
    }
  }
  return out;
}
