export type {
  IoredisLikeClient,
  NodeRedisLikeClient,
  NodeRedisLikeCluster,
  RedisClientLike,
} from './redis-client.js';
export {
  DEFAULT_REDIS_PREFIX,
  DEFAULT_REDIS_TIMEOUT_MS,
  MAX_REDIS_TIMEOUT_MS,
} from './redis-options.js';
export { redisReplayStore } from './redis-replay-store.js';
export type { RedisReplayStoreOptions } from './redis-replay-store-options.js';
export { redisStore } from './redis-store.js';
export { MIN_REDIS_SECRET_BYTES, type RedisStoreOptions } from './redis-store-options.js';
