/**
 * A Bun process hosting cluster nodes as Bun Workers (worker_node.ts), for workers.ts: Bun's
 * BroadcastChannel spans the Workers of one process. Each stdin line is a JSON command:
 * `{ node, spawn: true }` starts worker `node`, `{ node, msg }` posts `msg` to it,
 * `{ node, terminate: true }` ends it abruptly (answered with `{ type: "terminated" }`). Each
 * message of worker `node` comes out as a stdout line `{ node, msg }`, its errors as
 * `{ node, msg: { type: "error", error } }`. Ends when stdin closes.
 *
 *   bun run tests/cluster/bun_workers.ts
 *
 * @module
 */
declare const Bun: { stdin: { stream(): ReadableStream<Uint8Array> } };
declare const process: { exit(code?: number): never };

const workers = new Map<number, Worker>();
const out = (line: unknown) => console.log(JSON.stringify(line));
const url = new URL("./worker_node.ts", import.meta.url).href;

let buffered = "";
const decoder = new TextDecoder();
for await (const chunk of Bun.stdin.stream()) {
  buffered += decoder.decode(chunk, { stream: true });
  let end;
  while ((end = buffered.indexOf("\n")) !== -1) {
    const line = JSON.parse(buffered.slice(0, end));
    buffered = buffered.slice(end + 1);
    const node: number = line.node;
    if (line.spawn) {
      const worker = new Worker(url, { type: "module" });
      worker.onmessage = (event: MessageEvent) => out({ node, msg: event.data });
      worker.onerror = (event) =>
        out({ node, msg: { type: "error", error: String(event.message) } });
      workers.set(node, worker);
    } else if (line.terminate) {
      workers.get(node)?.terminate();
      workers.delete(node);
      out({ node, msg: { type: "terminated" } });
    } else {
      workers.get(node)?.postMessage(line.msg);
    }
  }
}
for (const worker of workers.values()) worker.terminate();
process.exit(0);
