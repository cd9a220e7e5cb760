/**
 * A `node_modules` folder of links into Deno's npm cache, for tools that resolve packages the
 * Node way (esbuild, Bun): the npm packages of deno.json's import map and their dependencies, at
 * deno.lock's versions, so that they run what the tests run.
 *
 * @module
 */

const ROOT = new URL("../", import.meta.url);

/**
 * Fills `<root>/node_modules/` (emptied first) with links to the packages `names` of deno.json's
 * import map and their dependencies; each is imported first, which puts it in Deno's cache.
 *
 * @param names bare specifiers of deno.json's import map (npm packages)
 * @param root the folder to hold `node_modules/`
 * @returns the `node_modules/` folder's path, with its trailing slash
 */
export async function linkNpmModules(names: string[], root: string): Promise<string> {
  for (const name of names) await import(name);
  const config = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  const lock = JSON.parse(await Deno.readTextFile(new URL("deno.lock", ROOT)));
  const info = await new Deno.Command(Deno.execPath(), { args: ["info", "--json"] }).output();
  const cache = JSON.parse(new TextDecoder().decode(info.stdout)).npmCache;
  const dir = `${root}/node_modules/`;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  // `name@version` keys; a dependency is named alone when the lock has one version of it.
  const nameOf = (key: string) => key.slice(0, key.lastIndexOf("@"));
  const keyOf = (dep: string) =>
    lock.npm[dep] ? dep : Object.keys(lock.npm).find((key) => nameOf(key) === dep)!;
  const linked = new Set<string>();
  const link = async (key: string) => {
    const name = nameOf(key);
    if (linked.has(name)) return;
    linked.add(name);
    await Deno.mkdir(dir + name.slice(0, name.lastIndexOf("/") + 1), { recursive: true });
    await Deno.symlink(
      `${cache}/registry.npmjs.org/${name}/${key.slice(name.length + 1)}`,
      dir + name,
    );
    for (const dep of lock.npm[key].dependencies ?? []) await link(keyOf(dep));
  };
  for (const name of names) await link(`${name}@${lock.specifiers[config.imports[name]]}`);
  return dir;
}
