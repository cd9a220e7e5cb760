/**
 * Options validation: one table of rules per layer, checked once at construction. A wrong type
 * throws a `TypeError`, a wrong value a `RangeError`, both naming the option and the bad value; an
 * unknown name warns with the closest known one. Browser compatible.
 *
 * Each rule returns the value to use, so the few normalizations the official servers make (a
 * path's trailing slash, `cookie: true`) happen in the same place as the checks.
 *
 * @module
 */

/** Checks one option's value and returns the value to use (`undefined`: the default). */
export type Rule = (value: unknown, name: string) => unknown;

/** The rules of a set of options, by option name. */
export type Rules = Readonly<Record<string, Rule>>;

/** The largest delay `setTimeout` honours; larger ones fire at once. */
export const MAX_DELAY = 2 ** 31 - 1;

/** How a value shows in an error message: strings quoted, objects by kind. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (value === null) return "null";
  if (typeof value === "object") return "an object";
  return String(value);
}

/** A `TypeError` for option `name`: it is not `expected`. */
export function typeError(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`option "${name}" must be ${expected}, got ${show(value)}`);
}

/** A `RangeError` for option `name`: it is not `expected`. */
export function rangeError(name: string, expected: string, value: unknown): RangeError {
  return new RangeError(`option "${name}" must be ${expected}, got ${show(value)}`);
}

/** A boolean. */
export const bool: Rule = (v, name) => {
  if (typeof v !== "boolean") throw typeError(name, "a boolean", v);
  return v;
};

/** A function (a callback or a class). */
export const fn: Rule = (v, name) => {
  if (typeof v !== "function") throw typeError(name, "a function", v);
  return v;
};

/** A string. */
export const str: Rule = (v, name) => {
  if (typeof v !== "string") throw typeError(name, "a string", v);
  return v;
};

/** A valid `Date`. */
export const date: Rule = (v, name) => {
  if (!(v instanceof Date)) throw typeError(name, "a Date", v);
  if (Number.isNaN(v.getTime())) throw rangeError(name, "a valid Date", v);
  return v;
};

/** A number in `[min, max]` (`min` excluded when `positive`). */
export function num(
  opts: { min?: number; max?: number; positive?: boolean; int?: boolean; what?: string },
): Rule {
  const { min = 0, max = Number.MAX_SAFE_INTEGER, positive = false, int = false } = opts;
  const what = opts.what ?? (int ? "an integer" : "a number");
  const expected = `${what} ${positive ? `above ${min}` : `from ${min}`} up to ${max}`;
  return (v, name) => {
    if (typeof v !== "number") throw typeError(name, what, v);
    if (!(positive ? v > min : v >= min) || !(v <= max) || (int && !Number.isInteger(v))) {
      throw rangeError(name, expected, v);
    }
    return v;
  };
}

/** A delay in milliseconds that timers can honour. */
export const delay: Rule = num({
  positive: true,
  max: MAX_DELAY,
  what: "a number of milliseconds",
});

/** One of `values`; strings compare case-insensitively when `caseless`, and come back lower-cased. */
export function oneOf(values: readonly unknown[], caseless = false): Rule {
  const expected = "one of " + values.map(show).join(", ");
  return (v, name) => {
    const key = caseless && typeof v === "string" ? v.toLowerCase() : v;
    if (!values.includes(key)) throw rangeError(name, expected, v);
    return key;
  };
}

/**
 * `true` (the defaults: `{}`), `false` (off), or an object whose fields follow `rules`, as the
 * official servers read `cookie`, `cors` and `connectionStateRecovery`.
 */
export function flagOrObject(rules: Rules): Rule {
  const fields = object(rules);
  return (v, name) => {
    if (v === true) return {};
    if (v === false) return undefined;
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw typeError(name, "a boolean or an object", v);
    }
    return fields(v, name);
  };
}

/** A string or an array of strings. */
export const strings: Rule = (v, name) => {
  if (typeof v === "string") return v;
  if (Array.isArray(v) && v.every((s) => typeof s === "string")) return v;
  throw typeError(name, "a string or an array of strings", v);
};

/** An object whose fields follow `rules` (checked with `name.field` names). */
export function object(rules: Rules): Rule {
  return (v, name) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) {
      throw typeError(name, "an object", v);
    }
    return validateOptions(v as Record<string, unknown>, rules, name + ".");
  };
}

/**
 * An object with these methods (and, where given, these optional ones), such as a strategy or
 * a runtime; `what` names it in the error.
 */
export function methods(
  what: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Rule {
  const list = required.join(", ");
  return (v, name) => {
    const o = v as Record<string, unknown> | null;
    if (
      typeof o !== "object" || o === null || required.some((m) => typeof o[m] !== "function") ||
      optional.some((m) => o[m] !== undefined && typeof o[m] !== "function")
    ) throw typeError(name, `${what} (an object with the methods ${list})`, v);
    return v;
  };
}

/**
 * An official option that only tunes what the runtime does here (compression, the `ws` engine):
 * accepted for ported code, and ignored.
 */
export const ignored: Rule = () => undefined;

/** An official option this server does not implement: warns, and is ignored. */
export function unsupported(why: string): Rule {
  return (_v, name) => {
    console.warn(`socketio-edge: option "${name}" is not supported (${why}); it is ignored`);
    return undefined;
  };
}

/**
 * Checks `opts` against `rules`; returns a new object with the known options, normalized, and
 * without those left undefined. Unknown names warn (with the closest known name) and are dropped.
 *
 * @param opts the options as given
 * @param rules the rules by option name
 * @param prefix put before names in messages (`"cookie."` for a nested object)
 * @throws TypeError or RangeError naming the first wrong option
 */
export function validateOptions(
  opts: Record<string, unknown>,
  rules: Rules,
  prefix = "",
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(opts)) {
    const value = opts[key];
    const rule = Object.hasOwn(rules, key) ? rules[key] : undefined;
    if (rule === undefined) {
      const near = closest(key, Object.keys(rules));
      console.warn(
        `socketio-edge: unknown option "${prefix}${key}"` +
          (near ? ` (did you mean "${prefix}${near}"?)` : "") + "; it is ignored",
      );
      continue;
    }
    if (value === undefined) continue;
    const checked = rule(value, prefix + key);
    if (checked !== undefined) out[key] = checked;
  }
  return out;
}

/** The known name nearest to `name` by edit distance (case aside), if near enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const d = distance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, one row at a time. */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(
        row[j] + 1,
        next[j - 1] + 1,
        row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    row = next;
  }
  return row[b.length];
}
