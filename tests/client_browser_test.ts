/**
 * The served client in a real browser (Chromium, see `helpers/chromium.ts`): a page of our server
 * loads `/socket.io/socket.io.js` with a script tag and connects, as a user's page does.
 */
import assert from "node:assert/strict";
import type { Browser } from "playwright-core";
import { Server } from "../mod.ts";
import { browserTest, launchChromium } from "./helpers/chromium.ts";
import { serve } from "./helpers/serve.ts";

// Connects over polling (with `opts`), and shows what the server answered.
const PAGE = (opts: string) =>
  `<!doctype html>
<script src="/socket.io/socket.io.js"></script>
<script>
  const socket = io(${opts});
  socket.on("cookie", (cookie) => {
    socket.emit("bye", () => { document.title = "cookie:" + cookie; socket.disconnect(); });
  });
</script>`;

browserTest(
  "client in Chromium: same-origin cookies go with every polling request (as with XHR)",
  async (chromium) => {
    const io = new Server();
    io.on("connection", (socket) => {
      socket.emit("cookie", socket.handshake.headers.cookie ?? "none");
      socket.on("bye", (ack) => ack());
    });
    // The Cookie header of each Engine.IO request, by method.
    const seen: string[] = [];
    const handler = io.handler((req) => {
      const opts = new URL(req.url).searchParams.get("opts") ?? "";
      return new Response(PAGE(opts), {
        headers: { "content-type": "text/html", "set-cookie": "session=s3cr3t; Path=/" },
      });
    });
    const http = serve((req, info) => {
      const url = new URL(req.url);
      if (url.pathname === "/socket.io/" && url.searchParams.get("transport") === "polling") {
        seen.push(`${req.method} ${req.headers.get("cookie")}`);
      }
      return handler(req, info);
    });
    let browser: Browser | undefined;
    try {
      browser = await launchChromium(chromium);
      for (
        const opts of [
          `{ transports: ["polling"] }`,
          `{ transports: ["polling"], withCredentials: true }`,
        ]
      ) {
        seen.length = 0;
        const page = await (await browser.newContext()).newPage();
        await page.goto(`${http.origin}/?opts=${encodeURIComponent(opts)}`);
        await page.waitForFunction(`document.title.startsWith("cookie:")`, undefined, {
          timeout: 20_000,
        });
        assert.equal(await page.title(), "cookie:session=s3cr3t", opts);
        assert.ok(seen.some((s) => s.startsWith("POST")), `a POST was made: ${seen}`);
        for (const request of seen) assert.match(request, / session=s3cr3t$/, opts);
        await page.context().close();
      }
    } finally {
      await browser?.close();
      await io.close();
      await http.close();
    }
  },
);
