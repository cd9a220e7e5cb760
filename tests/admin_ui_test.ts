/**
 * npm `@socket.io/admin-ui@0.5.1` on our server, as a user runs it: `instrument(io, { auth:
 * false })` unmodified, and its dashboard (the package's `ui/dist`) in real Chromium, connected
 * through its connection form. The dashboard lists our sockets (official and our clients, over
 * long-polling, WebSocket and polling upgraded to WebSocket), the room they joined and the
 * events they emitted; from it, a socket leaves a room and another is disconnected, and the
 * clients see it. On Deno (our server in this process, the dashboard served by it on another
 * route, same origin, the dashboard polling then upgrading) and on Bun (a child process, the
 * dashboard served elsewhere, cross-origin with credentials, the dashboard on WebSocket only).
 * Chromium missing: SKIPPED; Bun missing and not installable: SKIPPED.
 */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { instrument } from "@socket.io/admin-ui";
import { io as edgeIo, type Socket as EdgeSocket } from "../client/mod.ts";
import { Server } from "../mod.ts";
import { adminUiPackage, dashboardFiles, stoppable } from "./helpers/admin_ui.ts";
import { findBun } from "./helpers/bun.ts";
import { browserTest, launchChromium } from "./helpers/chromium.ts";
import { startFixture } from "./helpers/process.ts";
import { serve } from "./helpers/serve.ts";
import {
  type ClientSocket,
  closeClients,
  connected,
  Fixture,
  MODES,
  next,
  officialClient,
  settle,
  upgraded,
  within,
} from "./helpers/socketio.ts";
import { adminUiApp, type Instrument } from "./fixtures/admin_ui_app.ts";

const BUN_FIXTURE = new URL("./fixtures/bun_admin_ui.ts", import.meta.url).pathname;
const ROOM = "lobby";

/** Opens the dashboard, fills in its connection form as a user does and waits until connected. */
async function connectDashboard(
  page: Page,
  dashboard: string,
  server: string,
  wsOnly: boolean,
): Promise<void> {
  // Its fonts and icons come from CDNs, which this machine cannot reach.
  await page.route(/^https:\/\//, (route) => route.abort());
  await page.goto(dashboard);
  await page.getByLabel("Server URL").fill(server);
  if (wsOnly) {
    await page.getByText("Advanced options").click();
    await page.getByText("WebSocket only?").click();
  }
  await page.getByRole("button", { name: "Connect" }).click();
  await page.getByText(/^\s*connected\s*$/i).first().waitFor();
}

/** Goes to a page of the dashboard through its navigation drawer. */
async function open(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation").getByRole("link", { name }).click();
  // The breadcrumbs say the page's name alone (not "Sockets / Socket details").
  await page.locator(".v-breadcrumbs", { hasText: new RegExp(`^\\s*${name}\\s*$`) }).waitFor();
}

/** The table row holding `text` (and `also`, when given), once the dashboard shows it. */
async function row(page: Page, text: string, also?: string | RegExp) {
  let found = page.locator("tr", { hasText: text });
  if (also !== undefined) found = found.filter({ hasText: also });
  await found.first().waitFor();
  return found.first();
}

/** The dashboard's view of the app's clients, and what a click there does to them. */
async function dashboardScenario(
  browser: Browser,
  dashboard: string,
  server: string,
  wsOnly: boolean,
): Promise<void> {
  const official: ClientSocket[] = [];
  let ours: EdgeSocket | undefined;
  try {
    // One client before the dashboard (it learns of it from `all_sockets`), the others after.
    const polling = officialClient(server, {
      transports: ["polling"],
      forceNew: true,
      reconnection: false,
    });
    official.push(polling);
    await connected(polling);

    const page = await (await browser.newContext()).newPage();
    await connectDashboard(page, dashboard, server, wsOnly);

    const upgrading = officialClient(server, { forceNew: true, reconnection: false });
    official.push(upgrading);
    ours = edgeIo(server, { transports: ["websocket"], forceNew: true, reconnection: false });
    await Promise.all([connected(upgrading), connected(ours as never), upgraded(upgrading)]);
    // Events each client emits while the dashboard watches.
    for (const socket of [polling, upgrading, ours]) {
      await within(socket.timeout(5000).emitWithAck("join", ROOM), "join ack");
    }

    await open(page, "Sockets");
    await row(page, polling.id!, "HTTP long-polling");
    await row(page, upgrading.id!, "WebSocket");
    await row(page, ours.id!, "WebSocket");

    await open(page, "Rooms");
    await row(page, ROOM, /public\s*3/i);

    // The events page lists what each socket sent, and its room changes.
    await open(page, "Events");
    for (const socket of [polling, upgrading, ours]) {
      await row(page, socket.id!, /Event received\s*Event name: join/);
      await row(page, socket.id!, /Room joined\s*Room: lobby/);
    }

    // A socket leaves the room from its page, as a user clicks it: the server made it leave
    // once the dashboard shows the room gone, which it learns from the server's adapter.
    await open(page, "Sockets");
    await (await row(page, polling.id!)).click();
    const rooms = page.locator(".v-card", { hasText: "Join a room" });
    await rooms.locator("tr", { hasText: ROOM }).locator("button").click();
    await rooms.locator("tr", { hasText: ROOM }).waitFor({ state: "detached" });
    assert.deepEqual(await polling.timeout(5000).emitWithAck("rooms"), [polling.id]);

    // Another is disconnected from the list of sockets (the click also opens its page).
    await open(page, "Sockets");
    const id = ours.id!;
    const gone = next(ours, "disconnect");
    await (await row(page, id)).locator("button:has(.mdi-logout)").click();
    assert.equal(await within(gone, "disconnect of our client"), "io server disconnect");
    await open(page, "Sockets");
    await row(page, upgrading.id!);
    await page.locator("tr", { hasText: id }).first().waitFor({ state: "detached" });
    assert.equal(upgrading.connected && polling.connected, true);
  } finally {
    ours?.disconnect();
    await closeClients(official);
    await settle();
  }
}

/** The arguments of the first `ev` of `socket` that `match` accepts, from now on. */
function until(
  socket: ClientSocket,
  ev: string,
  match: (...args: unknown[]) => boolean = () => true,
): Promise<unknown[]> {
  return within(
    new Promise((resolve) => {
      const listener = (...args: unknown[]) => {
        if (!match(...args)) return;
        socket.off(ev, listener);
        resolve(args);
      };
      socket.on(ev, listener);
    }),
    `"${ev}" on the admin namespace`,
  );
}

// What the dashboard is told, without a browser: `instrument()`'s own messages to an official
// client of the admin namespace, in each transport mode.
for (const mode of MODES) {
  Deno.test({
    name: `admin UI's instrument() on our server: what the dashboard is told [${mode}]`,
    async fn() {
      const io = new Server();
      const stop = stoppable(() => adminUiApp(io, instrument as unknown as Instrument));
      const fx = new Fixture(mode, {}, io);
      try {
        const admin = fx.client("/admin");
        const config = next<{ supportedFeatures: string[] }>(admin, "config");
        await connected(admin);
        if (mode === "upgrade") await upgraded(admin);
        assert.ok((await within(config, "config")).supportedFeatures.includes("ALL_EVENTS"));

        const seen = until(admin, "socket_connected", (s) => (s as { nsp: string }).nsp === "/");
        const updated = mode === "upgrade"
          ? until(admin, "socket_updated", (s) => (s as { nsp: string }).nsp === "/")
          : undefined;
        const client = await fx.connect("/");
        const [socket] = await seen as [{ id: string; clientId: string; transport: string }];
        assert.equal(socket.id, client.id);
        // The client id is the Engine.IO session's, cut to 12 characters by the admin UI.
        assert.equal(socket.clientId, client.io.engine.id.slice(0, 12));
        assert.equal(socket.transport, mode === "websocket" ? "websocket" : "polling");
        if (updated) {
          assert.deepEqual((await updated)[0], {
            id: client.id,
            nsp: "/",
            transport: "websocket",
          });
        }

        const joined = until(admin, "room_joined", (_nsp, room) => room === ROOM);
        const received = until(admin, "event_received", (_nsp, id) => id === client.id);
        await client.timeout(5000).emitWithAck("join", ROOM);
        assert.deepEqual((await joined).slice(0, 3), ["/", ROOM, client.id]);
        assert.deepEqual((await received).slice(0, 3), ["/", client.id, ["join", ROOM]]);

        // Counted by transport once every session is where it stays: both on polling, or none.
        const [stats] = await until(admin, "server_stats") as [Record<string, unknown>];
        assert.equal(stats.clientsCount, 2);
        assert.equal(stats.pollingClientsCount, mode === "polling" ? 2 : 0);

        const left = until(admin, "room_left", (_nsp, room) => room === ROOM);
        admin.emit("leave", "/", ROOM, client.id);
        await left;
        assert.deepEqual(await client.timeout(5000).emitWithAck("rooms"), [client.id]);

        const id = client.id; // undefined once disconnected
        const gone = next(client, "disconnect");
        const reported = until(admin, "socket_disconnected", (_nsp, sid) => sid === id);
        admin.emit("_disconnect", "/", false, id);
        assert.equal(await within(gone, "disconnect"), "io server disconnect");
        assert.equal((await reported)[2], "server namespace disconnect");
      } finally {
        await fx.close();
        stop();
      }
    },
  });
}

browserTest(
  "admin UI in Chromium: our server on Deno, dashboard on the same origin",
  async (chromium) => {
    const pkg = await adminUiPackage();
    const io = new Server();
    const stop = stoppable(() => adminUiApp(io, instrument as unknown as Instrument));
    const files = dashboardFiles(`${pkg}/ui/dist`, "/admin/");
    const http = serve(io.handler((req) => files(req) ?? new Response(null, { status: 404 })));
    let browser: Browser | undefined;
    try {
      browser = await launchChromium(chromium);
      await dashboardScenario(browser, `${http.origin}/admin/`, http.origin, false);
    } finally {
      await browser?.close();
      await io.close();
      await http.close();
      stop();
    }
  },
);

browserTest("admin UI in Chromium: our server on Bun, dashboard cross-origin", async (chromium) => {
  const bun = await findBun();
  if (!bun) {
    console.log("SKIPPED: bun not installed and could not be installed from npm");
    return;
  }
  const pkg = await adminUiPackage();
  const files = dashboardFiles(`${pkg}/ui/dist`, "/");
  const http = serve((req) => files(req) ?? new Response(null, { status: 404 }));
  const fixture = await startFixture(bun, ["run", BUN_FIXTURE, pkg, http.origin], (out) => {
    const end = out.indexOf("\n") + 1;
    return end > 0 ? { port: JSON.parse(out.slice(0, end)).port, end } : undefined;
  });
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(chromium);
    await dashboardScenario(browser, `${http.origin}/`, `http://127.0.0.1:${fixture.port}`, true);
  } finally {
    await browser?.close();
    const { out, err } = await fixture.stop();
    await http.close();
    assert.doesNotMatch(out + err, /Error/, out + err);
  }
});
