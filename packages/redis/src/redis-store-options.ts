/** The `redisStore` options, validated once, synchronously, when the store is created. */
import { createSecretKey, type KeyObject } from 'node:crypto';
import { connectionOf, type RedisClientLike, type RedisConnection } from './redis-client.js';

/** Default prefix of every Redis key the store writes. */
export const DEFAULT_REDIS_PREFIX = 'certbound:';
/** Default budget of each Redis command, milliseconds; past it, the lookup is a miss. */
export const DEFAULT_REDIS_TIMEOUT_MS = 100;
/** Largest accepted `timeoutMs`, milliseconds. */
export const MAX_REDIS_TIMEOUT_MS = 60_000;
/** Shortest accepted `secret`, bytes (the HMAC-SHA-256 output size, RFC 2104 §3). */
export const MIN_REDIS_SECRET_BYTES = 32;

/** Options of `redisStore()`. */
export interface RedisStoreOptions {
  /**
   * A connected ioredis client (`new Redis(…)`, also sentinel-backed, or `new Cluster(…)`) or
   * node-redis client (`createClient(…)` after `connect()`, or a client pool). The application
   * creates it, handles its `error` events and closes it; the store never closes it.
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

const KNOWN = new Set(['client', 'prefix', 'secret', 'timeoutMs']);

function fail(name: string, expectation: string): never {
  throw new TypeError(`Invalid certbound option: "${name}" must be ${expectation}`);
}

export function normalizeRedisStoreOptions(value: unknown): NormalizedRedisStoreOptions {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail('redisStore', 'called with an object { client, secret, prefix?, timeoutMs? }');
  }
  const options = value as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KNOWN.has(name))
      throw new TypeError(`Invalid certbound option: unknown option "redisStore.${name}"`);
  }

  const connection = connectionOf(options.client);
  if (connection === undefined) {
    fail(
      'redisStore.client',
      'an ioredis client (Redis or Cluster) or a node-redis client or pool (for a cluster or sentinel, use ioredis)',
    );
  }

  const prefix = options.prefix ?? DEFAULT_REDIS_PREFIX;
  if (typeof prefix !== 'string') fail('redisStore.prefix', 'a string');

  const secret = options.secret;
  const bytes =
    typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.isBuffer(secret) ? secret : undefined;
  if (bytes === undefined || bytes.length < MIN_REDIS_SECRET_BYTES) {
    fail('redisStore.secret', `a string or Buffer of at least ${MIN_REDIS_SECRET_BYTES} bytes`);
  }

  const timeoutMs = options.timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  if (
    typeof timeoutMs !== 'number' ||
    !Number.isInteger(timeoutMs) ||
    timeoutMs <= 0 ||
    timeoutMs > MAX_REDIS_TIMEOUT_MS
  ) {
    fail('redisStore.timeoutMs', `a positive integer up to ${MAX_REDIS_TIMEOUT_MS}`);
  }

  // A KeyObject holds its own copy: later changes to the caller's Buffer do not reach it.
  return { connection, prefix, secret: createSecretKey(bytes), timeoutMs };
}
