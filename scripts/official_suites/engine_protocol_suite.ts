/**
 * The official Engine.IO v4 protocol suite against our engine (`fixtures/protocol_engine.ts`).
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runProtocolSuite } from "./protocol.ts";

/** Runs `docs/engine.io-protocol/v4-test-suite` of the snapshot. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runProtocolSuite(
    {
      name: "engine.io protocol v4",
      dir: "docs/engine.io-protocol/v4-test-suite",
      fixture: "protocol_engine.ts",
      notApplicable: {},
    },
    snapshotDir,
    workDir,
  );
}
