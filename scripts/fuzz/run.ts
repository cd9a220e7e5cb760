/**
 * A fuzz run: scenarios made from one seed are played against a server by a few concurrent
 * workers while healthy clients echo, until the count of inputs or the time limit is reached.
 * It passes with no crash (the process alive, nothing reported: no error escaping the library,
 * no unhandled rejection, no handler failure, no answer of 500 or more), no hang of a healthy
 * client, and a server that still accepts new clients at the end.
 *
 * What failed comes with its suspects: the scenarios in flight or just played when it was seen.
 * {@linkcode pinpoint} plays them one at a time on a fresh server to find the one to keep.
 *
 * @module
 */
import { acceptsNewClients, type HealthReport, Healthy } from "./healthy.ts";
import { inputCount, makeScenario, type Scenario } from "./inputs.ts";
import { play } from "./play.ts";
import { inputSeed } from "./prng.ts";
import { type Runtime, startTarget, type Target } from "./targets.ts";
import type { FuzzStats } from "./app.ts";

/** How a run goes. */
export interface FuzzOptions {
  /** The server's runtime. */
  runtime: Runtime;
  /** The seed of every scenario. */
  seed: number;
  /** Inputs to send (requests and frames). */
  count: number;
  /** Stops earlier after this long (ms). */
  timeLimitMs: number;
  /** Scenarios played at once. */
  concurrency: number;
  /** Progress lines go here. */
  log?: (line: string) => void;
  /** A progress line this often (ms); 0 for none. */
  progressMs?: number;
}

/** Something that went wrong, with the scenarios that may have caused it. */
export interface Failure {
  /** `crash` (the process ended), `reported` (errors, rejections, handler failures), `5xx`. */
  kind: "crash" | "reported" | "5xx";
  /** What was seen. */
  messages: string[];
  /** Indices of the scenarios in flight or just played. */
  suspects: number[];
}

/** The outcome of a run. */
export interface FuzzReport {
  runtime: Runtime;
  seed: number;
  inputs: number;
  scenarios: number;
  seconds: number;
  inputsPerSecond: number;
  failures: Failure[];
  health: HealthReport;
  acceptsNewClients: boolean;
  /** The server's resident set size in MB: when the run started, its peak, and at the end. */
  rss: { start: number; peak: number; end: number };
  passed: boolean;
}

const MB = 1024 * 1024;

/** Runs the fuzzer once. */
export async function fuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const log = opts.log ?? (() => {});
  let target = await startTarget(opts.runtime);
  let url = `http://127.0.0.1:${target.port}`;
  let healthy = await Healthy.start(url);
  const first = await target.stats();
  const rss = { start: mb(first?.rss), peak: mb(first?.rss), end: 0 };
  const failures: Failure[] = [];
  const health: HealthReport[] = [];
  let seen = counts(first);
  let messagesSeen = first?.messages.length ?? 0;

  const started = Date.now();
  const deadline = started + opts.timeLimitMs;
  let next = 0;
  let inputs = 0;
  let stopping = false;
  let restarting: Promise<void> | undefined;
  const inFlight = new Set<number>();
  const recent: number[] = [];
  const suspects = () => [...new Set([...inFlight, ...recent])].sort((a, b) => a - b);

  const worker = async () => {
    while (!stopping && inputs < opts.count && Date.now() < deadline) {
      if (restarting) await restarting;
      const index = next++;
      const scenario = makeScenario(inputSeed(opts.seed, index));
      inputs += inputCount(scenario);
      inFlight.add(index);
      try {
        const result = await play(target.port, scenario);
        if (result.serverErrors.length) {
          failures.push({ kind: "5xx", messages: result.serverErrors, suspects: [index] });
        }
      } catch (err) {
        log(`scenario ${index}: the fuzzer failed: ${err instanceof Error ? err.stack : err}`);
      }
      if (target.local) {
        // In this process the server's counts are read at once: the suspects are this scenario
        // and those in flight with it.
        noteReported(await target.stats(), [...inFlight].sort((a, b) => a - b));
        inFlight.delete(index);
      } else {
        inFlight.delete(index);
        recent.push(index);
      }
    }
  };

  // Something new was reported: a failure, whose suspects are those given.
  const noteReported = (st: FuzzStats | undefined, suspects: number[]) => {
    if (!st || counts(st) === seen) return;
    const messages = st.messages.slice(messagesSeen).map((m) => tail(m, 1200));
    failures.push({ kind: "reported", messages, suspects });
    log(`reported: ${messages.map((m) => m.split("\n")[0]).join(" | ")}`);
    seen = counts(st);
    messagesSeen = st.messages.length;
  };

  // Watches the server once a second: alive, what it reported, its memory.
  let lastProgress = started;
  const watch = async () => {
    while (!stopping) {
      await sleep(1000);
      if (stopping) break;
      if (!target.alive()) {
        const err = await target.stop();
        failures.push({ kind: "crash", messages: [tail(err)], suspects: suspects() });
        log(`the ${opts.runtime} server died; suspects ${suspects().join(", ")}; restarting`);
        let done!: () => void;
        restarting = new Promise((r) => (done = r));
        health.push(await healthy.stop());
        target = await startTarget(opts.runtime);
        url = `http://127.0.0.1:${target.port}`;
        healthy = await Healthy.start(url);
        const fresh = await target.stats();
        seen = counts(fresh);
        messagesSeen = fresh?.messages.length ?? 0;
        restarting = undefined;
        done();
        continue;
      }
      const st = await target.stats();
      if (st) {
        rss.peak = Math.max(rss.peak, mb(st.rss));
        noteReported(st, suspects());
      }
      // Read once a second: the suspects are those played since, and those in flight.
      recent.length = 0;
      if (opts.progressMs && Date.now() - lastProgress >= opts.progressMs) {
        lastProgress = Date.now();
        const secs = (Date.now() - started) / 1000;
        const h = healthy.report();
        log(
          `${opts.runtime} ${inputs} inputs in ${secs.toFixed(0)} s (${
            Math.round(inputs / secs)
          }/s), ` +
            `rss ${mb(st?.rss)} MB, sessions ${st?.sessions}, ${st?.connections} sockets, ` +
            `${st?.events} events, failures ${failures.length}, ` +
            `healthy ${h.echoes} echoes p99 ${h.p99} ms max ${h.max} ms, ${h.hangs} hangs, ` +
            `${h.disconnects} disconnects`,
        );
      }
    }
  };

  const watching = watch();
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  // What was sent last has its chance to fail before the end is read.
  await sleep(1500);
  stopping = true;
  await watching;
  health.push(await healthy.stop());
  const accepts = target.alive() && await acceptsNewClients(url);
  const last = await target.stats();
  rss.end = mb(last?.rss);
  rss.peak = Math.max(rss.peak, rss.end);
  if (last && counts(last) !== seen) {
    failures.push({
      kind: "reported",
      messages: last.messages.slice(messagesSeen).map((m) => tail(m, 1200)),
      suspects: suspects(),
    });
  }
  if (!target.alive()) {
    failures.push({ kind: "crash", messages: [tail(await target.stop())], suspects: suspects() });
  } else await target.stop();

  const h = mergeHealth(health);
  return {
    runtime: opts.runtime,
    seed: opts.seed,
    inputs,
    scenarios: next,
    seconds: Math.round(seconds),
    inputsPerSecond: Math.round(inputs / seconds),
    failures,
    health: h,
    acceptsNewClients: accepts,
    rss,
    passed: failures.length === 0 && h.hangs === 0 && h.disconnects === 0 && accepts,
  };
}

/** What a played scenario did to the server, alone on a fresh one. */
export interface Pinned {
  index: number;
  /** Whether it failed alone. */
  failed: boolean;
  messages: string[];
  scenario: Scenario;
}

/**
 * Plays each suspect alone on a fresh server (waiting `settleMs` after each for what it set
 * off): which of them fail by themselves.
 */
export async function pinpoint(
  runtime: Runtime,
  seed: number,
  suspects: readonly number[],
  settleMs = 1500,
): Promise<Pinned[]> {
  const out: Pinned[] = [];
  let target: Target = await startTarget(runtime);
  for (const index of suspects) {
    const scenario = makeScenario(inputSeed(seed, index));
    out.push({ index, scenario, ...await playAlone(target, scenario, settleMs) });
    if (!target.alive()) {
      await target.stop();
      target = await startTarget(runtime);
    }
  }
  await target.stop();
  return out;
}

/** Plays `scenario` on `target` and tells whether it failed (reported, crashed, 500). */
export async function playAlone(
  target: Target,
  scenario: Scenario,
  settleMs = 1500,
): Promise<{ failed: boolean; messages: string[] }> {
  const before = await target.stats();
  const result = await play(target.port, scenario).catch((err) => ({
    serverErrors: [`the fuzzer failed: ${err}`],
  }));
  await sleep(settleMs);
  if (!target.alive()) {
    return { failed: true, messages: ["the server died", ...result.serverErrors] };
  }
  const after = await target.stats();
  const reported = after ? after.messages.slice(before?.messages.length ?? 0) : ["no stats"];
  const failed = result.serverErrors.length > 0 || counts(after) !== counts(before);
  return { failed, messages: [...result.serverErrors, ...reported] };
}

function counts(st: FuzzStats | undefined): string {
  return st ? `${st.errors}/${st.rejections}/${st.handlerFailures}` : "?";
}

function mergeHealth(list: HealthReport[]): HealthReport {
  const sum = (k: "echoes" | "hangs" | "disconnects") => list.reduce((n, h) => n + h[k], 0);
  const most = (k: "p50" | "p99" | "max") => list.reduce((n, h) => Math.max(n, h[k]), 0);
  return {
    echoes: sum("echoes"),
    hangs: sum("hangs"),
    disconnects: sum("disconnects"),
    p50: most("p50"),
    p99: most("p99"),
    max: most("max"),
  };
}

function mb(bytes: number | undefined): number {
  return bytes === undefined ? 0 : Math.round(bytes / MB);
}

function tail(text: string, max = 2000): string {
  return text.length > max ? text.slice(0, max) + "..." : text;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
