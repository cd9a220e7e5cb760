/**
 * A reconnect storm against admission control: `clients` raw clients make their polling
 * handshake at once (as after a restart), at most `concurrency` requests in flight, against our
 * Socket.IO server with `maxClients: clients` and `handshakeRate.perServer` of `perSecond`
 * handshakes a second. Each client is admitted, or told by a `503` when to come back
 * (`Retry-After`) and comes back then, until it is in. Prints what happened.
 *
 * In real time, clients refused during the storm come back while others still arrive for the
 * first time, and those may take the tokens the server foresaw for them (nothing tells a client
 * that comes back from a new one): some are refused a second time, and sent further on. With
 * `virtualTime`, the server's clock stands still while requests are answered and moves on to
 * the next `Retry-After` once every client waits: the storm as a whole, all at one instant, as
 * the rate's arithmetic sees it; there no client is refused twice.
 *
 * ```sh
 * deno run --allow-all scripts/admission_storm.ts            # 5,000 clients
 * deno run --allow-all scripts/admission_storm.ts --clients=20000 --per-second=2000
 * deno run --allow-all scripts/admission_storm.ts --virtual  # the server's clock stands still
 * ```
 *
 * `tests/hostile_admission_test.ts` runs it with 1,000 clients.
 *
 * @module
 */
import { Server } from "../mod.ts";

/** What a storm is. */
export interface StormOptions {
  /** Raw clients, each one handshake until admitted. */
  clients: number;
  /** Requests in flight at most (clients waiting out a `Retry-After` hold none). */
  concurrency: number;
  /** `handshakeRate.perServer`: handshakes a second. */
  perSecond: number;
  /**
   * Run the server on a clock that moves only when every client waits out a `Retry-After`
   * (default false: real time).
   */
  virtualTime?: boolean;
}

/** What a storm did. */
export interface StormReport {
  /** Clients admitted in the end. */
  admitted: number;
  /** `503` answers (with `Retry-After` and the Engine.IO error body). */
  refused: number;
  /** `503` answers to clients that had already waited out a `Retry-After`. */
  refusedAgain: number;
  /** The most requests one client made. */
  maxAttempts: number;
  /** Requests that failed (network errors, unreadable answers). */
  errors: number;
  /** The first such failure. */
  firstError?: string;
  /** Answers neither a handshake nor a well-formed `503`. */
  badAnswers: number;
  /** The first such answer. */
  firstBadAnswer?: string;
  /** `connection_error` events of the server for admission control. */
  serverRefusals: number;
  /** Sessions open on the server once every client is in. */
  openSessions: number;
  /** The limit that refused one handshake more, once all were in. */
  oneMore?: string;
  /** `Retry-After` values sent, in seconds, and how many times each. */
  retryAfter: Record<number, number>;
  /** Milliseconds from the first request until the last client was in. */
  ms: number;
  /** Milliseconds until every client had its first answer (admitted or told to come back). */
  firstAnswersMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs one storm against a server of its own, then closes it.
 *
 * @param opts the storm
 * @returns what happened
 */
export async function stormOnce(opts: StormOptions): Promise<StormReport> {
  const virtual = opts.virtualTime ?? false;
  // The virtual clock, and the clients waiting on it.
  let time = 1e12;
  let active = opts.clients;
  const waiters: Array<{ at: number; resume: () => void }> = [];
  const idle = () => {
    if (--active > 0 || waiters.length === 0) return;
    time = Math.min(...waiters.map((w) => w.at));
    for (const w of waiters.filter((w) => w.at <= time)) {
      waiters.splice(waiters.indexOf(w), 1);
      active++;
      w.resume();
    }
  };
  const wait = (ms: number) =>
    virtual
      ? new Promise<void>((resume) => {
        waiters.push({ at: time + ms, resume });
        idle();
      })
      : sleep(ms);

  const io = new Server({
    maxClients: opts.clients,
    handshakeRate: { perServer: { count: opts.perSecond, windowMs: 1000 } },
    scheduler: {
      now: virtual ? () => time : () => Date.now(),
      set: (fn, ms) => setTimeout(fn, ms),
      clear: (handle) => clearTimeout(handle as number),
    },
  });
  let serverRefusals = 0;
  let lastLimit: string | undefined;
  io.engine.on("connection_error", (e) => {
    if (e.context.name !== "SERVER_BUSY") return;
    serverRefusals++;
    lastLimit = e.context.limit as string;
  });
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, io.handler());
  const url = `http://127.0.0.1:${http.addr.port}/socket.io/?EIO=4&transport=polling`;
  const report: StormReport = {
    admitted: 0,
    refused: 0,
    refusedAgain: 0,
    maxAttempts: 0,
    errors: 0,
    badAnswers: 0,
    serverRefusals: 0,
    openSessions: 0,
    retryAfter: {},
    ms: 0,
    firstAnswersMs: 0,
  };

  // A counting semaphore for requests in flight.
  let inFlight = 0;
  const waiting: Array<() => void> = [];
  const acquire = async () => {
    while (inFlight >= opts.concurrency) await new Promise<void>((r) => waiting.push(r));
    inFlight++;
  };
  const release = () => {
    inFlight--;
    waiting.shift()?.();
  };

  const start = performance.now();
  let firstAnswers = 0;
  const client = async () => {
    try {
      await attempts();
    } finally {
      idle();
    }
  };
  const attempts = async () => {
    for (let attempt = 0;; attempt++) {
      report.maxAttempts = Math.max(report.maxAttempts, attempt + 1);
      await acquire();
      let status: number;
      let retryAfter: string | null;
      let body: string;
      try {
        const res = await fetch(url);
        status = res.status;
        retryAfter = res.headers.get("retry-after");
        body = await res.text();
      } catch (err) {
        report.errors++;
        report.firstError ??= String(err);
        return;
      } finally {
        release();
      }
      if (attempt === 0 && ++firstAnswers === opts.clients) {
        report.firstAnswersMs = Math.round(performance.now() - start);
      }
      if (status === 200 && body.startsWith("0{")) {
        report.admitted++;
        return;
      }
      const seconds = Number(retryAfter);
      if (
        status !== 503 || !Number.isInteger(seconds) || seconds < 1 ||
        body !== '{"code":6,"message":"Server busy"}'
      ) {
        report.badAnswers++;
        report.firstBadAnswer ??= `${status} Retry-After: ${retryAfter} ${body}`;
        return;
      }
      report.refused++;
      if (attempt > 0) report.refusedAgain++;
      report.retryAfter[seconds] = (report.retryAfter[seconds] ?? 0) + 1;
      await wait(seconds * 1000);
    }
  };
  try {
    await Promise.all(Array.from({ length: opts.clients }, client));
    report.ms = Math.round(performance.now() - start);
    report.openSessions = io.engine.clientsCount;
    const more = await fetch(url);
    await more.body?.cancel();
    if (more.status === 503) report.oneMore = lastLimit;
    report.serverRefusals = serverRefusals - (more.status === 503 ? 1 : 0);
  } finally {
    await io.close();
    await http.shutdown();
  }
  return report;
}

if (import.meta.main) {
  const arg = (name: string, fallback: number) => {
    const found = Deno.args.find((a) => a.startsWith(`--${name}=`));
    return found ? Number(found.slice(name.length + 3)) : fallback;
  };
  const opts: StormOptions = {
    clients: arg("clients", 5000),
    concurrency: arg("concurrency", 200),
    perSecond: arg("per-second", 1000),
    virtualTime: Deno.args.includes("--virtual"),
  };
  const rssBefore = Deno.memoryUsage().rss;
  const report = await stormOnce(opts);
  const rssAfter = Deno.memoryUsage().rss;
  console.log(JSON.stringify({ ...opts, ...report }, null, 2));
  console.log(
    `rss: ${(rssBefore / 2 ** 20).toFixed(0)} MB before, ${(rssAfter / 2 ** 20).toFixed(0)} MB ` +
      "after (sessions closed)",
  );
  const ok = report.errors === 0 && report.badAnswers === 0 &&
    report.admitted === opts.clients && (!opts.virtualTime || report.refusedAgain === 0);
  if (!ok) Deno.exit(1);
}
