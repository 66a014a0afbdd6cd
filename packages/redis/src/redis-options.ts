/**
 * What the options of both stores (`redisStore`, `redisReplayStore`) have in common, validated
 * once, synchronously, with one message grammar:
 * `Invalid certbound option: "<store>.<option>" must be …`.
 */
import { connectionOf, type RedisConnection } from './redis-client.js';

/** Default prefix of every Redis key the stores write. */
export const DEFAULT_REDIS_PREFIX = 'certbound:';
/** Default budget of each Redis command, milliseconds; past it, the command is given up. */
export const DEFAULT_REDIS_TIMEOUT_MS = 100;
/** Largest accepted `timeoutMs`, milliseconds. */
export const MAX_REDIS_TIMEOUT_MS = 60_000;

export function fail(name: string, expectation: string): never {
  throw new TypeError(`Invalid certbound option: "${name}" must be ${expectation}`);
}

/** The options object of `store`, whose option names are all in `known`. */
export function optionsOf(
  store: string,
  value: unknown,
  known: readonly string[],
  signature: string,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(store, `called with an object ${signature}`);
  }
  const options = value as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!known.includes(name))
      throw new TypeError(`Invalid certbound option: unknown option "${store}.${name}"`);
  }
  return options;
}

export function clientOption(store: string, client: unknown): RedisConnection {
  const connection = connectionOf(client);
  if (connection === undefined) {
    fail(
      `${store}.client`,
      'an ioredis client (Redis or Cluster) or a node-redis client, pool or cluster (for a sentinel, use ioredis)',
    );
  }
  return connection;
}

export function prefixOption(store: string, prefix: unknown): string {
  const value = prefix ?? DEFAULT_REDIS_PREFIX;
  if (typeof value !== 'string') fail(`${store}.prefix`, 'a string');
  return value;
}

export function timeoutOption(store: string, timeoutMs: unknown): number {
  const value = timeoutMs ?? DEFAULT_REDIS_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0 || value > MAX_REDIS_TIMEOUT_MS) {
    fail(`${store}.timeoutMs`, `a positive integer up to ${MAX_REDIS_TIMEOUT_MS}`);
  }
  return value;
}
