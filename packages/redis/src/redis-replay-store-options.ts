/** The `redisReplayStore` options, validated once, synchronously, when the store is created. */
import type { RedisClientLike, RedisConnection } from './redis-client.js';
import { clientOption, optionsOf, prefixOption, timeoutOption } from './redis-options.js';

/** Options of `redisReplayStore()`. */
export interface RedisReplayStoreOptions {
  /**
   * A connected ioredis client (`new Redis(…)`, also sentinel-backed, or `new Cluster(…)`) or
   * node-redis client (`createClient(…)` after `connect()`, a client pool, or `createCluster(…)`).
   * The application creates it, handles its `error` events and closes it; the store never closes it.
   */
  client: RedisClientLike;
  /** Prepended to every key the store writes (`${prefix}${key}`). Default `certbound:`. */
  prefix?: string;
  /**
   * Budget of each Redis command, milliseconds (a positive integer up to 60000). A command that
   * takes longer is given up and `setIfAbsent` rejects. Default 100.
   */
  timeoutMs?: number;
}

export interface NormalizedRedisReplayStoreOptions {
  connection: RedisConnection;
  prefix: string;
  timeoutMs: number;
}

const STORE = 'redisReplayStore';
const KNOWN = ['client', 'prefix', 'timeoutMs'];

export function normalizeRedisReplayStoreOptions(value: unknown): NormalizedRedisReplayStoreOptions {
  const options = optionsOf(STORE, value, KNOWN, '{ client, prefix?, timeoutMs? }');
  return {
    connection: clientOption(STORE, options.client),
    prefix: prefixOption(STORE, options.prefix),
    timeoutMs: timeoutOption(STORE, options.timeoutMs),
  };
}
