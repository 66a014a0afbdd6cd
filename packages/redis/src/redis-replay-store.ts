/**
 * DPoP replay detection shared by many API instances (RFC 9449 §11.1), in Redis: a proof's key
 * is stored once, atomically, so a proof accepted by one instance is refused by all the others.
 */
import type { ReplayStore } from '@certbound/core';
import { CommandRunner, FAILED } from './command-runner.js';
import { textOf } from './redis-client.js';
import {
  normalizeRedisReplayStoreOptions,
  type RedisReplayStoreOptions,
} from './redis-replay-store-options.js';

/** The rejections of `setIfAbsent`: fixed texts, never a key, a reply or the client's own error. */
const UNAVAILABLE = 'certbound: the Redis replay store is unavailable';
const UNEXPECTED_REPLY = 'certbound: the Redis replay store got an unexpected reply';
const INVALID_TTL = 'certbound: the Redis replay store was given a ttlMs that is not a positive number';

/**
 * Creates a {@link ReplayStore} over a connected ioredis or node-redis client (standalone, pool or
 * cluster), to plug in as the verifier's `dpop.replay.store` so that a DPoP proof is accepted
 * once across all API instances (RFC 9449 §11.1).
 *
 * - `setIfAbsent(key, ttlMs)` sends one command, `SET ${prefix}${key} 1 NX PX <ttl>`, atomic in
 *   Redis: it resolves `true` when Redis stored the key (`OK`: the proof is new) and `false`
 *   when the key was already there (nil: a replay). Of concurrent calls for one key, from any
 *   number of instances, exactly one resolves `true`.
 * - The core's `key` is already a hash (never a proof, token or key); `ttlMs` is rounded up to
 *   a whole millisecond. The entry expires in Redis after it, so Redis holds each proof's key only
 *   for the proof's acceptance window.
 * - It rejects, with an `Error` whose message is fixed (never the key), when Redis fails, does
 *   not answer within `timeoutMs`, or the client says it is not connected (then nothing is sent);
 *   the verifier then relies on its in-process replay cache. While commands keep failing, one at
 *   a time probes Redis and the others reject at once.
 * - The stored value is a constant: no secret is needed. Someone who can write to Redis can add
 *   keys, which only makes the proofs with those keys refused, or delete them, which leaves each
 *   instance's in-process replay cache as the only check.
 *
 * Options are validated synchronously: a bad or unknown one throws a `TypeError` such as
 * `Invalid certbound option: "redisReplayStore.timeoutMs" must be a positive integer up to 60000`.
 *
 * @example
 * ```ts
 * import { redisReplayStore } from '@certbound/redis';
 * import { Redis } from 'ioredis';
 *
 * const redis = new Redis(process.env.REDIS_URL!);
 * const replay = redisReplayStore({ client: redis });
 * // createVerifier({ …, dpop: { replay: { store: replay } } })
 * ```
 */
export function redisReplayStore(options: RedisReplayStoreOptions): ReplayStore {
  const { connection, prefix, timeoutMs } = normalizeRedisReplayStoreOptions(options);
  const runner = new CommandRunner(connection, timeoutMs);

  return {
    async setIfAbsent(key: string, ttlMs: number): Promise<boolean> {
      const px = Math.ceil(ttlMs);
      if (!(ttlMs > 0) || !Number.isSafeInteger(px)) throw new Error(INVALID_TTL);
      const reply = await runner.run(['SET', `${prefix}${key}`, '1', 'NX', 'PX', String(px)]);
      if (reply === FAILED) throw new Error(UNAVAILABLE);
      if (reply === null) return false;
      if (textOf(reply) === 'OK') return true;
      throw new Error(UNEXPECTED_REPLY);
    },
  };
}
