/**
 * The store's contract against a real redis-server, through both client libraries: round trip,
 * expiry in Redis and on read, entries altered, moved or written under another secret are
 * misses, and a Redis that stops, hangs or is absent is a miss within `timeoutMs` until it
 * returns.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CacheEntry, CacheStore } from '@certbound/core';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { redisStore } from '../src/index.js';
import { CLIENT_KINDS, type ClientHandle } from './support/redis-clients.js';
import { freePort, type RedisServer, startRedisServer, startSilentServer } from './support/redis-server.js';

const SECRET = randomBytes(32);
/** Budget for the stores of the functional tests: a loaded CI machine must not turn hits into misses. */
const RELAXED_TIMEOUT_MS = 2000;
/** Budget for the outage tests. */
const OUTAGE_TIMEOUT_MS = 150;

let server: RedisServer;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

let keys = 0;
/** A key shaped like the core's: a namespace, then the SHA-256 of a token. */
function newKey(): string {
  const hash = createHash('sha256').update(`token-${++keys}-${Math.random()}`).digest('base64url');
  return `certbound:introspection:Zm9vYmFyYmF6cXV4:${hash}`;
}

function newEntry(lifetimeMs = 60_000): CacheEntry {
  const expiresAt = Date.now() + lifetimeMs;
  return {
    response: {
      active: true,
      sub: 'client-a',
      client_id: 'client-a',
      scope: 'accounts:read',
      exp: Math.floor(expiresAt / 1000),
      cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
    },
    expiresAt,
  };
}

describe.each(CLIENT_KINDS)('redisStore over $name', (kind) => {
  let app: ClientHandle;
  let admin: ClientHandle;
  let store: CacheStore;

  beforeAll(async () => {
    app = await kind.connect(server.port);
    admin = await kind.connect(server.port);
    store = redisStore({ client: app.client, secret: SECRET, timeoutMs: RELAXED_TIMEOUT_MS });
  });

  afterAll(async () => {
    await Promise.all([app?.close(), admin?.close()]);
  });

  async function raw(key: string): Promise<string> {
    const value = await admin.command('GET', `certbound:${key}`);
    expect(typeof value).toBe('string');
    return value as string;
  }

  /** Replaces the stored value, keeping its time to live. */
  async function overwrite(key: string, value: string): Promise<void> {
    expect(await admin.command('SET', `certbound:${key}`, value, 'KEEPTTL')).toBe('OK');
  }

  describe('sharing', () => {
    it('returns the entry that was stored', async () => {
      const key = newKey();
      const entry = newEntry();
      await store.set(key, entry, 30_000);
      expect(await store.get(key)).toEqual(entry);
    });

    it('returns an entry stored by another instance with the same secret', async () => {
      const key = newKey();
      const entry = newEntry();
      await store.set(key, entry, 30_000);
      const other = redisStore({ client: admin.client, secret: SECRET });
      expect(await other.get(key)).toEqual(entry);
    });

    it('accepts a string secret, as its UTF-8 bytes', async () => {
      const key = newKey();
      const entry = newEntry();
      const secret = 'correct horse battery staple, and more';
      await redisStore({ client: app.client, secret }).set(key, entry, 30_000);
      expect(await redisStore({ client: admin.client, secret: Buffer.from(secret) }).get(key)).toEqual(entry);
    });

    it('misses a key that was never stored', async () => {
      expect(await store.get(newKey())).toBeUndefined();
    });

    it('writes under the prefix, certbound: by default', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      expect(await admin.command('EXISTS', `certbound:${key}`)).toBe(1);

      const prefixed = redisStore({ client: app.client, secret: SECRET, prefix: 'api-7:' });
      const other = newKey();
      const entry = newEntry();
      await prefixed.set(other, entry, 30_000);
      expect(await admin.command('EXISTS', `api-7:${other}`)).toBe(1);
      expect(await prefixed.get(other)).toEqual(entry);
      expect(await store.get(other)).toBeUndefined();
    });

    it('stores a versioned value with its MAC, and nothing but the entry', async () => {
      const key = newKey();
      const entry = newEntry();
      await store.set(key, entry, 30_000);
      const value = await raw(key);
      expect(value).toMatch(/^v1\.[A-Za-z0-9_-]{43}\.\{/);
      expect(JSON.parse(value.slice(47))).toEqual({ e: entry.expiresAt, r: entry.response });
    });

    it('deletes an entry', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      await store.delete(key);
      expect(await admin.command('EXISTS', `certbound:${key}`)).toBe(0);
      expect(await store.get(key)).toBeUndefined();
    });
  });

  describe('expiry', () => {
    it('expires the entry in Redis after the TTL when the token lives longer', async () => {
      const key = newKey();
      await store.set(key, newEntry(3_600_000), 5_000);
      const pttl = (await admin.command('PTTL', `certbound:${key}`)) as number;
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(5_000);
    });

    it('expires the entry in Redis with the token when the TTL is longer', async () => {
      const key = newKey();
      const entry = newEntry(4_000);
      const before = Date.now();
      await store.set(key, entry, 3_600_000);
      const pttl = (await admin.command('PTTL', `certbound:${key}`)) as number;
      expect(pttl).toBeGreaterThan(0);
      expect(pttl).toBeLessThanOrEqual(4_000);
      // PX is what was left of the token's life when set ran, at or after `before`; Redis only
      // counts it down (its own clock is not compared with ours).
      expect(pttl).toBeLessThanOrEqual(entry.expiresAt - before);
    });

    it('does not store an entry that has already expired, or a TTL that is not positive', async () => {
      const expired = newKey();
      await store.set(expired, newEntry(-1), 30_000);
      const noTtl = newKey();
      await store.set(noTtl, newEntry(), 0);
      const nanTtl = newKey();
      await store.set(nanTtl, newEntry(), Number.NaN);
      expect(
        await admin.command('EXISTS', `certbound:${expired}`, `certbound:${noTtl}`, `certbound:${nanTtl}`),
      ).toBe(0);
    });

    it('misses an entry whose expiry has passed, even while Redis still holds it', async () => {
      const key = newKey();
      const entry = newEntry(60_000);
      await store.set(key, entry, 60_000);
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(entry.expiresAt);
      expect(await store.get(key)).toBeUndefined();
      vi.setSystemTime(entry.expiresAt - 1);
      expect(await store.get(key)).toEqual(entry);
    });
  });

  describe('authenticity', () => {
    it('misses an entry whose response was altered by one bit', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      const value = await raw(key);
      const at = value.indexOf('accounts:read') + 'accounts:'.length;
      const flipped = String.fromCharCode(value.charCodeAt(at) ^ 1);
      await overwrite(key, value.slice(0, at) + flipped + value.slice(at + 1));
      expect(await store.get(key)).toBeUndefined();
    });

    it('misses an entry whose response was widened', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      await overwrite(key, (await raw(key)).replace('"accounts:read"', '"accounts:read accounts:write"'));
      expect(await store.get(key)).toBeUndefined();
    });

    it('misses an entry whose expiry was extended', async () => {
      const key = newKey();
      const entry = newEntry();
      await store.set(key, entry, 30_000);
      const value = await raw(key);
      await overwrite(key, value.replace(`"e":${entry.expiresAt}`, `"e":${entry.expiresAt + 3_600_000}`));
      expect(await raw(key)).not.toBe(value);
      expect(await store.get(key)).toBeUndefined();
    });

    it('misses an entry whose MAC was changed', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      const value = await raw(key);
      const mac = value.slice(3, 46);
      const other = mac.startsWith('A') ? `B${mac.slice(1)}` : `A${mac.slice(1)}`;
      await overwrite(key, `v1.${other}${value.slice(46)}`);
      expect(await store.get(key)).toBeUndefined();
    });

    it('misses a value written without a MAC, or in another format', async () => {
      const entry = newEntry();
      for (const value of [
        JSON.stringify({ e: entry.expiresAt, r: entry.response }),
        JSON.stringify({ v: 1, e: entry.expiresAt, r: entry.response, m: 'x'.repeat(43) }),
        `v1..${JSON.stringify({ e: entry.expiresAt, r: entry.response })}`,
        `v2.${'A'.repeat(43)}.{}`,
        '',
      ]) {
        const key = newKey();
        await admin.command('SET', `certbound:${key}`, value, 'PX', '30000');
        expect(await store.get(key)).toBeUndefined();
      }
    });

    it('misses an entry copied to another key', async () => {
      const from = newKey();
      await store.set(from, newEntry(), 30_000);
      const to = newKey();
      expect(await admin.command('COPY', `certbound:${from}`, `certbound:${to}`)).toBe(1);
      expect(await store.get(to)).toBeUndefined();
      expect(await store.get(from)).toBeDefined();
    });

    it('misses an entry moved to another key', async () => {
      const from = newKey();
      await store.set(from, newEntry(), 30_000);
      const to = newKey();
      expect(await admin.command('RENAME', `certbound:${from}`, `certbound:${to}`)).toBe('OK');
      expect(await store.get(to)).toBeUndefined();
    });

    it('misses an entry moved under another prefix with the same key', async () => {
      const key = newKey();
      await store.set(key, newEntry(), 30_000);
      expect(await admin.command('COPY', `certbound:${key}`, `tenant-b:${key}`)).toBe(1);
      const tenantB = redisStore({ client: app.client, secret: SECRET, prefix: 'tenant-b:' });
      expect(await tenantB.get(key)).toBeUndefined();
    });

    it('misses an entry written with another secret', async () => {
      const key = newKey();
      await redisStore({ client: app.client, secret: randomBytes(32) }).set(key, newEntry(), 30_000);
      expect(await admin.command('EXISTS', `certbound:${key}`)).toBe(1);
      expect(await store.get(key)).toBeUndefined();
    });

    it('misses a key holding another Redis type, and overwrites it on the next set', async () => {
      const key = newKey();
      await admin.command('RPUSH', `certbound:${key}`, 'x');
      expect(await store.get(key)).toBeUndefined();
      const entry = newEntry();
      await store.set(key, entry, 30_000);
      expect(await store.get(key)).toEqual(entry);
    });
  });

  describe('outages', () => {
    it('degrades to a miss while Redis is paused, and shares again when it answers', async () => {
      const instance = await kind.connect(server.port);
      const slow = redisStore({ client: instance.client, secret: SECRET, timeoutMs: OUTAGE_TIMEOUT_MS });
      try {
        const key = newKey();
        await slow.set(key, newEntry(), 30_000);
        // Every client's commands wait until the pause ends: a Redis that is slow to answer.
        expect(await admin.command('CLIENT', 'PAUSE', String(10 * OUTAGE_TIMEOUT_MS), 'ALL')).toBe('OK');
        await expect(slow.get(key)).resolves.toBeUndefined();
        await expect(slow.set(key, newEntry(), 30_000)).resolves.toBeUndefined();
        await expect(slow.delete(key)).resolves.toBeUndefined();
        const during = await Promise.all(Array.from({ length: 20 }, () => slow.get(key)));
        expect(during).toEqual(Array(20).fill(undefined));
        // Once Redis answers again, so does the store (the commands it gave up still run, late).
        const later = newEntry();
        await vi.waitFor(
          async () => {
            await slow.set(key, later, 30_000);
            expect(await slow.get(key)).toEqual(later);
          },
          { timeout: 15_000, interval: 50 },
        );
      } finally {
        await admin.command('CLIENT', 'UNPAUSE');
        await instance.close();
      }
    });

    it('degrades to a miss while the server accepts connections but never answers', async () => {
      const silent = await startSilentServer();
      const hanging = kind.open(silent.port);
      try {
        const degraded = redisStore({ client: hanging.client, secret: SECRET, timeoutMs: OUTAGE_TIMEOUT_MS });
        const key = newKey();
        await expect(degraded.get(key)).resolves.toBeUndefined();
        await expect(degraded.set(key, newEntry(), 30_000)).resolves.toBeUndefined();
        await expect(degraded.delete(key)).resolves.toBeUndefined();
        const many = await Promise.all(Array.from({ length: 20 }, () => degraded.get(newKey())));
        expect(many).toEqual(Array(20).fill(undefined));
      } finally {
        await hanging.close();
        await silent.close();
      }
    });

    it('degrades to a miss when nothing listens', async () => {
      const absent = kind.open(await freePort());
      try {
        const degraded = redisStore({ client: absent.client, secret: SECRET, timeoutMs: OUTAGE_TIMEOUT_MS });
        const key = newKey();
        await expect(degraded.get(key)).resolves.toBeUndefined();
        await expect(degraded.set(key, newEntry(), 30_000)).resolves.toBeUndefined();
        await expect(degraded.delete(key)).resolves.toBeUndefined();
      } finally {
        await absent.close();
      }
    });

    it('degrades to a miss while Redis is down, and shares again once it is back', async () => {
      const instance = await kind.connect(server.port);
      const resilient = redisStore({ client: instance.client, secret: SECRET, timeoutMs: OUTAGE_TIMEOUT_MS });
      try {
        const key = newKey();
        await resilient.set(key, newEntry(), 30_000);
        await server.stop();

        await expect(resilient.get(key)).resolves.toBeUndefined();
        await expect(resilient.set(key, newEntry(), 30_000)).resolves.toBeUndefined();
        await expect(resilient.delete(key)).resolves.toBeUndefined();
        const during = await Promise.all(Array.from({ length: 20 }, () => resilient.get(key)));
        expect(during).toEqual(Array(20).fill(undefined));

        await server.start();
        const entry = newEntry();
        await vi.waitFor(
          async () => {
            await resilient.set(key, entry, 30_000);
            expect(await resilient.get(key)).toEqual(entry);
          },
          { timeout: 15_000, interval: 100 },
        );
      } finally {
        await instance.close();
        // The other tests of this file use the server: make sure it is up whatever happened.
        if (!(await admin.command('PING').catch(() => undefined))) await server.start();
      }
    });
  });
});
