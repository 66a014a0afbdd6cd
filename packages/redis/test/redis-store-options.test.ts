/** `redisStore` options are validated synchronously, with the project's message grammar. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_PREFIX, DEFAULT_REDIS_TIMEOUT_MS, redisStore } from '../src/index.js';

const ioredisLike = { call: async () => null };
const nodeRedisLike = { sendCommand: async () => null };
const nodeRedisClusterLike = { sendCommand: async () => null, getSlotMaster() {}, nodeClient() {} };
const SECRET = 'a'.repeat(32);

const CLIENT_MESSAGE =
  'Invalid certbound option: "redisStore.client" must be an ioredis client (Redis or Cluster) or a node-redis client, pool or cluster (for a sentinel, use ioredis)';
const SECRET_MESSAGE =
  'Invalid certbound option: "redisStore.secret" must be a string or Buffer of at least 32 bytes';
const TIMEOUT_MESSAGE =
  'Invalid certbound option: "redisStore.timeoutMs" must be a positive integer up to 60000';

const cases: [string, unknown, string][] = [
  [
    'no options',
    undefined,
    'Invalid certbound option: "redisStore" must be called with an object { client, secret, prefix?, timeoutMs? }',
  ],
  ['no client', { secret: SECRET }, CLIENT_MESSAGE],
  ['a client with neither call nor sendCommand', { client: { get() {} }, secret: SECRET }, CLIENT_MESSAGE],
  ['a function as client', { client: () => undefined, secret: SECRET }, CLIENT_MESSAGE],
  ['a URL as client', { client: 'redis://localhost:6379', secret: SECRET }, CLIENT_MESSAGE],
  [
    'a node-redis sentinel',
    { client: { sendCommand: async () => null, getMasterNode() {} }, secret: SECRET },
    CLIENT_MESSAGE,
  ],
  ['no secret', { client: ioredisLike }, SECRET_MESSAGE],
  ['a short string secret', { client: ioredisLike, secret: 'a'.repeat(31) }, SECRET_MESSAGE],
  ['a short Buffer secret', { client: ioredisLike, secret: Buffer.alloc(31) }, SECRET_MESSAGE],
  [
    'a string secret of 31 UTF-8 bytes',
    { client: ioredisLike, secret: `${'é'.repeat(15)}a` },
    SECRET_MESSAGE,
  ],
  ['a number as secret', { client: ioredisLike, secret: 1234567890 }, SECRET_MESSAGE],
  [
    'a prefix that is not a string',
    { client: ioredisLike, secret: SECRET, prefix: 7 },
    'Invalid certbound option: "redisStore.prefix" must be a string',
  ],
  ['timeoutMs 0', { client: ioredisLike, secret: SECRET, timeoutMs: 0 }, TIMEOUT_MESSAGE],
  ['a negative timeoutMs', { client: ioredisLike, secret: SECRET, timeoutMs: -5 }, TIMEOUT_MESSAGE],
  ['a fractional timeoutMs', { client: ioredisLike, secret: SECRET, timeoutMs: 50.5 }, TIMEOUT_MESSAGE],
  ['timeoutMs over a minute', { client: ioredisLike, secret: SECRET, timeoutMs: 60_001 }, TIMEOUT_MESSAGE],
  ['timeoutMs as a string', { client: ioredisLike, secret: SECRET, timeoutMs: '100' }, TIMEOUT_MESSAGE],
  [
    'an unknown option',
    { client: ioredisLike, secret: SECRET, ttlSeconds: 60 },
    'Invalid certbound option: unknown option "redisStore.ttlSeconds"',
  ],
];

describe('redisStore options', () => {
  it.each(cases)('refuses %s', (_, options, message) => {
    expect(() => redisStore(options as never)).toThrow(new TypeError(message));
  });

  it('never puts the secret in a message', () => {
    const secret = 'short-but-secret';
    expect(() => redisStore({ client: ioredisLike, secret })).toThrow(TypeError);
    try {
      redisStore({ client: ioredisLike, secret });
    } catch (error) {
      expect(String(error)).not.toContain(secret);
    }
  });

  it('accepts either client library or a node-redis cluster, a string or Buffer secret, and the limits of timeoutMs', () => {
    for (const client of [ioredisLike, nodeRedisLike, nodeRedisClusterLike]) {
      expect(redisStore({ client, secret: SECRET })).toEqual({
        get: expect.any(Function),
        set: expect.any(Function),
        delete: expect.any(Function),
      });
    }
    expect(() =>
      redisStore({ client: ioredisLike, secret: Buffer.alloc(32, 1), timeoutMs: 1 }),
    ).not.toThrow();
    expect(() => redisStore({ client: ioredisLike, secret: 'é'.repeat(16) })).not.toThrow();
    expect(() =>
      redisStore({ client: ioredisLike, secret: SECRET, timeoutMs: 60_000, prefix: '' }),
    ).not.toThrow();
  });

  it('documents its defaults as constants', () => {
    expect(DEFAULT_REDIS_PREFIX).toBe('certbound:');
    expect(DEFAULT_REDIS_TIMEOUT_MS).toBe(100);
  });
});
