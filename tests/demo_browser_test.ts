/**
 * The demo in a real browser: Debian's chromium driven by npm `playwright-core`. Two pages chat in
 * one room; the server stops, both pages show they are reconnecting; it starts again, both
 * reconnect and chat again. A screenshot is written to `.artifacts/demo-chat.png`.
 *
 * Scaled out, with no sticky sessions anywhere: `WORKERS=4` (four workers on one port), and two
 * processes on one port sharing a real redis-server (`REDIS_URL`). One page stays on long-polling,
 * whose requests land on any worker or process; the other upgrades. They chat both ways, a cursor
 * crosses, and a third page that comes later sees the same history.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, launchChromium } from "./helpers/chromium.ts";
import { redisUnavailable, startRedis } from "./helpers/redis.ts";

const ROOT = new URL("../", import.meta.url);
// `deno task start`'s own command line, run without `deno task` in between, so that a signal
// reaches the demo itself.
const START: string[] = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))).tasks.start
  .split(" ").slice(1);

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts `deno task start` on `port` (with `env`: `WORKERS`, `REDIS_URL`), once it listens. */
async function startDemo(
  port: number,
  env: Record<string, string> = {},
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: START,
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 30_000;
  while (!seen.includes("demo on http://")) {
    if (Date.now() > deadline) throw new Error("the demo did not start: " + seen);
    const { value, done } = await reader.read();
    if (done) throw new Error("the demo exited: " + seen);
    seen += value;
  }
  // Keep draining stdout so the child never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done);
  })().catch(() => {});
  return child;
}

async function stopDemo(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch {
    // already gone
  }
  await child.status;
}

async function named(page: Page, name: string): Promise<void> {
  await page.fill("#name", name);
  await page.dispatchEvent("#name", "change");
}

/** Two pages chat on a cluster at `url`, a cursor crosses, and a late page sees the history. */
async function chatAcrossCluster(browser: Browser, url: string): Promise<void> {
  const alice = await (await browser.newContext()).newPage();
  const bob = await (await browser.newContext()).newPage();
  await alice.goto(url + "?transports=polling");
  await bob.goto(url);
  for (const page of [alice, bob]) await waitState(page, "connected");
  await named(alice, "alice");
  await named(bob, "bob");
  await waitMessage(alice, "you are in #general");
  await waitMessage(bob, "you are in #general");
  // Several messages each way: each one is a few requests, spread over every node.
  for (let i = 0; i < 5; i++) {
    await say(alice, `alice says ${i}`);
    await waitMessage(bob, `alice says ${i}`);
    await say(bob, `bob says ${i}`);
    await waitMessage(alice, `bob says ${i}`);
  }
  assert.equal(await alice.locator("#transport").textContent(), "polling");

  await alice.mouse.move(200, 150);
  await alice.mouse.move(220, 160);
  await bob.waitForSelector("#cursors .cursor", { timeout: 20_000 });

  const carol = await (await browser.newContext()).newPage();
  await carol.goto(url + "?transports=polling");
  await waitState(carol, "connected");
  await waitMessage(carol, "alice says 4");
  await waitMessage(carol, "bob says 4");
}

const state = (page: Page) => page.locator("#state").textContent();

async function waitState(page: Page, want: string): Promise<void> {
  // Page-side code as a string: it runs in the browser, and Deno's types have no DOM.
  await page.waitForFunction(
    `document.getElementById("state")?.dataset.state === ${JSON.stringify(want)}`,
    undefined,
    { timeout: 20_000 },
  );
}

async function say(page: Page, text: string): Promise<void> {
  await page.fill("#text", text);
  await page.click("#composer button");
}

async function waitMessage(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    `[...document.querySelectorAll("#messages li")]
      .some((li) => li.textContent.includes(${JSON.stringify(text)}))`,
    undefined,
    { timeout: 20_000 },
  );
}

browserTest(
  "demo: two browser pages chat, survive a server restart, and chat again",
  async (chromium) => {
    const port = freePort();
    let demo = await startDemo(port);
    let browser: Browser | undefined;
    try {
      browser = await launchChromium(chromium);
      const url = `http://127.0.0.1:${port}/`;
      const alice = await (await browser.newContext()).newPage();
      const bob = await (await browser.newContext()).newPage();
      for (const page of [alice, bob]) {
        await page.goto(url);
        await waitState(page, "connected");
      }
      await alice.fill("#name", "alice");
      await alice.dispatchEvent("#name", "change");
      await waitMessage(bob, "you are in #general");

      await say(alice, "hello from alice");
      await waitMessage(bob, "hello from alice");

      await stopDemo(demo);
      await waitState(alice, "reconnecting");
      await waitState(bob, "reconnecting");
      assert.equal(await state(alice), "reconnecting");

      demo = await startDemo(port);
      await waitState(alice, "connected");
      await waitState(bob, "connected");
      // Both rejoin #general on reconnect; wait until bob's history was re-rendered.
      await waitMessage(bob, "you are in #general");
      await waitMessage(alice, "you are in #general");
      await say(bob, "bob is back");
      await waitMessage(alice, "bob is back");

      await Deno.mkdir(new URL(".artifacts/", ROOT), { recursive: true });
      const shot = new URL(".artifacts/demo-chat.png", ROOT);
      await alice.screenshot({ path: shot.pathname, fullPage: true });
      assert.ok(Deno.statSync(shot).size > 0);
    } finally {
      await browser?.close();
      await stopDemo(demo);
    }
  },
);

browserTest(
  "demo: WORKERS=4, four workers on one port, chat and cursors across them",
  async (chromium) => {
    const port = freePort();
    const demo = await startDemo(port, { WORKERS: "4" });
    let browser: Browser | undefined;
    try {
      browser = await launchChromium(chromium);
      await chatAcrossCluster(browser, `http://127.0.0.1:${port}/`);
    } finally {
      await browser?.close();
      await stopDemo(demo);
    }
  },
);

browserTest(
  "demo: REDIS_URL, two processes on one port, chat and cursors across them",
  async (chromium) => {
    const found = await redisUnavailable();
    if (typeof found === "string") {
      console.log(`SKIPPED: ${found}`);
      return;
    }
    const redis = await startRedis(found.exe, found.version);
    const port = freePort();
    const env = { REDIS_URL: `redis://127.0.0.1:${redis.port}` };
    const demos: Deno.ChildProcess[] = [];
    let browser: Browser | undefined;
    try {
      demos.push(await startDemo(port, env), await startDemo(port, env));
      browser = await launchChromium(chromium);
      await chatAcrossCluster(browser, `http://127.0.0.1:${port}/`);
    } finally {
      await browser?.close();
      for (const demo of demos) await stopDemo(demo);
      await redis.stop();
    }
  },
);
