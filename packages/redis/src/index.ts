export type { IoredisLikeClient, NodeRedisLikeClient, RedisClientLike } from './redis-client.js';
export { redisStore } from './redis-store.js';
export {
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_TIMEOUT_MS,
  MAX_REDIS_TIMEOUT_MS,
  MIN_REDIS_SECRET_BYTES,
  type RedisStoreOptions,
} from './redis-store-options.js';
