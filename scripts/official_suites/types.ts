/**
 * The shape every official-suite runner returns, so `main.ts` can print one table for all.
 *
 * @module
 */

/** The outcome of one official test suite, test by test (titles as the suite names them). */
export interface SuiteResult {
  /** The suite's name as printed in the table, e.g. `"engine.io protocol v4"`. */
  name: string;
  /** Full titles of the tests that passed. */
  passed: string[];
  /** Tests that failed (or did not run although applicable), with their error's message. */
  failed: { title: string; error: string }[];
  /** Tests that read an official internal, with the reason they do not apply to us. */
  notApplicable: { title: string; reason: string }[];
}
