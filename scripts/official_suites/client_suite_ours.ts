/**
 * The official socket.io-client suite against our server with OUR client swapped in for the
 * official one (see `client_suite.ts`).
 *
 * @module
 */
import type { SuiteResult } from "./types.ts";
import { runClientSuite } from "./client_suite.ts";

/** Runs the suite with our client. */
export function run(snapshotDir: string, workDir: string): Promise<SuiteResult> {
  return runClientSuite(snapshotDir, workDir, "ours");
}
