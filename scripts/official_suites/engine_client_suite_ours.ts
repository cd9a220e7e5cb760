/**
 * The official engine.io-client suite against our engine with our client's `Engine` swapped in
 * for the official `Socket` (see `engine_client_suite.ts` and `engine_client_shim.ts`).
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runEngineClientSuite } from "./engine_client_suite.ts";

/** Runs the suite with our client's Engine.IO socket. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runEngineClientSuite(snapshotDir, workDir, "ours");
}
