/** `redisReplayStore` options are validated synchronously, with the same grammar as `redisStore`'s. */
import { describe, expect, it } from 'vitest';
import { redisReplayStore } from '../src/index.js';

const ioredisLike = { call: async () => 'OK' };
const nodeRedisLike = { sendCommand: async () => 'OK' };
const nodeRedisClusterLike = { sendCommand: async () => 'OK', getSlotMaster() {}, nodeClient() {} };

const CLIENT_MESSAGE =
  'Invalid certbound option: "redisReplayStore.client" must be an ioredis client (Redis or Cluster) or a node-redis client, pool or cluster (for a sentinel, use ioredis)';
const TIMEOUT_MESSAGE =
  'Invalid certbound option: "redisReplayStore.timeoutMs" must be a positive integer up to 60000';

const cases: [string, unknown, string][] = [
  [
    'no options',
    undefined,
    'Invalid certbound option: "redisReplayStore" must be called with an object { client, prefix?, timeoutMs? }',
  ],
  [
    'an array of options',
    [ioredisLike],
    'Invalid certbound option: "redisReplayStore" must be called with an object { client, prefix?, timeoutMs? }',
  ],
  ['no client', {}, CLIENT_MESSAGE],
  ['a client with neither call nor sendCommand', { client: { set() {} } }, CLIENT_MESSAGE],
  ['a function as client', { client: () => undefined }, CLIENT_MESSAGE],
  ['a URL as client', { client: 'redis://localhost:6379' }, CLIENT_MESSAGE],
  [
    'a node-redis sentinel',
    { client: { sendCommand: async () => null, getMasterNode() {} } },
    CLIENT_MESSAGE,
  ],
  [
    'a prefix that is not a string',
    { client: ioredisLike, prefix: 7 },
    'Invalid certbound option: "redisReplayStore.prefix" must be a string',
  ],
  ['timeoutMs 0', { client: ioredisLike, timeoutMs: 0 }, TIMEOUT_MESSAGE],
  ['a negative timeoutMs', { client: ioredisLike, timeoutMs: -5 }, TIMEOUT_MESSAGE],
  ['a fractional timeoutMs', { client: ioredisLike, timeoutMs: 50.5 }, TIMEOUT_MESSAGE],
  ['timeoutMs over a minute', { client: ioredisLike, timeoutMs: 60_001 }, TIMEOUT_MESSAGE],
  ['timeoutMs as a string', { client: ioredisLike, timeoutMs: '100' }, TIMEOUT_MESSAGE],
  [
    'a secret, which it does not take',
    { client: ioredisLike, secret: 'a'.repeat(32) },
    'Invalid certbound option: unknown option "redisReplayStore.secret"',
  ],
  [
    'an unknown option',
    { client: ioredisLike, ttlMs: 60_000 },
    'Invalid certbound option: unknown option "redisReplayStore.ttlMs"',
  ],
];

describe('redisReplayStore options', () => {
  it.each(cases)('refuses %s', (_, options, message) => {
    expect(() => redisReplayStore(options as never)).toThrow(new TypeError(message));
  });

  it('accepts either client library or a node-redis cluster, a prefix, and the limits of timeoutMs', () => {
    for (const client of [ioredisLike, nodeRedisLike, nodeRedisClusterLike]) {
      expect(redisReplayStore({ client })).toEqual({ setIfAbsent: expect.any(Function) });
    }
    for (const options of [
      { client: ioredisLike, timeoutMs: 1 },
      { client: ioredisLike, timeoutMs: 60_000, prefix: '' },
      { client: ioredisLike, prefix: 'api-7:', timeoutMs: undefined },
    ]) {
      expect(redisReplayStore(options)).toEqual({ setIfAbsent: expect.any(Function) });
    }
  });
});
