/**
 * The JSR package as `deno publish` would upload it: what it ships (every entry point, the
 * README and licence; no lock file, tests, bench, demo or scripts; one copy of the client's
 * sources for its source maps), no slow types, and every entry point documented.
 *
 * @module
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
const entries: string[] = Object.values(config.exports);

async function deno(...args: string[]): Promise<{ success: boolean; out: string }> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { success, out: text(stdout) + text(stderr) };
}

Deno.test("JSR: the dry run ships what a user needs, with no slow types", async () => {
  const { success, out } = await deno("publish", "--dry-run", "--allow-dirty");
  assert.ok(success, out);
  assert.match(out, /Checking for slow types/);
  const said = out.split("\n").filter((line) => !/^\s+file:\/\//.test(line)).join("\n");
  assert.doesNotMatch(said, /warning|error/i, out);
  const files = [...out.matchAll(/^\s+file:\/\/(\S+) \(/gm)]
    .map(([, path]) => path.slice(ROOT.pathname.length));
  assert.ok(files.length > 50, out);
  for (const entry of entries) assert.ok(files.includes(entry.slice(2)), `${entry} ships`);
  for (const file of ["README.md", "LICENSE", "deno.json", "client/dist/socket.io.js.ts"]) {
    assert.ok(files.includes(file), `${file} ships`);
  }
  const unwanted = files.filter((f) =>
    /^(tests|bench|demo|scripts|\.ci|\.artifacts|node_modules)\//.test(f) ||
    f === "deno.lock" || f.endsWith(".map") || f === "BENCHMARKS.md"
  );
  assert.deepEqual(unwanted, []);

  // The served source maps hold the client's sources once, not once per map: a line of
  // client/manager.ts (one with nothing a string literal would escape) is in one module.
  const manager = await Deno.readTextFile(new URL("client/manager.ts", ROOT));
  const line = manager.split("\n").find((l) => l.length > 60 && !/["'`\\]/.test(l))!;
  const holding = [];
  for (const file of files.filter((f) => f.startsWith("client/dist/"))) {
    if ((await Deno.readTextFile(new URL(file, ROOT))).includes(line)) holding.push(file);
  }
  assert.deepEqual(holding, ["client/dist/sources.ts"]);
  const { texts } = await import("../client/dist/sources.ts");
  assert.equal(texts["client/manager.ts"], manager);
});

Deno.test("JSR: every entry point is documented (deno doc --lint)", async () => {
  const { success, out } = await deno("doc", "--lint", ...entries);
  assert.ok(success, out);
  assert.doesNotMatch(out, /error|warning/i, out);
});
