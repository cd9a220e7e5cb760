/**
 * The rig itself on our side: our node (our_node.ts) alone with the in-memory adapter, under
 * Deno and under Bun, through the scenarios that need one node only; with Redis clients
 * connected (and closed when it stops: it must exit by itself), though the adapter uses none.
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "memory", nodes: ["deno"], redis: true });
clusterTests({ adapter: "memory", nodes: ["bun"], redis: true });
