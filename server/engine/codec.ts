/**
 * The wire format of a session, fixed at its handshake: Engine.IO v4, or v3 (with binary
 * payloads, or base64 when the client asked with `b64=1`). Browser compatible.
 *
 * @module
 */
import {
  decodePacket,
  decodePayload,
  encodePacket,
  encodePayload,
  type EnginePacket,
} from "../../parser/engine.ts";
import {
  decodePacketV3,
  decodePayloadV3,
  encodePacketV3,
  encodePayloadV3,
} from "../../parser/engine_v3.ts";
import type { DecodeError } from "../../parser/errors.ts";

/** How one session frames packets on each transport. */
export interface WireCodec {
  /** 3 or 4. */
  readonly protocol: number;
  /** Whether a POST may carry a binary (`application/octet-stream`) payload. */
  readonly binaryPosts: boolean;
  /** One WebSocket frame. */
  encodeFrame(packet: EnginePacket): string | Uint8Array;
  /** Decodes one WebSocket frame. */
  decodeFrame(data: string | Uint8Array): EnginePacket | DecodeError;
  /** One polling payload. */
  encodePayload(packets: readonly EnginePacket[]): string | Uint8Array;
  /** Decodes one POSTed payload. */
  decodePayload(body: string | Uint8Array): EnginePacket[] | DecodeError;
}

const V4: WireCodec = {
  protocol: 4,
  binaryPosts: false,
  encodeFrame: (p) => encodePacket(p, true),
  decodeFrame: (d) => decodePacket(d),
  encodePayload: (ps) => encodePayload(ps),
  decodePayload: (b) => decodePayload(b as string),
};

const v3 = (supportsBinary: boolean): WireCodec => ({
  protocol: 3,
  binaryPosts: true,
  encodeFrame: (p) => encodePacketV3(p, true),
  decodeFrame: (d) => decodePacketV3(d),
  encodePayload: (ps) => encodePayloadV3(ps, supportsBinary),
  decodePayload: (b) => decodePayloadV3(b),
});
const V3_BINARY = v3(true);
const V3_BASE64 = v3(false);

/** The codec of a session: `protocol` from `EIO`, `base64` from the v3 `b64` parameter. */
export function codecFor(protocol: number, base64: boolean): WireCodec {
  if (protocol === 4) return V4;
  return base64 ? V3_BASE64 : V3_BINARY;
}
