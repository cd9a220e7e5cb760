/**
 * Markdown of the issue-14 connection benches: one row per figure, one column per server, each
 * cell the best of the rounds with its ratio to the first server (the official one on Node),
 * then the spread between rounds of each.
 *
 * @module
 */
import type { ServerDef } from "../server/servers.ts";

/** One row: its label, and the value of each round of a server (undefined when none). */
export interface Figure {
  label: string;
  higherIsBetter: boolean;
  /** Whether the ratio to the baseline is shown. */
  ratio?: boolean;
  values: (key: string) => number[];
  format: (n: number) => string;
}

/** Three significant figures at most, no exponent. */
export function small(n: number): string {
  const a = Math.abs(n);
  return a >= 100 ? n.toFixed(0) : a >= 10 ? n.toFixed(1) : n.toFixed(2);
}

/** 12.3 k, 1.20 M. */
export function rate(n: number): string {
  if (n >= 1e6) return (n / 1e6).toFixed(2) + " M";
  if (n >= 1e3) return (n / 1e3).toFixed(1) + " k";
  return n.toFixed(0);
}

/** The table of figures, then the table of spreads ((best − worst) / best) when rounds > 1. */
export function table(servers: ServerDef[], figures: Figure[]): string {
  const head = `| | ${servers.map((s) => s.label).join(" | ")} |\n` +
    `| --- | ${servers.map(() => "---:").join(" | ")} |`;
  const main = [head];
  const spread = [head];
  let multi = false;
  for (const fig of figures) {
    const best = (key: string) => {
      const xs = fig.values(key).filter(Number.isFinite);
      if (xs.length === 0) return undefined;
      const hi = Math.max(...xs);
      const lo = Math.min(...xs);
      if (xs.length > 1) multi = true;
      return {
        best: fig.higherIsBetter ? hi : lo,
        spread: xs.length > 1 && hi > 0 ? `${((hi - lo) / hi * 100).toFixed(0)}%` : "–",
      };
    };
    const base = best(servers[0].key);
    const cells: string[] = [];
    const spreads: string[] = [];
    for (const s of servers) {
      const b = best(s.key);
      if (!b) {
        cells.push("–");
        spreads.push("–");
        continue;
      }
      const ratio = fig.ratio !== false && s !== servers[0] && base && base.best > 0 && b.best > 0
        ? ` (${(b.best / base.best).toFixed(2)}×)`
        : "";
      cells.push(fig.format(b.best) + ratio);
      spreads.push(b.spread);
    }
    main.push(`| ${fig.label} | ${cells.join(" | ")} |`);
    spread.push(`| ${fig.label} | ${spreads.join(" | ")} |`);
  }
  if (!multi) return `${main.join("\n")}\n\n(One round: no spread to show.)`;
  return `${main.join("\n")}\n\nSpread between rounds ((best − worst) / best):\n\n${
    spread.join("\n")
  }`;
}
