/**
 * Reads a redis-server's `INFO` over one short TCP connection (RESP by hand: the bench needs no
 * client library for two numbers): its pid, and how many publishes it has served.
 *
 * @module
 */

/** Runs `INFO <section>` on the server at `port` and returns the fields. */
export async function redisInfo(port: number, section: string): Promise<Map<string, string>> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(new TextEncoder().encode(`INFO ${section}\r\n`));
    // A bulk string: `$<length>\r\n<text>\r\n`.
    let text = "";
    const buf = new Uint8Array(16_384);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("redis closed the connection");
      text += decoder.decode(buf.subarray(0, n), { stream: true });
      const eol = text.indexOf("\r\n");
      if (eol !== -1 && text.length >= eol + 2 + Number(text.slice(1, eol))) break;
    }
    const fields = new Map<string, string>();
    for (const line of text.split("\r\n")) {
      const i = line.indexOf(":");
      if (i > 0 && !line.startsWith("#")) fields.set(line.slice(0, i), line.slice(i + 1));
    }
    return fields;
  } finally {
    conn.close();
  }
}

/** The `PUBLISH` and `SPUBLISH` commands served so far. */
export async function publishCount(port: number): Promise<number> {
  const stats = await redisInfo(port, "commandstats");
  let sum = 0;
  for (const name of ["cmdstat_publish", "cmdstat_spublish"]) {
    const calls = /calls=(\d+)/.exec(stats.get(name) ?? "")?.[1];
    sum += Number(calls ?? 0);
  }
  return sum;
}

/** The server's pid. */
export async function redisPid(port: number): Promise<number> {
  return Number((await redisInfo(port, "server")).get("process_id"));
}
