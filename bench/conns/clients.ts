/**
 * The processes of idle clients (idle_client.mjs, on Node) that the idle-connections bench
 * drives: each is under its own open-files limit, so the count a run reaches is bounded by the
 * server's limit, not the clients'. Commands go in on stdin, one JSON line comes back per command.
 *
 * @module
 */
import { withFileLimit } from "../server/servers.ts";

const SCRIPT = new URL("./idle_client.mjs", import.meta.url).pathname;

/** What `stats` answers. */
export interface ClientStats {
  /** Clients joined and still open. */
  open: number;
  /** Engine.IO pings received (and answered) so far. */
  pings: number;
  /** Clients that were joined and then closed by the server. */
  lost: number;
}

/** One process of idle clients. */
export class ClientProcess {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #lines: AsyncIterator<string>;
  #buffer = "";
  #reader: ReadableStreamDefaultReader<string>;

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    this.#lines = this.#readLines();
  }

  /** Starts a process whose clients connect to `port`, from the `sources` addresses in turn. */
  static async start(port: number, sources: string[]): Promise<ClientProcess> {
    const [cmd, ...args] = withFileLimit(["node", SCRIPT, JSON.stringify({ port, sources })]);
    const child = new Deno.Command(cmd, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const p = new ClientProcess(child);
    await p.#next(); // {"ready":true}
    return p;
  }

  async *#readLines(): AsyncGenerator<string> {
    for (;;) {
      const i = this.#buffer.indexOf("\n");
      if (i !== -1) {
        const line = this.#buffer.slice(0, i);
        this.#buffer = this.#buffer.slice(i + 1);
        yield line;
        continue;
      }
      const { value, done } = await this.#reader.read();
      if (done) return;
      this.#buffer += value;
    }
  }

  async #next(): Promise<Record<string, number>> {
    const r = await this.#lines.next();
    if (r.done) throw new Error("client process ended");
    return JSON.parse(r.value);
  }

  async #command(line: string): Promise<Record<string, number>> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
    return this.#next();
  }

  /** Opens `n` more clients, `concurrency` handshakes at once; gives how many failed. */
  async open(n: number, concurrency = 200): Promise<number> {
    if (n <= 0) return 0;
    return (await this.#command(`open ${n} ${concurrency}`)).failed;
  }

  /** Counts so far. */
  async stats(): Promise<ClientStats> {
    const r = await this.#command("stats");
    return { open: r.open, pings: r.pings, lost: r.lost };
  }

  /** Ends the process, which drops every connection it held. */
  async stop(): Promise<void> {
    try {
      await this.#writer.write(new TextEncoder().encode("exit\n"));
      await this.#writer.close();
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.#child.kill("SIGKILL");
      } catch { /* gone */ }
    }, 5000);
    await this.#child.status;
    clearTimeout(timer);
    await this.#reader.cancel().catch(() => {});
  }
}

/** Loopback source addresses 127.0.0.2, 127.0.0.3, ...: `n` of them. */
export function sourceAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${Math.floor((i + 2) / 256)}.${(i + 2) % 256}`);
}
