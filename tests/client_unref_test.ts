/**
 * `autoUnref` and `useNativeTimers`, the official client's options for timers and the process.
 *
 * `autoUnref`: a Deno or Bun program that holds only a connected (or reconnecting) client exits
 * on its own, and without the option it does not; the client works all the same over the
 * unref'd connections (the drop-in script gives the official client's log).
 * `useNativeTimers`: fake timers installed after the client loaded do not drive it.
 */
import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { io as officialIo } from "socket.io-client";
import { io } from "../client/mod.ts";
import { findBun } from "./helpers/bun.ts";

// The real timers, for the hang detector while the clock is fake.
const realTimers = [setTimeout, clearTimeout] as const;
import { delay, MODES, once, startServer, type TestTarget, track } from "./fixtures/client_env.ts";
import { script } from "./fixtures/client_script.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;

type Runtime = "deno" | "bun";

async function command(runtime: Runtime, fixture: string, args: string[]): Promise<Deno.Command> {
  if (runtime === "deno") {
    return new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", FIXTURES + fixture, ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    });
  }
  const bun = await findBun();
  assert.ok(bun, "bun is needed (tests/helpers/bun.ts installs it)");
  return new Deno.Command(bun, {
    args: [FIXTURES + fixture, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  });
}

/**
 * Runs `unref_client.ts` until it reports it is connected (or reconnecting); then, with
 * `autoUnref`, waits for it to exit on its own (a hang past 30 s fails the test), and without,
 * checks it is still running a while later and kills it.
 */
async function holdsOnlyAClient(
  runtime: Runtime,
  url: string,
  transports: string[],
  autoUnref: boolean,
): Promise<string> {
  const child = (await command(runtime, "unref_client.ts", [
    url,
    String(autoUnref),
    JSON.stringify(transports),
  ])).spawn();
  const stderr = new Response(child.stderr).text();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const { promise: line, resolve: seen } = Promise.withResolvers<void>();
  const read = (async () => {
    for (;;) {
      const { done, value } = await lines.read();
      if (done) return seen();
      out += value;
      if (out.includes("\n")) seen();
    }
  })();
  let hang: ReturnType<typeof setTimeout> | undefined;
  const exited = Promise.race([
    child.status,
    new Promise<"hang">((resolve) => hang = setTimeout(() => resolve("hang"), 30_000)),
  ]);
  try {
    await Promise.race([line, exited]);
    await line; // its output is read to the end when it exited
    if (!out.includes("\n")) assert.fail(`no report: ${out} ${await stderr}`);
    if (autoUnref) {
      const status = await exited;
      assert.notEqual(status, "hang", `${runtime} ${transports} did not exit: ${out}`);
      if ((status as Deno.CommandStatus).code) assert.fail(await stderr);
    } else {
      // Alive a good while after it let go of its own timer: the client holds it.
      const wait = delay(1000);
      assert.equal(await Promise.race([exited, wait]), undefined, `${runtime} exited: ${out}`);
    }
  } finally {
    clearTimeout(hang);
    try {
      child.kill();
    } catch { /* gone */ }
    await child.status;
    await read;
    await stderr;
  }
  return out.trim();
}

for (const runtime of ["deno", "bun"] as const) {
  Deno.test(`client autoUnref: a ${runtime} program holding only a client exits on its own; without, it does not`, async () => {
    const target = await startServer("ours");
    try {
      for (const [mode, { transports }] of Object.entries(MODES)) {
        const expected = `connected over ${mode === "polling" ? "polling" : "websocket"}`;
        for (const autoUnref of [true, false]) {
          assert.equal(
            await holdsOnlyAClient(runtime, target.url, transports, autoUnref),
            expected,
            `${mode} autoUnref: ${autoUnref}`,
          );
        }
      }
    } finally {
      await target.close();
    }
    // A client that cannot reach its server keeps reconnecting, on unref'd timers too.
    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${(free.addr as Deno.NetAddr).port}`;
    free.close();
    for (const autoUnref of [true, false]) {
      assert.equal(
        await holdsOnlyAClient(runtime, url, ["polling", "websocket"], autoUnref),
        "reconnecting",
      );
    }
  });
}

for (const [runtime, kind] of [["deno", "ours"], ["deno", "official"], ["bun", "ours"]] as const) {
  Deno.test(`client autoUnref: the drop-in script gives the official client's log (${runtime}, ${kind} server)`, async () => {
    let target: TestTarget | undefined;
    try {
      target = await startServer(kind);
      for (const { transports } of Object.values(MODES)) {
        const expected = JSON.parse(
          JSON.stringify(await script(officialIo, target.url, transports)),
        );
        const out = await (await command(runtime, "unref_dropin.ts", [
          target.url,
          JSON.stringify(transports),
        ])).output();
        const err = new TextDecoder().decode(out.stderr);
        assert.equal(out.code, 0, err);
        assert.deepEqual(
          JSON.parse(new TextDecoder().decode(out.stdout)),
          expected,
          `${transports}`,
        );
      }
    } finally {
      await target?.close();
      await delay(5);
    }
  });
}

/** `promise`, or "hang" after 30 s on the real timers (a hang detector, not a timing check). */
async function orHang<T>(promise: Promise<T>): Promise<T | "hang"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((resolve) =>
    timer = realTimers[0](() => resolve("hang"), 30_000)
  );
  try {
    return await Promise.race([promise, hang]);
  } finally {
    realTimers[1](timer);
  }
}

Deno.test("client useNativeTimers: fake timers installed later do not drive the client", async () => {
  const target = await startServer("ours");
  const tracker = track();
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  const sockets = [];
  try {
    for (const useNativeTimers of [true, false]) {
      const socket = io(target.url, { forceNew: true, transports: ["websocket"], useNativeTimers });
      sockets.push(socket);
      await once(socket, "connect");
      // No ack comes for "record": the ack timeout runs out, on whichever timers it has.
      const timedOut = socket.timeout(10).emitWithAck("record", "native", 1).catch((e) =>
        e.message
      );
      if (useNativeTimers) assert.equal(await orHang(timedOut), "operation has timed out");
      else {
        // The fake clock holds it until it is moved.
        assert.equal(await Promise.race([timedOut, delay(50)]), undefined);
        clock.tick(10);
        assert.equal(await timedOut, "operation has timed out");
      }
    }
  } finally {
    clock.uninstall();
    for (const socket of sockets) socket.disconnect();
    await tracker.drained();
    tracker.restore();
    await target.close();
  }
});

/** Reads one masked client frame from `conn` (after `buffered`); returns opcode, text, rest. */
async function readFrame(
  conn: Deno.Conn,
  buffered: Uint8Array,
): Promise<{ opcode: number; text: string; rest: Uint8Array }> {
  let bytes = buffered;
  const need = async (n: number) => {
    while (bytes.length < n) {
      const chunk = new Uint8Array(4096);
      const read = await conn.read(chunk);
      if (read === null) throw new Error("closed");
      bytes = new Uint8Array([...bytes, ...chunk.subarray(0, read)]);
    }
  };
  await need(2);
  assert.ok(bytes[1] & 0x80, "a client masks its frames");
  const length = bytes[1] & 127; // short frames only, in this test
  await need(6 + length);
  const mask = bytes.subarray(2, 6);
  const payload = bytes.slice(6, 6 + length).map((b, i) => b ^ mask[i & 3]);
  return {
    opcode: bytes[0] & 15,
    text: new TextDecoder().decode(payload),
    rest: bytes.slice(6 + length),
  };
}

/** A server frame, unmasked. */
const frame = (fin: boolean, opcode: number, text: string) => {
  const payload = new TextEncoder().encode(text);
  return new Uint8Array([(fin ? 0x80 : 0) | opcode, payload.length, ...payload]);
};

Deno.test("client autoUnref WebSocket: pings, fragmented messages, and a bad frame closes it", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const served = (async () => {
    const conn = await listener.accept();
    let head = "";
    const buf = new Uint8Array(4096);
    while (!head.includes("\r\n\r\n")) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("closed");
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const key = /sec-websocket-key: (.*)\r\n/i.exec(head)![1];
    const digest = await crypto.subtle.digest(
      "SHA-1",
      new TextEncoder().encode(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"),
    );
    const accept = btoa(String.fromCharCode(...new Uint8Array(digest)));
    await conn.write(new TextEncoder().encode(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
    ));
    // A ping first: the client answers with a pong of the same payload.
    await conn.write(frame(true, 9, "hi"));
    let got = await readFrame(conn, new Uint8Array());
    const pong = [got.opcode, got.text];
    // The open packet in two fragments.
    const open = '0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,' +
      '"maxPayload":1000000}';
    await conn.write(frame(false, 1, open.slice(0, 10)));
    await conn.write(frame(true, 0, open.slice(10)));
    got = await readFrame(conn, got.rest);
    const connect = got.text;
    await conn.write(frame(true, 1, '40{"sid":"abc"}'));
    // Opcode 3 is reserved: no WebSocket sends it.
    await conn.write(frame(true, 3, "?"));
    // The client drops the connection.
    while (await conn.read(buf) !== null) { /* until it closes */ }
    conn.close();
    return { pong, connect };
  })();
  const socket = io(url, { transports: ["websocket"], autoUnref: true, reconnection: false });
  try {
    await once(socket, "connect");
    assert.equal(socket.id, "abc");
    const [reason] = await once<[string]>(socket, "disconnect");
    assert.equal(reason, "transport error");
    assert.deepEqual(await served, { pong: [10, "hi"], connect: "40" });
  } finally {
    socket.disconnect();
    listener.close();
  }
});
