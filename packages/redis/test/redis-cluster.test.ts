/**
 * Both stores on a real Redis Cluster of three masters, through ioredis `Cluster` and node-redis
 * `createCluster`: every command touches one key, so each goes to the master of that key's slot;
 * keys spread over the masters, and what one cluster client writes, another one reads.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CacheEntry } from '@certbound/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisReplayStore, redisStore } from '../src/index.js';
import { CLUSTER_CLIENT_KINDS, type ClientHandle } from './support/redis-clients.js';
import { type RedisCluster, startRedisCluster } from './support/redis-cluster.js';

const SECRET = randomBytes(32);
/** Generous: a loaded CI machine must not turn a hit into a miss. */
const TIMEOUT_MS = 2000;

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.close();
});

let keys = 0;
/** A key shaped like the core's: a namespace, then a SHA-256. */
function newKey(namespace: string): string {
  const hash = createHash('sha256').update(`${namespace}-${++keys}-${Math.random()}`).digest('base64url');
  return `certbound:${namespace}:${hash}`;
}

function newEntry(): CacheEntry {
  const expiresAt = Date.now() + 60_000;
  return { response: { active: true, sub: 'client-a', exp: Math.floor(expiresAt / 1000) }, expiresAt };
}

describe.each(CLUSTER_CLIENT_KINDS)('both stores on a Redis Cluster over $name', (kind) => {
  let first: ClientHandle;
  let second: ClientHandle;

  beforeAll(async () => {
    first = await kind.connect(cluster.ports);
    second = await kind.connect(cluster.ports);
  });

  afterAll(async () => {
    await Promise.all([first?.close(), second?.close()]);
  });

  it('redisStore: an entry set through one cluster client is returned through another, and deleted', async () => {
    const writer = redisStore({ client: first.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const reader = redisStore({ client: second.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const key = newKey('introspection');
    const entry = newEntry();
    await writer.set(key, entry, 30_000);
    expect(await reader.get(key)).toEqual(entry);
    expect(await writer.get(key)).toEqual(entry);
    await reader.delete(key);
    expect([await writer.get(key), await reader.get(key)]).toEqual([undefined, undefined]);
  });

  it('redisReplayStore: a key stored through one cluster client is already there for another', async () => {
    const one = redisReplayStore({ client: first.client, timeoutMs: TIMEOUT_MS });
    const other = redisReplayStore({ client: second.client, timeoutMs: TIMEOUT_MS });
    const key = newKey('dpop');
    expect([
      await one.setIfAbsent(key, 30_000),
      await other.setIfAbsent(key, 30_000),
      await one.setIfAbsent(key, 30_000),
    ]).toEqual([true, false, false]);
  });

  it('redisReplayStore: of concurrent calls with one key from two cluster clients, exactly one resolves true', async () => {
    const one = redisReplayStore({ client: first.client, timeoutMs: TIMEOUT_MS });
    const other = redisReplayStore({ client: second.client, timeoutMs: TIMEOUT_MS });
    const rounds = Array.from({ length: 30 }, () => newKey('dpop'));
    const outcomes = await Promise.all(
      rounds.map(async (key) => {
        const results = await Promise.all([one.setIfAbsent(key, 30_000), other.setIfAbsent(key, 30_000)]);
        return results.filter(Boolean).length;
      }),
    );
    expect(outcomes).toEqual(Array(30).fill(1));
  });

  it('keeps each key of both stores on the master of its slot, over at least two masters', async () => {
    const cache = redisStore({ client: first.client, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const replay = redisReplayStore({ client: first.client, timeoutMs: TIMEOUT_MS });
    const cacheKeys = Array.from({ length: 12 }, () => newKey('introspection'));
    const replayKeys = Array.from({ length: 12 }, () => newKey('dpop'));
    await Promise.all(cacheKeys.map((key) => cache.set(key, newEntry(), 30_000)));
    expect(await Promise.all(replayKeys.map((key) => replay.setIfAbsent(key, 30_000)))).toEqual(
      Array(12).fill(true),
    );

    const redisKeys = [...cacheKeys, ...replayKeys].map((key) => `certbound:${key}`);
    const owners = await cluster.mastersOf(redisKeys);
    // Asked directly, without redirection: the master of each key's slot holds it.
    const held = await Promise.all(
      cluster.ports.map((port) => {
        const mine = redisKeys.filter((_, i) => owners[i] === port);
        return mine.length === 0
          ? []
          : cluster.commands(
              port,
              mine.map((key) => ['EXISTS', key]),
            );
      }),
    );
    expect(held.flat()).toEqual(Array(24).fill('1'));
    expect(new Set(owners).size).toBeGreaterThanOrEqual(2);
    expect(cluster.ports).toEqual(expect.arrayContaining([...new Set(owners)]));
  });

  it('writes replay keys with the PTTL of ttlMs on their master', async () => {
    const key = newKey('dpop');
    await redisReplayStore({ client: first.client, timeoutMs: TIMEOUT_MS }).setIfAbsent(key, 30_000);
    const [owner] = await cluster.mastersOf([`certbound:${key}`]);
    const [ttl] = (await cluster.commands(owner!, [['PTTL', `certbound:${key}`]])).map(Number);
    expect(ttl! > 25_000 && ttl! <= 30_000, `PTTL ${ttl}`).toBe(true);
  });
});

describe('both stores on a Redis Cluster shared by ioredis and node-redis instances', () => {
  let clients: ClientHandle[] = [];

  beforeAll(async () => {
    clients = await Promise.all(CLUSTER_CLIENT_KINDS.map((kind) => kind.connect(cluster.ports)));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
  });

  it('returns, through each library, what the other one wrote', async () => {
    const [ioredis, nodeRedis] = clients as [ClientHandle, ClientHandle];
    const cache = [ioredis, nodeRedis].map((c) =>
      redisStore({ client: c.client, secret: SECRET, timeoutMs: TIMEOUT_MS }),
    );
    const replay = [ioredis, nodeRedis].map((c) =>
      redisReplayStore({ client: c.client, timeoutMs: TIMEOUT_MS }),
    );
    const [a, b] = [newKey('introspection'), newKey('introspection')];
    const [entryA, entryB] = [newEntry(), newEntry()];
    await cache[0]!.set(a, entryA, 30_000);
    await cache[1]!.set(b, entryB, 30_000);
    expect([await cache[1]!.get(a), await cache[0]!.get(b)]).toEqual([entryA, entryB]);

    const [c, d] = [newKey('dpop'), newKey('dpop')];
    expect([
      await replay[0]!.setIfAbsent(c, 30_000),
      await replay[1]!.setIfAbsent(c, 30_000),
      await replay[1]!.setIfAbsent(d, 30_000),
      await replay[0]!.setIfAbsent(d, 30_000),
    ]).toEqual([true, false, true, false]);
  });

  it('sends only commands that name exactly one key, as Redis itself reads them (COMMAND GETKEYS)', async () => {
    const [ioredis] = clients as [ClientHandle];
    const sent: string[][] = [];
    // The ioredis Cluster, recording each command the stores send through it.
    const recording = {
      call: (command: string, ...args: string[]) => {
        sent.push([command, ...args]);
        return ioredis.command(command, ...args);
      },
    };
    const cache = redisStore({ client: recording, secret: SECRET, timeoutMs: TIMEOUT_MS });
    const replay = redisReplayStore({ client: recording, timeoutMs: TIMEOUT_MS });
    const [key, proof] = [newKey('introspection'), newKey('dpop')];
    await cache.set(key, newEntry(), 30_000);
    await cache.get(key);
    await cache.delete(key);
    await replay.setIfAbsent(proof, 30_000);

    expect(sent.map(([command]) => command)).toEqual(['SET', 'GET', 'DEL', 'SET']);
    const keys = await Promise.all(sent.map((command) => ioredis.command('COMMAND', 'GETKEYS', ...command)));
    expect(keys).toEqual([
      [`certbound:${key}`],
      [`certbound:${key}`],
      [`certbound:${key}`],
      [`certbound:${proof}`],
    ]);
  });
});
