/**
 * A real `redis-server` for the Redis tests: found on `PATH` (or `$REDIS_SERVER`), started on a
 * free loopback port with nothing persisted, in a temporary folder of its own. Without one (or
 * with one older than 7, which has no sharded pub/sub), {@linkcode redisTest} prints
 * `SKIPPED: <why>` and passes without asserting, as browser tests do without Chromium.
 *
 * @module
 */

/** A running redis-server. */
export interface RedisServer {
  /** Its port on 127.0.0.1. */
  port: number;
  /** `redis://127.0.0.1:<port>`. */
  url: string;
  /** Its version, e.g. "7.0.15". */
  version: string;
  /** Stops it and removes its folder; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** The oldest major version the tests accept: SPUBLISH / SSUBSCRIBE came with Redis 7. */
const MIN_MAJOR = 7;

/** The redis-server executable: `$REDIS_SERVER`, else `redis-server` on `PATH`. */
export function findRedisServer(): string | undefined {
  const env = Deno.env.get("REDIS_SERVER");
  const candidates = env ? [env] : (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)
    .map((dir) => `${dir}/redis-server`);
  for (const path of candidates) {
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch { /* not there */ }
  }
  return undefined;
}

/** The version `redis-server --version` prints (`Redis server v=7.0.15 ...`). */
export async function redisVersion(exe: string): Promise<string> {
  const { stdout } = await new Deno.Command(exe, { args: ["--version"], stderr: "null" })
    .output();
  const match = /v=(\d+\.\d+\.\d+)/.exec(new TextDecoder().decode(stdout));
  if (!match) throw new Error(`${exe} --version printed no version`);
  return match[1];
}

/** Why Redis tests cannot run here, or undefined when they can (with the executable). */
export async function redisUnavailable(): Promise<string | { exe: string; version: string }> {
  const exe = findRedisServer();
  if (!exe) return "redis-server not found";
  const version = await redisVersion(exe);
  if (Number(version.split(".")[0]) < MIN_MAJOR) {
    return `redis-server ${version} is older than ${MIN_MAJOR} (no sharded pub/sub)`;
  }
  return { exe, version };
}

/** A port that was free on 127.0.0.1 a moment ago. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** Whether a server on `port` answers PING with PONG. */
async function pong(port: number): Promise<boolean> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    return n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/**
 * Runs redis-server under a small shell that ends it when its stdin closes and then removes its
 * folder: at `stop()`, and also when the test process dies without stopping it (the pipe closes
 * with the process), so that no redis-server or folder outlives a crashed test.
 */
const WRAPPER = `
dir="$1"; shift
exec 3<&0
"$0" "$@" &
pid=$!
{ cat <&3 >/dev/null; kill -TERM "$pid" 2>/dev/null; } &
wait "$pid"; status=$?
rm -rf "$dir"
exit "$status"
`;

/**
 * Starts a redis-server `exe` on a free loopback port (`--save "" --appendonly no`, its folder a
 * new temporary one) and resolves once it answers PING.
 */
export async function startRedis(exe: string, version: string): Promise<RedisServer> {
  // A port found free may be taken before redis binds it: try a few.
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = await Deno.makeTempDir({ prefix: "socketio-edge-redis-" });
    const port = freePort();
    const args = ["--bind", "127.0.0.1", "--port", String(port), "--save", "", "--appendonly"];
    args.push("no", "--dir", dir, "--daemonize", "no");
    const child = new Deno.Command("sh", {
      args: ["-c", WRAPPER, exe, dir, ...args],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Its log (stdout) and errors, read as they come so the pipes never fill up.
    const output = Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ])
      .then(([out, err]) => out + err);
    let exited = false;
    const status = child.status.then((s) => (exited = true, s));
    const stop = async () => {
      await child.stdin.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await status;
      clearTimeout(timer);
      await output;
      // The shell removed it; unless it was killed first.
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    };
    for (let i = 0; i < 200 && !exited; i++) {
      if (await pong(port)) return { port, url: `redis://127.0.0.1:${port}`, version, stop };
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    await stop();
    lastError = await output;
  }
  throw new Error(`redis-server did not start: ${lastError}`);
}

/** Options of {@linkcode redisTest}: the sanitizers stay on unless a test says why not. */
export type RedisTestOptions = Pick<Deno.TestDefinition, "sanitizeOps" | "sanitizeResources">;

/**
 * A test given a fresh redis-server (stopped after it, whatever happens), or one that prints
 * `SKIPPED: <why>` and passes when none can be had.
 */
export function redisTest(
  name: string,
  fn: (redis: RedisServer, t: Deno.TestContext) => Promise<void>,
  opts: RedisTestOptions = {},
): void {
  Deno.test({
    name,
    ...opts,
    async fn(t) {
      const found = await redisUnavailable();
      if (typeof found === "string") {
        console.log(`SKIPPED: ${found}`);
        return;
      }
      const redis = await startRedis(found.exe, found.version);
      try {
        await fn(redis, t);
      } finally {
        await redis.stop();
      }
    },
  });
}
