import * as ep from "engine.io-parser";
import { Buffer } from "node:buffer";
import { decodePacket, decodePayload, encodePacket, encodePayload } from "../parser/engine.ts";
import { decodeBase64, decodeBase64Portable } from "../parser/base64.ts";
const msg = { type: "message" as const, data: '2["chat","hello world, this is a message"]' };
const bin = { type: "message" as const, data: crypto.getRandomValues(new Uint8Array(1024)) };
let sink = 0;
function bench(name: string, f: () => unknown) {
  for (let i = 0; i < 20000; i++) f();
  const n = 300000; const t = performance.now(); for (let i = 0; i < n; i++) { const r = f(); if (r) sink++; }
  console.log(name.padEnd(28), ((performance.now() - t) * 1e6 / n).toFixed(0), "ns");
}
const payload = encodePayload([msg, msg, bin]);
const textPayload = encodePayload([msg, msg, msg]);
const b64 = encodePacket(bin, false) as string;
for (let r = 0; r < 2; r++) {
bench("ref  encode text", () => { let o; ep.encodePacket(msg, true, (x: unknown) => o = x); return o; });
bench("ours encode text", () => encodePacket(msg, true));
bench("ours decodePayload text", () => decodePayload(textPayload));
bench("ref  decodePayload text", () => ep.decodePayload(textPayload));
bench("ours b64 decode", () => decodeBase64(b64, 1));
bench("ours b64 portable decode", () => decodeBase64Portable(b64, 1));
bench("Buffer b64 decode", () => Buffer.from(b64.substring(1), "base64"));
}
console.log(sink);
