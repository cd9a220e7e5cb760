/**
 * Plays one scenario against a server on 127.0.0.1: its requests and frames go out as they are,
 * and what matters of the answers is kept (an answer of 500 or more is a failure: bad input gets
 * a 400-class answer or a clean close).
 *
 * @module
 */
import type { Scenario } from "./inputs.ts";
import { bytesOf, type Connection, encodeFrame, exchange, serverFrame, upgrade } from "./wire.ts";

/** What a scenario's answers showed. */
export interface PlayResult {
  /** Answers of 500 or more, described. */
  serverErrors: string[];
}

/** How long a handshake or an upgrade is waited for (ms); they are answered at once. */
const HANDSHAKE_MS = 3000;

const SID = /"sid":"([^"]+)"/;

/** Plays `s` against the server at `port`. */
export async function play(port: number, s: Scenario): Promise<PlayResult> {
  const result: PlayResult = { serverErrors: [] };
  const check = (status: number, what: string) => {
    // 505 is the runtime's HTTP parser refusing a version (Bun), before the app.
    if (status >= 500 && status !== 505) result.serverErrors.push(`${status} for ${what}`);
  };
  if (s.kind === "http") {
    for (const step of s.steps) {
      const a = await exchange(port, bytesOf(step.request), step.hold);
      check(a.status, summary(step.request));
    }
    return result;
  }
  if (s.kind === "polling") {
    const hs = await exchange(port, bytesOf(s.handshake), HANDSHAKE_MS);
    check(hs.status, summary(s.handshake));
    const sid = SID.exec(hs.body)?.[1] ?? "AAAAAAAAAAAAAAAAAAAA";
    const background: Promise<void>[] = [];
    for (const step of s.steps) {
      const request = step.request.replaceAll("$SID", sid);
      const answered = exchange(port, bytesOf(request), step.hold)
        .then((a) => check(a.status, summary(request)));
      if (step.background) background.push(answered);
      else await answered;
    }
    await Promise.all(background);
    return result;
  }
  let sid = "AAAAAAAAAAAAAAAAAAAA";
  let poll: Promise<unknown> | undefined;
  if (s.polling) {
    const hs = await exchange(port, bytesOf(s.polling), HANDSHAKE_MS);
    check(hs.status, summary(s.polling));
    sid = SID.exec(hs.body)?.[1] ?? sid;
    // A poll waits while the client upgrades, as the official client's does.
    const get = s.polling.replace("&t=", `&sid=${sid}&t=`);
    poll = exchange(port, bytesOf(get), 1000).then((a) => check(a.status, summary(get)));
  }
  const request = s.upgrade.replaceAll("$SID", sid);
  const up = await upgrade(port, bytesOf(request), HANDSHAKE_MS);
  check(up.status, summary(request));
  if (up.conn) await frames(up.conn, s, sid);
  await poll;
  return result;
}

/** Sends the scenario's frames while reading the server's, then ends as it says. */
async function frames(
  conn: Connection,
  s: Extract<Scenario, { kind: "websocket" }>,
  sid: string,
): Promise<void> {
  let serverClosed = false;
  // CONNECT answers (`40...` and `44...`) seen: after a CONNECT, the next packets wait for its
  // answer (a while at most), as a client's do, so that they reach the joined namespace.
  let answers = 0;
  const draining = (async () => {
    while (!conn.closed) {
      let start = 0;
      const frame = await conn.read((text) => {
        const f = serverFrame(text);
        start = f?.start ?? 0;
        return f?.length;
      }, 60_000);
      if (frame === undefined) break;
      const op = frame.charCodeAt(0) & 0x0f;
      if (op === 8) serverClosed = true;
      else if (
        op === 2 || // a msgpack CONNECT answer, as far as waiting goes
        (op === 1 && frame[start] === "4" && (frame[start + 1] === "0" || frame[start + 1] === "4"))
      ) answers++;
    }
  })();
  for (const f of s.frames) {
    if (conn.closed || serverClosed) break;
    const payload = bytesOf(f.data.includes("$SID") ? f.data.replaceAll("$SID", sid) : f.data);
    if (!(await conn.write(encodeFrame(f.op, payload, f)))) break;
    if (f.connect) {
      const before = answers;
      await waitFor(() => answers > before || serverClosed || conn.closed, 300);
    }
  }
  if (!conn.closed && !serverClosed) {
    if (s.end === "close") {
      await conn.write(encodeFrame(8, new Uint8Array([0x03, 0xe8])));
      await waitFor(() => serverClosed || conn.closed, 300);
    } else if (typeof s.end === "number") {
      await waitFor(() => serverClosed || conn.closed, s.end);
    }
  } else if (serverClosed && !conn.closed) {
    // Answer the server's close, as a client does.
    await conn.write(encodeFrame(8, new Uint8Array(0)));
  }
  conn.close();
  await draining;
  await conn.settled();
}

async function waitFor(done: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}

/** The first line of a request, shortened, for a report. */
function summary(request: string): string {
  const line = request.slice(0, Math.max(0, request.indexOf("\r\n")) || 120);
  return JSON.stringify(line.length > 120 ? line.slice(0, 120) + "..." : line);
}
