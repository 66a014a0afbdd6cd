/**
 * `redisReplayStore` against a real redis-server, through both client libraries: a key is stored
 * once across instances (RFC 9449 §11.1), concurrent calls let exactly one through, the entry
 * expires after `ttlMs`, and a Redis that is down, hangs or is absent makes `setIfAbsent` reject.
 */
import { createHash } from 'node:crypto';
import type { ReplayStore } from '@certbound/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisReplayStore } from '../src/index.js';
import { CLIENT_KINDS, type ClientHandle } from './support/redis-clients.js';
import { freePort, type RedisServer, startRedisServer, startSilentServer } from './support/redis-server.js';

/** Budget for the functional tests: a loaded CI machine must not turn an answer into a rejection. */
const RELAXED_TIMEOUT_MS = 2000;
/** Budget for the outage tests. */
const OUTAGE_TIMEOUT_MS = 150;
const UNAVAILABLE = new Error('certbound: the Redis replay store is unavailable');

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.close();
});

let keys = 0;
/** A key shaped like the core's: a namespace, then a SHA-256. */
function newKey(): string {
  const hash = createHash('sha256').update(`proof-${++keys}-${Math.random()}`).digest('base64url');
  return `certbound:dpop:${hash}`;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => ({ resolved: value }),
    (error: unknown) => error,
  );
}

describe.each(CLIENT_KINDS)('redisReplayStore over $name', (kind) => {
  let app: ClientHandle;
  let other: ClientHandle;
  let store: ReplayStore;

  beforeAll(async () => {
    app = await kind.connect(server.port);
    other = await kind.connect(server.port);
    store = redisReplayStore({ client: app.client, timeoutMs: RELAXED_TIMEOUT_MS });
  });

  afterAll(async () => {
    await Promise.all([app?.close(), other?.close()]);
  });

  it('resolves true for a new key, then false for the same key', async () => {
    const key = newKey();
    expect([await store.setIfAbsent(key, 30_000), await store.setIfAbsent(key, 30_000)]).toEqual([
      true,
      false,
    ]);
    expect(await store.setIfAbsent(newKey(), 30_000)).toBe(true);
  });

  it('is shared by instances with their own clients: a key one stored is already there for the other', async () => {
    const second = redisReplayStore({ client: other.client, timeoutMs: RELAXED_TIMEOUT_MS });
    const key = newKey();
    expect(await store.setIfAbsent(key, 30_000)).toBe(true);
    expect(await second.setIfAbsent(key, 30_000)).toBe(false);
    const reverse = newKey();
    expect(await second.setIfAbsent(reverse, 30_000)).toBe(true);
    expect(await store.setIfAbsent(reverse, 30_000)).toBe(false);
  });

  it('stores the constant 1 under the prefix, certbound: by default, for ttlMs', async () => {
    const key = newKey();
    await store.setIfAbsent(key, 30_000);
    expect(await other.command('GET', `certbound:${key}`)).toBe('1');
    const ttl = Number(await other.command('PTTL', `certbound:${key}`));
    expect(ttl > 25_000 && ttl <= 30_000, `PTTL ${ttl}`).toBe(true);

    const tenant = redisReplayStore({
      client: app.client,
      prefix: 'tenant-b:',
      timeoutMs: RELAXED_TIMEOUT_MS,
    });
    expect(await tenant.setIfAbsent(key, 30_000)).toBe(true);
    expect(await other.command('EXISTS', `tenant-b:${key}`)).toBe(1);
  });

  it('lets the key be stored again once its ttlMs has passed', async () => {
    const key = newKey();
    expect(await store.setIfAbsent(key, 50)).toBe(true);
    expect(await store.setIfAbsent(key, 50)).toBe(false);
    await vi.waitFor(async () => expect(await other.command('EXISTS', `certbound:${key}`)).toBe(0), {
      timeout: 5000,
      interval: 20,
    });
    expect(await store.setIfAbsent(key, 50)).toBe(true);
  });

  it('resolves true for exactly one of concurrent calls with the same key from two clients', async () => {
    const second = redisReplayStore({ client: other.client, timeoutMs: RELAXED_TIMEOUT_MS });
    const rounds = Array.from({ length: 50 }, () => newKey());
    const outcomes = await Promise.all(
      rounds.map(async (key) => {
        const results = await Promise.all([
          store.setIfAbsent(key, 30_000),
          second.setIfAbsent(key, 30_000),
          store.setIfAbsent(key, 30_000),
          second.setIfAbsent(key, 30_000),
        ]);
        return results.filter(Boolean).length;
      }),
    );
    expect(outcomes).toEqual(Array(50).fill(1));
  });

  describe('outages', () => {
    it('rejects while Redis is down, and stores again once it is back', async () => {
      const own = await startRedisServer();
      let instance: ClientHandle | undefined;
      try {
        instance = await kind.connect(own.port);
        const resilient = redisReplayStore({ client: instance.client, timeoutMs: OUTAGE_TIMEOUT_MS });
        const key = newKey();
        expect(await resilient.setIfAbsent(key, 30_000)).toBe(true);
        await own.stop();

        expect(await rejectionOf(resilient.setIfAbsent(newKey(), 30_000))).toEqual(UNAVAILABLE);
        const during = await Promise.all(
          Array.from({ length: 20 }, () => rejectionOf(resilient.setIfAbsent(newKey(), 30_000))),
        );
        expect(during).toEqual(Array(20).fill(UNAVAILABLE));

        // The restarted server is empty: the key is new to it.
        await own.start();
        await vi.waitFor(async () => expect(await resilient.setIfAbsent(key, 30_000)).toBe(true), {
          timeout: 15_000,
          interval: 100,
        });
        expect(await resilient.setIfAbsent(key, 30_000)).toBe(false);
      } finally {
        await instance?.close();
        await own.close();
      }
    });

    it('rejects while the server accepts connections but never answers', async () => {
      const silent = await startSilentServer();
      const hanging = kind.open(silent.port);
      try {
        const degraded = redisReplayStore({ client: hanging.client, timeoutMs: OUTAGE_TIMEOUT_MS });
        const outcomes = await Promise.all(
          Array.from({ length: 5 }, () => rejectionOf(degraded.setIfAbsent(newKey(), 30_000))),
        );
        expect(outcomes).toEqual(Array(5).fill(UNAVAILABLE));
      } finally {
        await hanging.close();
        await silent.close();
      }
    });

    it('rejects when nothing listens', async () => {
      const absent = kind.open(await freePort());
      try {
        const degraded = redisReplayStore({ client: absent.client, timeoutMs: OUTAGE_TIMEOUT_MS });
        expect(await rejectionOf(degraded.setIfAbsent(newKey(), 30_000))).toEqual(UNAVAILABLE);
      } finally {
        await absent.close();
      }
    });
  });
});
