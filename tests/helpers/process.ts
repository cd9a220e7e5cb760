/**
 * Fixture processes (a server under Bun or Node) that print their port once listening and end
 * when their stdin closes.
 *
 * @module
 */

/** A running fixture. */
export interface FixtureProcess {
  /** The port it printed. */
  port: number;
  /**
   * Closes its stdin and waits for it to exit: what it printed after the port (stdout) and on
   * stderr. Throws when it exits non-zero or does not exit within 10 s (something it started
   * is still open).
   */
  stop(): Promise<{ out: string; err: string }>;
  /** Whether it is still running (false once it exited on its own, e.g. crashed). */
  running(): boolean;
}

/**
 * Runs `cmd args...` and reads its stdout until `portOf` finds the port in it; `portOf` returns
 * the port and the length of the output it read for it, or undefined to read on. It runs in
 * `opts.cwd` (by default this process's), with `opts.env` added to the environment it inherits.
 */
export async function startFixture(
  cmd: string,
  args: string[],
  portOf: (out: string) => { port: number; end: number } | undefined,
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<FixtureProcess> {
  const child = new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  let exited = false;
  child.status.then(() => (exited = true));
  const running = () => !exited;
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const stop = async () => {
    await child.stdin.close();
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill("SIGKILL");
    }, 10_000);
    for (;;) {
      const { done, value } = await lines.read();
      if (done) break;
      out += value;
    }
    const status = await child.status;
    clearTimeout(timer);
    const err = await stderr;
    if (killed) throw new Error(`${cmd} did not exit within 10 s of its stdin closing: ${err}`);
    if (status.code !== 0) {
      throw new Error(
        `${cmd} exited with ${status.code} (${status.signal ?? "no signal"}): ${err}`,
      );
    }
    return { out, err };
  };
  for (;;) {
    const found = portOf(out);
    if (found) {
      out = out.slice(found.end);
      return { port: found.port, stop, running };
    }
    const { done, value } = await lines.read();
    if (done) {
      await stop().catch(() => {});
      throw new Error(`${cmd} fixture exited early: ${out} ${await stderr}`);
    }
    out += value;
  }
}

/** A fixture that prints `PORT <n>` on a line of its own once listening. */
export interface ServerProcess extends FixtureProcess {
  /** `http://127.0.0.1:<port>`. */
  url: string;
}

/**
 * Runs `cmd args...` (in `cwd`), a server that prints `PORT <n>` once listening on 127.0.0.1 and
 * ends when its stdin closes (see {@linkcode startFixture} for `stop()`).
 */
export async function startServerProcess(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<ServerProcess> {
  const fixture = await startFixture(cmd, args, (out) => {
    const match = /PORT (\d+)\n/.exec(out);
    return match ? { port: Number(match[1]), end: match.index + match[0].length } : undefined;
  }, { cwd });
  return { ...fixture, url: `http://127.0.0.1:${fixture.port}` };
}

/** A child process that takes and gives one JSON value per line (stdin, stdout). */
export interface JsonLinesProcess {
  /** Writes `line` as one line of JSON (in order with the others). */
  send(line: unknown): void;
  /** The child itself (to kill it). */
  child: Deno.ChildProcess;
  /** All it writes to stderr, once it exited. */
  stderr: Promise<string>;
  /**
   * Closes its stdin, waits for it to exit and for its stdout to be read, and throws with its
   * stderr when it failed.
   */
  end(): Promise<void>;
}

/**
 * Spawns `cmd args` and calls `receive` with each line of its stdout that is a JSON object
 * (other lines are the child's own output and are skipped).
 */
export function spawnJsonLines(
  cmd: string,
  args: string[],
  receive: (value: Record<string, unknown>) => void,
): JsonLinesProcess {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = child.stdin.getWriter();
  const encoder = new TextEncoder();
  let writing = Promise.resolve();
  const stderr = new Response(child.stderr).text();
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf("\n")) !== -1) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        if (line.startsWith("{")) receive(JSON.parse(line));
      }
    }
  })();
  return {
    child,
    stderr,
    send(line) {
      writing = writing.then(() => stdin.write(encoder.encode(JSON.stringify(line) + "\n")));
    },
    async end() {
      await writing.catch(() => {});
      await stdin.close().catch(() => {});
      await reading;
      const status = await child.status;
      const err = await stderr;
      if (!status.success) throw new Error(`${cmd} exited with ${status.code}: ${err}`);
    },
  };
}
