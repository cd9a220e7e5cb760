/**
 * CORS for the engine's HTTP responses, with the option names and semantics of npm `cors` (which
 * the official server uses). Browser compatible.
 *
 * @module
 */

/** A static origin rule: `true` reflects any origin, a string is sent as is, RegExp and arrays match. */
export type StaticOrigin = boolean | string | RegExp | (string | RegExp)[];

/** Decides an origin asynchronously: `callback(null, rule)`. */
export type OriginFunction = (
  origin: string | undefined,
  callback: (err: Error | null, origin?: StaticOrigin) => void,
) => void;

/** CORS options, as npm `cors` names them. */
export interface CorsOptions {
  /** Allowed origins (default `*`). */
  origin?: StaticOrigin | OriginFunction;
  /** Allowed methods for preflights (default `GET,HEAD,PUT,PATCH,POST,DELETE`). */
  methods?: string | string[];
  /** Allowed request headers (default: those the preflight asks for). */
  allowedHeaders?: string | string[];
  /** The name npm `cors` also reads for `allowedHeaders`. */
  headers?: string | string[];
  /** Response headers the page may read. */
  exposedHeaders?: string | string[];
  /** Sends `Access-Control-Allow-Credentials: true`. */
  credentials?: boolean;
  /** Seconds a preflight may be cached. */
  maxAge?: number;
  /** Status of a successful preflight (default 204). */
  optionsSuccessStatus?: number;
}

/** What CORS adds to a request's answer; `preflight` is the whole answer of an OPTIONS request. */
export interface CorsResult {
  /** Headers to add to the response. */
  headers: Headers;
  /** Set for a preflight request: answer it with this and do nothing else. */
  preflight?: Response;
}

const list = (v: string | string[]): string => (Array.isArray(v) ? v.join(",") : v);

function matches(origin: string, rule: StaticOrigin): boolean {
  if (Array.isArray(rule)) return rule.some((r) => matches(origin, r));
  if (typeof rule === "string") return origin === rule;
  if (rule instanceof RegExp) {
    rule.lastIndex = 0;
    return rule.test(origin);
  }
  return !!rule;
}

function resolveOrigin(
  fn: OriginFunction,
  origin: string | undefined,
): Promise<StaticOrigin> {
  return new Promise((resolve, reject) => {
    try {
      fn(origin, (err, rule) => (err ? reject(err) : resolve(rule ?? false)));
    } catch (err) {
      reject(err);
    }
  });
}

/**
 * Computes the CORS headers for `req` (and the preflight answer for OPTIONS).
 * Rejects when an origin function reports an error.
 */
export async function applyCors(opts: CorsOptions, req: Request): Promise<CorsResult> {
  const headers = new Headers();
  const origin = req.headers.get("origin") ?? undefined;
  const rule = typeof opts.origin === "function"
    ? await resolveOrigin(opts.origin, origin)
    : opts.origin ?? "*";
  if (rule === false) return { headers };
  if (rule === "*") {
    headers.set("Access-Control-Allow-Origin", "*");
  } else if (typeof rule === "string") {
    headers.set("Access-Control-Allow-Origin", rule);
    headers.append("Vary", "Origin");
  } else {
    if (origin !== undefined && matches(origin, rule)) {
      headers.set("Access-Control-Allow-Origin", origin);
    }
    headers.append("Vary", "Origin");
  }
  if (opts.credentials) headers.set("Access-Control-Allow-Credentials", "true");
  if (opts.exposedHeaders) {
    headers.set("Access-Control-Expose-Headers", list(opts.exposedHeaders));
  }
  if (req.method !== "OPTIONS") return { headers };

  headers.set(
    "Access-Control-Allow-Methods",
    list(opts.methods ?? "GET,HEAD,PUT,PATCH,POST,DELETE"),
  );
  const asked = req.headers.get("access-control-request-headers");
  const allowed = opts.allowedHeaders ?? opts.headers;
  if (allowed) {
    headers.set("Access-Control-Allow-Headers", list(allowed));
  } else if (asked) {
    headers.set("Access-Control-Allow-Headers", asked);
    headers.append("Vary", "Access-Control-Request-Headers");
  }
  if (opts.maxAge !== undefined) headers.set("Access-Control-Max-Age", String(opts.maxAge));
  headers.set("Content-Length", "0");
  const status = opts.optionsSuccessStatus ?? 204;
  return { headers, preflight: new Response(null, { status, headers }) };
}
