/**
 * The official Socket.IO v5 protocol suite against our server (`fixtures/protocol_socketio.ts`).
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runProtocolSuite } from "./protocol.ts";

/** Runs `docs/socket.io-protocol/v5-test-suite` of the snapshot. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runProtocolSuite(
    {
      name: "socket.io protocol v5",
      dir: "docs/socket.io-protocol/v5-test-suite",
      fixture: "protocol_socketio.ts",
      notApplicable: {},
    },
    snapshotDir,
    workDir,
  );
}
