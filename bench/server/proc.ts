/**
 * CPU time and resident memory of a process and all its descendants, read from /proc (Linux).
 * The server is measured from outside because on 2 cores the load generator is often the
 * bottleneck: CPU per operation then compares servers fairly where throughput cannot.
 *
 * @module
 */

/** USER_HZ: /proc reports CPU time in ticks of 10 ms on every mainstream Linux build. */
const TICK_US = 10_000;

/** What one process contributes; threads are already summed by the kernel. */
interface ProcStat {
  ppid: number;
  cpuUs: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined; // gone between listing and reading
  }
  // The command name is in parentheses and may itself hold spaces: split after the last ')'.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // Fields counted from `state` (field 3): ppid is 4, utime 14, stime 15.
  return { ppid: Number(f[1]), cpuUs: (Number(f[11]) + Number(f[12])) * TICK_US };
}

/** Pids of `root` and its descendants. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of Deno.readDirSync("/proc")) {
    const pid = Number(e.name);
    if (!Number.isInteger(pid)) continue;
    const s = readStat(pid);
    if (!s) continue;
    const list = children.get(s.ppid);
    if (list) list.push(pid);
    else children.set(s.ppid, [pid]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0 && out.length < 10_000) {
    const pid = todo.pop()!;
    out.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** CPU microseconds (user + system) used so far by `root`'s process tree. */
export function treeCpuUs(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) sum += readStat(pid)?.cpuUs ?? 0;
  return sum;
}

/** Resident memory in KiB of `root`'s process tree (VmRSS). */
export function treeRssKiB(root: number): number {
  let sum = 0;
  for (const pid of processTree(root)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
      if (m) sum += Number(m[1]);
    } catch {
      // exited meanwhile
    }
  }
  return sum;
}
