/**
 * A `fetch` for the polling transport on `node:http`, whose connections do not keep the process
 * alive (`autoUnref`): the same requests, answered as a standard `Response`.
 *
 * @module
 */
import type * as http from "node:http";

/**
 * Makes the `fetch`.
 *
 * @param plain `node:http`
 * @param secure `node:https`
 * @returns a `fetch` taking a URL, a method, headers and a text body
 */
export function unrefFetch(
  plain: typeof http,
  secure: typeof http,
): (url: string, init: RequestInit) => Promise<Response> {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, key) => headers[key] = value);
      const body = init.body as string | undefined;
      const req = (target.protocol === "https:" ? secure : plain).request(
        target,
        { method: init.method, headers },
        (res) => {
          const chunks: Uint8Array[] = [];
          res.on("data", (chunk: Uint8Array) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const answer = new Headers();
            const raw = res.rawHeaders;
            for (let i = 0; i < raw.length; i += 2) answer.append(raw[i], raw[i + 1]);
            const status = res.statusCode!;
            // A null-body status takes no body, not even an empty one.
            const empty = status === 204 || status === 205 || status === 304;
            resolve(
              new Response(empty ? null : new Blob(chunks as BlobPart[]), {
                status,
                statusText: res.statusMessage,
                headers: answer,
              }),
            );
          });
        },
      );
      req.on("socket", (socket) => socket.unref());
      req.on("error", reject);
      req.end(body);
    });
}
