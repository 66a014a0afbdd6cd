/** The `redisStore` options, validated once, synchronously, when the store is created. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import type { RedisClientLike, RedisConnection } from './redis-client.js';
import { clientOption, fail, optionsOf, prefixOption, timeoutOption } from './redis-options.js';

/** Shortest accepted `secret`, bytes (the HMAC-SHA-256 output size, RFC 2104 §3). */
export const MIN_REDIS_SECRET_BYTES = 32;

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /**
   * A connected ioredis client (`new Redis(…)`, also sentinel-backed, or `new Cluster(…)`) or
   * node-redis client (`createClient(…)` after `connect()`, a client pool, or `createCluster(…)`).
   * The application creates it, handles its `error` events and closes it; the store never closes it.
   */
  client: RedisClientLike;
  /** Prepended to every key the store writes (`${prefix}${key}`). Default `certbound:`. */
  prefix?: string;
  /**
   * Authenticates each entry together with its key and expiry (HMAC-SHA-256): at least 32
   * bytes, e.g. `randomBytes(32)`, the same on every instance that shares the cache, and kept
   * out of Redis. A string counts its UTF-8 bytes.
   */
  secret: string | Buffer;
  /**
   * Budget of each Redis command, milliseconds (a positive integer up to 60000). A command
   * that takes longer is a miss (`get`) or is given up (`set`, `delete`). Default 100.
   */
  timeoutMs?: number;
}

export interface NormalizedRedisStoreOptions {
  connection: RedisConnection;
  prefix: string;
  secret: KeyObject;
  timeoutMs: number;
}

const STORE = 'redisStore';
const KNOWN = ['client', 'prefix', 'secret', 'timeoutMs'];

export function normalizeRedisStoreOptions(value: unknown): NormalizedRedisStoreOptions {
  const options = optionsOf(STORE, value, KNOWN, '{ client, secret, prefix?, timeoutMs? }');
  const connection = clientOption(STORE, options.client);
  const prefix = prefixOption(STORE, options.prefix);

  const secret = options.secret;
  const bytes =
    typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.isBuffer(secret) ? secret : undefined;
  if (bytes === undefined || bytes.length < MIN_REDIS_SECRET_BYTES) {
    fail(`${STORE}.secret`, `a string or Buffer of at least ${MIN_REDIS_SECRET_BYTES} bytes`);
  }

  const timeoutMs = timeoutOption(STORE, options.timeoutMs);
  // A KeyObject holds its own copy: later changes to the caller's Buffer do not reach it.
  return { connection, prefix, secret: createSecretKey(bytes), timeoutMs };
}
