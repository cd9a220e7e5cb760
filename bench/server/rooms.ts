/**
 * The room path (issue 14), beside the whole-namespace fan-out of scenarios.ts: `rooms` rooms of
 * `perRoom` sockets each (a client joins room `r<k>` by an acked `join` event), and
 * `inflight` broadcasts under way, each `io.to("r<k>").emit(...)` to the next room in turn, the
 * next one sent as soon as every member of a room received one. Deliveries/s, latency per
 * delivery and the server's CPU per delivery.
 *
 * @module
 */
import {
  connectMany,
  HANDSHAKE_TIMEOUT_MS,
  type LoadConfig,
  type LoadResult,
  measureWindow,
  Meter,
} from "./scenarios.ts";
import { WsClient } from "./wire.ts";

/** The room path's load: `clients` is `rooms × perRoom`. */
export interface RoomsConfig extends Omit<LoadConfig, "scenario"> {
  scenario: "rooms";
  rooms: number;
  perRoom: number;
}

/** Runs the room path against one server. */
export async function rooms(cfg: RoomsConfig): Promise<LoadResult> {
  const meter = new Meter(cfg.pid);
  const n = cfg.rooms * cfg.perRoom;
  let k0 = 0;
  const members = new Int32Array(cfg.rooms);
  const clients = await connectMany(n, 100, async () => {
    const room = k0++ % cfg.rooms;
    const c = await WsClient.connect(cfg.port, HANDSHAKE_TIMEOUT_MS);
    // Joined once the server acked "join".
    await new Promise<void>((resolve) => {
      c.onPacket = (p) => {
        if (p.startsWith("431")) resolve();
      };
      c.send(`421["join",${room}]`);
    });
    members[room]++;
    return c;
  });
  const RING = 4096;
  const sentAt = new Float64Array(RING);
  const remaining = new Int32Array(RING);
  const underWay = new Set<number>();
  let next = 0;
  let stopped = false;
  const launch = () => {
    const k = next++;
    const room = k % cfg.rooms;
    sentAt[k % RING] = performance.now();
    remaining[k % RING] = members[room];
    underWay.add(k);
    clients[k % clients.length].send(`42["room",${room},{"k":${k},"text":"hello room"}]`);
  };
  const done = (k: number) => {
    underWay.delete(k);
    if (!stopped) launch();
  };
  for (const c of clients) {
    c.onPacket = (p) => {
      const i = p.indexOf('"k":');
      if (i === -1) return;
      const k = parseInt(p.slice(i + 4, i + 16), 10);
      if (!underWay.has(k)) return; // abandoned by the watchdog
      const slot = k % RING;
      if (meter.measuring) {
        meter.ops++;
        meter.hist.record(performance.now() - sentAt[slot]);
      }
      if (--remaining[slot] === 0) done(k);
    };
  }
  // A broadcast some member never receives would hold its slot forever: give up after 5 s.
  const watchdog = setInterval(() => {
    const now = performance.now();
    for (const k of underWay) {
      if (now - sentAt[k % RING] > 5000) {
        meter.errors++;
        done(k);
      }
    }
  }, 500);
  for (let i = 0; i < Math.min(cfg.inflight, RING); i++) launch();
  const result = await measureWindow(meter, cfg);
  stopped = true;
  clearInterval(watchdog);
  result.errors += clients.filter((c) => c.isClosed).length + (n - clients.length);
  await Promise.all(clients.map((c) => c.close()));
  return result;
}
