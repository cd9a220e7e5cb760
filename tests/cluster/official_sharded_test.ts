/**
 * The mixed-cluster scenarios on official nodes only (socket.io 4.8.4 on Node) with
 * `@socket.io/redis-adapter@8.3.0`'s `createShardedAdapter` (SPUBLISH / SSUBSCRIBE, dynamic room
 * channels), on node-redis and on ioredis: the official behaviour the scenarios assert.
 */
import { clusterTests } from "./cluster.ts";

clusterTests({ adapter: "sharded", nodes: ["official", "official"] });
