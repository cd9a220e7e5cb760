/**
 * The demo in a real browser: Debian's chromium driven by npm `playwright-core`. Two pages chat in
 * one room; the server stops, both pages show they are reconnecting; it starts again, both
 * reconnect and chat again. A screenshot is written to `.artifacts/demo-chat.png`.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { browserTest, launchChromium } from "./helpers/chromium.ts";

const ROOT = new URL("../", import.meta.url);

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Starts `deno task start`'s program on `port` and waits until it listens. */
async function startDemo(port: number): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", "--allow-read", "demo/main.ts"],
    cwd: ROOT,
    env: { PORT: String(port), HOST: "127.0.0.1", NO_COLOR: "1" },
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
