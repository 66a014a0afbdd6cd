/**
 * A shared introspection cache in Redis (`introspection.cache.store`), for many API instances.
 * Entries are authenticated with the store's secret, expire in Redis no later than the token,
 * and a slow or absent Redis is a miss within `timeoutMs`: never a failed request.
 */
import type { CacheEntry, CacheStore } from '@certbound/core';
import { CommandRunner, FAILED } from './command-runner.js';
import { decodeEntry, encodeEntry } from './entry-format.js';
import { textOf } from './redis-client.js';
import { normalizeRedisStoreOptions, type RedisStoreOptions } from './redis-store-options.js';

/**
 * Creates a {@link CacheStore} over a connected ioredis or node-redis client (standalone, pool or
 * cluster), to plug in as `introspection.cache.store` so that API instances share introspection
 * results.
 *
 * - Keys are `${prefix}${key}`, where the core's `key` is already a namespaced SHA-256 hash of
 *   the token (never the token). Only `GET`, `SET … PX …` and `DEL` are sent, each on one key
 *   (so on a Redis Cluster each goes to one slot's master); never `KEYS` or `SCAN`.
 * - Each value carries an HMAC-SHA-256, under `secret`, of itself, its key and its expiry: an
 *   entry altered in Redis, copied or moved to another key, or with its expiry changed, is a
 *   miss.
 * - An entry lives in Redis for `min(ttlMs, expiresAt - now)` and is a miss once `expiresAt`
 *   has passed.
 * - `get` resolves `undefined`, and `set`/`delete` resolve, within about `timeoutMs` whatever
 *   Redis does; none of them ever rejects. Nothing is sent while the client says it is not
 *   connected. While commands keep failing, one at a time probes Redis and the others are
 *   skipped at once; sharing resumes with the first command that succeeds (no open circuit).
 *
 * Options are validated synchronously: a bad or unknown one throws a `TypeError` such as
 * `Invalid certbound option: "redisStore.secret" must be a string or Buffer of at least 32 bytes`.
 *
 * @example
 * ```ts
 * import { createVerifier } from '@certbound/core';
 * import { redisStore } from '@certbound/redis';
 * import { Redis } from 'ioredis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const verifier = createVerifier({
 *   issuer: 'https://as.example.com',
 *   audience: 'https://api.example.com',
 *   introspection: {
 *     clientId: 'api',
 *     clientSecret: process.env.INTROSPECTION_SECRET!,
 *     cache: { store: redisStore({ client: redis, secret: process.env.CERTBOUND_CACHE_SECRET! }) },
 *   },
 * });
 * ```
 */
export function redisStore(options: RedisStoreOptions): CacheStore {
  const { connection, prefix, secret, timeoutMs } = normalizeRedisStoreOptions(options);
  const runner = new CommandRunner(connection, timeoutMs);

  return {
    async get(key: string): Promise<CacheEntry | undefined> {
      const redisKey = `${prefix}${key}`;
      const reply = await runner.run(['GET', redisKey]);
      const stored = reply === FAILED ? undefined : textOf(reply);
      return stored === undefined ? undefined : decodeEntry(secret, redisKey, stored, Date.now());
    },

    async set(key: string, entry: CacheEntry, ttlMs: number): Promise<void> {
      const redisKey = `${prefix}${key}`;
      // Never outlive the token: the smaller of the core's TTL and the entry's own expiry.
      const px = Math.floor(Math.min(ttlMs, entry.expiresAt - Date.now()));
      if (!(px > 0)) return;
      let value: string;
      try {
        value = encodeEntry(secret, redisKey, entry);
      } catch {
        return; // not JSON-serializable: not shared, still cached in process
      }
      await runner.run(['SET', redisKey, value, 'PX', String(px)]);
    },

    async delete(key: string): Promise<void> {
      await runner.run(['DEL', `${prefix}${key}`]);
    },
  };
}
