/**
 * Finds and launches a headless Chromium for the browser tests: Debian's `/usr/bin/chromium`, or
 * the executable `$CHROMIUM` names, driven by npm `playwright-core`.
 *
 * @module
 */
import { type Browser, chromium } from "playwright-core";

/** The Chromium executable: `$CHROMIUM`, else `/usr/bin/chromium`; undefined when missing. */
export function findChromium(): string | undefined {
  const path = Deno.env.get("CHROMIUM") || "/usr/bin/chromium";
  try {
    return Deno.statSync(path).isFile ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Launches it headless, with what a sandboxed CI container needs. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A test that runs in Chromium, or prints `SKIPPED` when there is none. Sanitizers are off for
 * it alone: playwright-core keeps its pipe to the browser and some timers past `browser.close()`.
 */
export function browserTest(name: string, fn: (chromium: string) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const chromium = findChromium();
      if (!chromium) {
        console.log("SKIPPED: chromium not installed");
        return;
      }
      await fn(chromium);
    },
  });
}
