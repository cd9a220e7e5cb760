/**
 * The rig itself on our side: our node (our_node.ts) alone with the in-memory adapter, under
 * Deno and under Bun, through the scenarios that need one node only. No Redis.
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "memory", nodes: ["deno"] });
clusterTests({ adapter: "memory", nodes: ["bun"] });
