/**
 * The servers under test and their life cycle: each fixture is a child process that takes PORT
 * from its environment, prints "ready" once listening, and collects its garbage on SIGUSR2
 * (so that the connect storm reads memory without the garbage of its warm-up).
 *
 * @module
 */
import type { NodeFixtures } from "./install.ts";
import { processTree } from "./proc.ts";
import { prepareWorkers, workersCommand } from "./workers.ts";

/** What the bench installed and built for the fixtures. */
export interface FixturePaths {
  /** The Bun binary. */
  bun: string;
  /** Our Node entry and the Node ceiling, built. */
  node: NodeFixtures;
}

/** One server under test. */
export interface ServerDef {
  key: string;
  label: string;
  /** Command and arguments, from what the bench installed and built. */
  command: (paths: FixturePaths) => string[];
  /** The scenarios it runs, when not all. */
  scenarios?: string[];
  /** Makes it ready to start (an install, a build); returns why it cannot run, if so. */
  prepare?: () => Promise<string | undefined>;
}

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

/** A fixture run by this Deno, with garbage collection exposed for the memory reading. */
const denoFixture = (name: string, ...args: string[]) => () => [
  Deno.execPath(),
  "run",
  "-A",
  "--no-prompt",
  "--v8-flags=--expose-gc",
  fixture(name),
  ...args,
];

/** In table order: the official server on Node first, as every ratio is taken against it. */
export const SERVERS: ServerDef[] = [
  {
    key: "official_node",
    label: "official, Node",
    command: () => ["node", "--expose-gc", fixture("official_node.mjs")],
  },
  {
    key: "official_bun",
    label: "official, Bun (bun-engine)",
    command: ({ bun }) => [bun, "run", fixture("official_bun.mjs")],
  },
  {
    key: "ours_deno",
    label: "socketio-edge, Deno",
    command: denoFixture("ours_deno.ts"),
  },
  {
    key: "ours_bun",
    label: "socketio-edge, Bun",
    command: ({ bun }) => [bun, "run", fixture("ours_bun.ts")],
  },
  {
    key: "raw_deno",
    label: "raw ceiling, Deno",
    command: denoFixture("raw_deno.ts"),
  },
  {
    key: "raw_json_deno",
    label: "raw ceiling + JSON, Deno",
    command: denoFixture("raw_deno.ts", "--json"),
    // Only where JSON is the difference: acks over WebSocket.
    scenarios: ["acks"],
  },
  {
    key: "raw_bun",
    label: "raw ceiling, Bun",
    command: ({ bun }) => [bun, "run", fixture("raw_bun.ts")],
  },
  {
    key: "ours_node",
    label: "socketio-edge, Node",
    command: ({ node }) => ["node", "--expose-gc", fixture("ours_node.mjs"), node.entry],
  },
  {
    key: "raw_node",
    label: "raw ceiling, Node (ws)",
    command: ({ node }) => ["node", "--expose-gc", node.raw],
  },
  {
    key: "ours_workers",
    label: "socketio-edge, Workers (local workerd)",
    command: () => workersCommand("ours"),
    // A Durable Object runs one thread: what matters there is acks and fan-out.
    scenarios: ["acks", "fanout"],
    prepare: prepareWorkers,
  },
  {
    key: "raw_workers",
    label: "raw ceiling, Workers",
    command: () => workersCommand("raw"),
    scenarios: ["acks", "fanout"],
    prepare: prepareWorkers,
  },
];

/**
 * Runs `argv` with the soft limit on open files raised to the hard one: 2,000 connections
 * need more than the common default of 1,024. `exec` keeps the pid the command's own.
 */
export function withFileLimit(argv: string[]): string[] {
  return ["sh", "-c", 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', ...argv];
}

/** A loopback port free right now; every server takes it in turn. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr as Deno.NetAddr;
  l.close();
  return port;
}

/**
 * Runs a load generator script in its own process with `cfg` as its argument, and gives the JSON
 * of its last stdout line; a failure (an `error` field, or no JSON) comes back as a string. The
 * generator bounds itself; `limitMs` only catches one that hangs regardless.
 */
export async function runGenerator<R>(
  script: string,
  cfg: unknown,
  limitMs: number,
): Promise<R | string> {
  const [cmd, ...args] = withFileLimit([Deno.execPath(), "run", "-A", script, JSON.stringify(cfg)]);
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(limitMs),
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  const last = text.slice(text.lastIndexOf("\n") + 1);
  try {
    const r = JSON.parse(last);
    return typeof r.error === "string" ? r.error : r as R;
  } catch {
    const err = new TextDecoder().decode(out.stderr).slice(-500);
    return `generator failed (${out.code}): ${last.slice(0, 200)} ${err}`;
  }
}

/** A running server. */
export interface Running {
  pid: number;
  /** Whether it has exited (crashed, when we did not stop it). */
  exited: () => boolean;
  /** Its output so far, stdout and stderr together (the tail, at most 64 KiB). */
  log: () => string;
  stop: () => Promise<void>;
}

/**
 * Starts `def` on `port`, with `env` added to its environment; resolves once it printed "ready",
 * rejects after `timeoutMs`.
 */
export async function startServer(
  def: ServerDef,
  port: number,
  paths: FixturePaths,
  timeoutMs = 30_000,
  env: Record<string, string> = {},
): Promise<Running> {
  const [cmd, ...args] = withFileLimit(def.command(paths));
  const child = new Deno.Command(cmd, {
    args,
    env: { ...env, PORT: String(port) },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let log = "";
  let exited = false;
  let onReady = () => {};
  const ready = new Promise<void>((r) => onReady = r);
  // Both pipes are drained until the end, or a chatty server would block on a full pipe.
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      log = (log + text).slice(-65_536);
      if (/^ready$/m.test(log)) onReady();
    }
  };
  const drained = Promise.all([drain(child.stdout), drain(child.stderr)]).catch(() => {});
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });

  const stop = async () => {
    const tree = exited ? [] : processTree(child.pid);
    if (!exited) child.kill("SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gone = await Promise.race([
      status.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), 3000)),
    ]);
    clearTimeout(timer);
    // SIGKILL whatever is left: the server itself if it ignored SIGTERM, or its children.
    for (const pid of tree) {
      if (pid === child.pid && gone) continue;
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await status;
    await drained;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    ready.then(() => "ready"),
    status.then(() => "exited"),
    new Promise<string>((r) => timer = setTimeout(() => r("timeout"), timeoutMs)),
  ]);
  clearTimeout(timer);
  if (outcome !== "ready") {
    await stop();
    throw new Error(`${def.label} did not start (${outcome}): ${log.slice(-2000)}`);
  }
  return { pid: child.pid, exited: () => exited, log: () => log, stop } satisfies Running;
}

/** The version a runtime reports, or "not found". */
export async function runtimeVersion(cmd: string, arg = "--version"): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args: [arg], stdout: "piped", stderr: "null" })
      .output();
    return new TextDecoder().decode(out.stdout).trim().replace(/^v/, "");
  } catch {
    return "not found";
  }
}
