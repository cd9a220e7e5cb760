/**
 * Child processes of the runner: commands run to the end with their output in a log file, a
 * free loopback port, and a Deno fixture server started on it.
 *
 * @module
 */

/** The folder of the runner's fixture servers. */
export const FIXTURES = new URL("./fixtures/", import.meta.url);

/** The repository's root. */
export const ROOT = new URL("../../", import.meta.url);

/** How a command ran. */
export interface Ran {
  /** Its exit code (`-1` when it was killed on time-out). */
  code: number;
  /** Whether it was killed because it ran out of time. */
  timedOut: boolean;
}

/** Options of {@link runLogged}. */
export interface RunOptions {
  /** The working folder. */
  cwd: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Where stdout and stderr go (appended). */
  log: string;
  /** Kills the command after this long (default 10 minutes). */
  timeoutMs?: number;
}

/**
 * Runs `cmd args` to its end, output appended to `opts.log`.
 *
 * @returns its exit code, `-1` when it timed out
 */
export async function runLogged(cmd: string, args: string[], opts: RunOptions): Promise<Ran> {
  const log = await Deno.open(opts.log, { create: true, append: true });
  await log.write(new TextEncoder().encode(`\n$ ${cmd} ${args.join(" ")}\n`));
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, opts.timeoutMs ?? 600_000);
  // Both streams into the one log, as they come.
  const pump = (stream: ReadableStream<Uint8Array>) =>
    stream.pipeTo(
      new WritableStream({ write: (chunk) => log.write(chunk).then(() => {}) }),
    );
  await Promise.all([pump(child.stdout), pump(child.stderr)]);
  const status = await child.status;
  clearTimeout(timer);
  log.close();
  return { code: timedOut ? -1 : status.code, timedOut };
}

/** Runs a command that must succeed (an install, a build); throws with the log's path if not. */
export async function mustRun(cmd: string, args: string[], opts: RunOptions): Promise<void> {
  const ran = await runLogged(cmd, args, opts);
  if (ran.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed (${ran.code}); see ${opts.log}`);
  }
}

/** A port free on 127.0.0.1 now (the kernel's pick, released for the fixture to take). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** A fixture server running in its own Deno process. */
export interface Fixture {
  /** The port it listens on. */
  port: number;
  /** Stops it and waits for its end. */
  stop(): Promise<void>;
}

/**
 * Starts `fixtures/<name>` on `port` (a free one when not given) and waits until it listens.
 *
 * @param name the fixture's file name, e.g. `protocol_engine.ts`
 * @param log where its output goes
 */
export async function startFixture(name: string, log: string, port = freePort()): Promise<Fixture> {
  const file = await Deno.open(log, { create: true, append: true });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL(name, FIXTURES).pathname,
      `${port}`,
    ],
    cwd: ROOT.pathname,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  const write = (chunk: Uint8Array) => file.write(chunk).then(() => {});
  const errDone = child.stderr.pipeTo(new WritableStream({ write }));
  // Read stdout until the `listening` line, then keep logging it.
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes(`listening ${port}`)) {
    const { value, done } = await reader.read();
    if (done) {
      await errDone;
      file.close();
      throw new Error(`fixture ${name} exited before listening; see ${log}`);
    }
    await write(value);
    seen += new TextDecoder().decode(value);
  }
  const outDone = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      await write(value);
    }
  })();
  return {
    port,
    async stop() {
      // Closing its stdin makes it close the server and exit; SIGKILL if it does not.
      await writer.close().catch(() => {});
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await child.status;
      clearTimeout(timer);
      await Promise.all([outDone, errDone]);
      file.close();
    },
  };
}

/** Copies the folder `src` to `dst` afresh (`dst` is removed first). */
export async function copyTree(src: string, dst: string): Promise<void> {
  await Deno.remove(dst, { recursive: true }).catch(() => {});
  await Deno.mkdir(dst, { recursive: true });
  const { code, stderr } = await new Deno.Command("cp", { args: ["-R", `${src}/.`, dst] })
    .output();
  if (code !== 0) throw new Error(`cp ${src} failed: ${new TextDecoder().decode(stderr)}`);
}

/**
 * Rewrites `from` to `to` in a copied suite file; throws when `from` is not there, so a changed
 * suite is noticed rather than run against the wrong server.
 */
export async function patchFile(path: string, from: string | RegExp, to: string): Promise<void> {
  const text = await Deno.readTextFile(path);
  const found = typeof from === "string" ? text.includes(from) : from.test(text);
  if (!found) throw new Error(`${path}: ${from} not found; has the suite changed?`);
  await Deno.writeTextFile(
    path,
    typeof from === "string" ? text.replaceAll(from, to) : text.replace(from, to),
  );
}
