/**
 * The conformance app (../app.ts) on Cloudflare Workers, as a user ports it: `setup(io)` in a
 * Durable Object of the Workers entry (`defineSocketIO`, WebSockets through the Hibernation API,
 * the default), bound as `SOCKET_IO`, with `socketIOWorker` in front sending every request to
 * the one object. Built and run in workerd by tests/helpers/workerd.ts.
 */
import { defineSocketIO, socketIOWorker } from "../../../workers/mod.ts";
import { OPTIONS, setup } from "../app.ts";

/** The Durable Object hosting the app. */
export const SocketIO = defineSocketIO({ options: OPTIONS, setup });

export default socketIOWorker({ binding: "SOCKET_IO" });
