import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it, vi } from 'vitest';
import type { CacheEntry, CacheStore } from '../src/cache-store.js';
import { InvalidTokenError, ServiceUnavailableError } from '../src/errors.js';
import { IntrospectionCache, issuerNamespace } from '../src/introspection/introspection-cache.js';
import { validateIntrospection } from '../src/introspection/introspection-response.js';
import type { NormalizedIntrospectionCache } from '../src/options/introspection-options.js';

/** A call that may refuse without a promise (a remembered refusal is thrown), as a promise. */
function attempt(call: () => unknown): Promise<unknown> {
  return Promise.resolve().then(call);
}

const ISSUER = 'https://as.example.com';
const rules = { issuer: ISSUER, audience: ['https://api.example.com'] };
const now = () => Math.floor(Date.now() / 1000);

function cacheOptions(overrides: Partial<NormalizedIntrospectionCache> = {}): NormalizedIntrospectionCache {
  return {
    max: 100,
    maxTtlSeconds: 60,
    negativeTtlSeconds: 10,
    maxBytes: 32 * 1024 * 1024,
    store: undefined,
    ...overrides,
  };
}

function memoryStore() {
  const entries = new Map<string, CacheEntry>();
  const store: CacheStore & { entries: Map<string, CacheEntry> } = {
    entries,
    get: vi.fn(async (key: string) => entries.get(key)),
    set: vi.fn(async (key: string, entry: CacheEntry) => {
      entries.set(key, entry);
    }),
    delete: vi.fn(async (key: string) => {
      entries.delete(key);
    }),
  };
  return store;
}

/**
 * With fake timers, after a first refusal of token `t`: 9 s later it is still refused from the
 * cache (no second call); just past 10 s (negativeTtlSeconds) it is asked again, and refused.
 */
async function expectRefusalKeptTenSeconds(
  cache: { get(token: string): unknown },
  introspect: { mock: { calls: unknown[] } },
): Promise<void> {
  vi.advanceTimersByTime(9_000);
  await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(InvalidTokenError);
  expect(introspect.mock.calls).toHaveLength(1);
  vi.advanceTimersByTime(1_001);
  await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(InvalidTokenError);
  expect(introspect.mock.calls).toHaveLength(2);
}

function cacheWith(
  options: NormalizedIntrospectionCache | false,
  respond: (token: string) => Promise<Record<string, unknown>>,
) {
  const introspect = vi.fn(respond);
  const cache = new IntrospectionCache(options, ISSUER, {
    introspect,
    validate: (response) => validateIntrospection(response, rules),
  });
  return { cache, introspect };
}

describe('IntrospectionCache', () => {
  it('makes one introspection call for 200 concurrent misses of one token', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { cache, introspect } = cacheWith(cacheOptions(), async () => {
      await gate;
      return { active: true, exp: now() + 300 };
    });
    const all = Promise.all(Array.from({ length: 200 }, () => cache.get('t')));
    release();
    const results = await all;
    expect(results.length).toBe(200);
    expect(new Set(results).size).toBe(1);
    expect(results[0]).toMatchObject({ format: 'opaque', confirmation: undefined });
    expect(introspect).toHaveBeenCalledTimes(1);
    await cache.get('t');
    expect(introspect).toHaveBeenCalledTimes(1);
  });

  it('never serves an active result past the token exp, nor past maxTtlSeconds', async () => {
    vi.useFakeTimers();
    try {
      const { cache, introspect } = cacheWith(cacheOptions({ maxTtlSeconds: 60 }), async (token) => ({
        active: true,
        exp: now() + (token === 'short' ? 20 : 3600),
      }));
      await cache.get('short');
      vi.advanceTimersByTime(19_000);
      await cache.get('short');
      expect(introspect).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1_001);
      await cache.get('short');
      expect(introspect).toHaveBeenCalledTimes(2);

      await cache.get('long');
      vi.advanceTimersByTime(59_000);
      await cache.get('long');
      expect(introspect).toHaveBeenCalledTimes(3);
      vi.advanceTimersByTime(1_001);
      await cache.get('long');
      expect(introspect).toHaveBeenCalledTimes(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it('caches an inactive result only negativeTtlSeconds', async () => {
    vi.useFakeTimers();
    try {
      const { cache, introspect } = cacheWith(cacheOptions({ negativeTtlSeconds: 10 }), async () => ({
        active: false,
      }));
      await expect(attempt(() => cache.get('t'))).rejects.toMatchObject({
        code: 'token_inactive',
        status: 401,
      });
      await expectRefusalKeptTenSeconds(cache, introspect);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never caches a failure to get an answer', async () => {
    const { cache, introspect } = cacheWith(cacheOptions(), async () => {
      throw new ServiceUnavailableError();
    });
    await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(introspect).toHaveBeenCalledTimes(2);
  });

  it('introspects every time when the cache is disabled', async () => {
    const { cache, introspect } = cacheWith(false, async () => ({ active: true }));
    await cache.get('t');
    await cache.get('t');
    expect(introspect).toHaveBeenCalledTimes(2);
  });

  it('shares results through the store under namespaced hashed keys, never the token', async () => {
    const store = memoryStore();
    const first = cacheWith(cacheOptions({ store }), async () => ({ active: true, exp: now() + 300 }));
    await first.cache.get('secret-token-value');
    const [[key, entry, ttl]] = vi.mocked(store.set).mock.calls as [[string, CacheEntry, number]];
    expect(key.startsWith(issuerNamespace(ISSUER))).toBe(true);
    expect(key).not.toContain('secret-token-value');
    expect(JSON.stringify(entry)).not.toContain('secret-token-value');
    expect(ttl).toBeGreaterThan(59_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const second = cacheWith(cacheOptions({ store }), async () => ({ active: true }));
    await second.cache.get('secret-token-value');
    expect(second.introspect).not.toHaveBeenCalled();
  });

  it('ignores expired or malformed store entries, and a failing store', async () => {
    const store = memoryStore();
    const { cache, introspect } = cacheWith(cacheOptions({ store }), async () => ({ active: true }));
    await cache.get('a');
    const key = [...store.entries.keys()][0]!;
    store.entries.set(key, { response: { active: true }, expiresAt: Date.now() - 1 });
    const other = cacheWith(cacheOptions({ store }), async () => ({ active: true }));
    await other.cache.get('a');
    expect(other.introspect).toHaveBeenCalledTimes(1);

    store.entries.set(key, { response: 'nope', expiresAt: Date.now() + 1000 } as unknown as CacheEntry);
    const third = cacheWith(cacheOptions({ store }), async () => ({ active: true }));
    await third.cache.get('a');
    expect(third.introspect).toHaveBeenCalledTimes(1);

    const broken: CacheStore = {
      get: async () => {
        throw new Error('redis down');
      },
      set: async () => {
        throw new Error('redis down');
      },
      delete: async () => undefined,
    };
    const fourth = cacheWith(cacheOptions({ store: broken }), async () => ({ active: true }));
    await expect(fourth.cache.get('a')).resolves.toMatchObject({ format: 'opaque' });
    expect(introspect).toHaveBeenCalledTimes(1);
  });

  it('evicts the least recently used results once they would exceed maxBytes (about twice each response)', async () => {
    const exp = now() + 300;
    const response = (token: string) => ({ active: true, exp, sub: token, pad: 'x'.repeat(500) });
    const bytes = 2 * JSON.stringify(response('a')).length + 1024;
    const { cache, introspect } = cacheWith(cacheOptions({ maxBytes: 2 * bytes }), async (token) =>
      response(token),
    );
    await cache.get('a');
    await cache.get('b');
    await cache.get('a'); // a is now the most recently used
    await cache.get('c'); // b must go
    await cache.get('a');
    await cache.get('c');
    expect(introspect.mock.calls.map(([token]) => token)).toEqual(['a', 'b', 'c']);
    await cache.get('b');
    expect(introspect.mock.calls.map(([token]) => token)).toEqual(['a', 'b', 'c', 'b']);
  });

  it('counts an inactive result as a small entry: its response is not kept', async () => {
    const exp = now() + 300;
    const active = { active: true, exp, pad: 'x'.repeat(2000) };
    const bytes = 2 * JSON.stringify(active).length + 1024;
    const { cache, introspect } = cacheWith(cacheOptions({ maxBytes: bytes + 2 * 1024 }), async (token) =>
      token === 'active' ? active : { active: false, pad: 'x'.repeat(5000) },
    );
    await cache.get('active');
    for (const token of ['x', 'y'])
      await expect(attempt(() => cache.get(token))).rejects.toBeInstanceOf(InvalidTokenError);
    await cache.get('active');
    for (const token of ['x', 'y'])
      await expect(attempt(() => cache.get(token))).rejects.toBeInstanceOf(InvalidTokenError);
    expect(introspect).toHaveBeenCalledTimes(3);
  });

  it('keeps separate entries for separate issuers', () => {
    expect(issuerNamespace('https://a.example.com')).not.toBe(issuerNamespace('https://b.example.com'));
  });

  it('names an issuer’s keys in a shared store the same way in every process and version', () => {
    const digest = createHash('sha256').update(ISSUER).digest('base64url').slice(0, 16);
    expect(issuerNamespace(ISSUER)).toBe(`certbound:introspection:${digest}:`);
  });

  it('remembers the refusal of an active response only negativeTtlSeconds, not until its exp', async () => {
    vi.useFakeTimers();
    try {
      const { cache, introspect } = cacheWith(
        cacheOptions({ maxTtlSeconds: 60, negativeTtlSeconds: 10 }),
        async () => ({ active: true, exp: now() + 3600, aud: 'https://other.example.com' }),
      );
      await expect(attempt(() => cache.get('t'))).rejects.toMatchObject({ code: 'token_audience_mismatch' });
      await expectRefusalKeptTenSeconds(cache, introspect);
    } finally {
      vi.useRealTimers();
    }
  });

  it('never caches a response that validation fails on for another reason than the token (not a 401)', async () => {
    const introspect = vi.fn(async () => ({ active: true }));
    const cache = new IntrospectionCache(cacheOptions(), ISSUER, {
      introspect,
      validate: () => {
        throw new ServiceUnavailableError();
      },
    });
    await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    await expect(attempt(() => cache.get('t'))).rejects.toBeInstanceOf(ServiceUnavailableError);
    expect(introspect).toHaveBeenCalledTimes(2);
  });

  it('writes nothing to the store for a response that expires now (a TTL of 0 may mean no expiry there)', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_800_000_000_000);
    try {
      const store = memoryStore();
      const { cache } = cacheWith(cacheOptions({ store }), async () => ({ active: true, exp: now() }));
      await cache.get('t');
      expect(store.set).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it('serves nothing at the very millisecond it expires, from memory or from the store', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_800_000_000_000);
    try {
      const { cache, introspect } = cacheWith(cacheOptions(), async () => ({
        active: true,
        exp: now() + 20,
      }));
      await cache.get('t');
      vi.advanceTimersByTime(19_999);
      await cache.get('t');
      expect(introspect).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      await cache.get('t');
      expect(introspect).toHaveBeenCalledTimes(2);

      const store = memoryStore();
      const shared = cacheWith(cacheOptions({ store }), async () => ({ active: true, exp: now() + 300 }));
      await shared.cache.get('s');
      const key = [...store.entries.keys()][0]!;
      store.entries.set(key, { response: { active: true }, expiresAt: Date.now() });
      const other = cacheWith(cacheOptions({ store }), async () => ({ active: true }));
      await other.cache.get('s');
      expect(other.introspect).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('reports each lookup on certbound:cache: miss, coalesced, hit, negative', async () => {
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    subscribe('certbound:cache', listener);
    try {
      const { cache } = cacheWith(cacheOptions(), async (token) => ({
        active: token === 'good',
        exp: now() + 300,
      }));
      await Promise.all([cache.get('good'), cache.get('good')]);
      await cache.get('good');
      await expect(attempt(() => cache.get('bad'))).rejects.toBeInstanceOf(InvalidTokenError);
      await expect(attempt(() => cache.get('bad'))).rejects.toBeInstanceOf(InvalidTokenError);
      expect(events).toEqual([
        { cache: 'introspection', event: 'miss' },
        { cache: 'introspection', event: 'coalesced' },
        { cache: 'introspection', event: 'hit' },
        { cache: 'introspection', event: 'miss' },
        { cache: 'introspection', event: 'negative' },
      ]);
    } finally {
      unsubscribe('certbound:cache', listener);
    }
  });

  it('clear() forgets every result, and does nothing when the cache is disabled', async () => {
    const { cache, introspect } = cacheWith(cacheOptions(), async () => ({ active: true, exp: now() + 300 }));
    await cache.get('t');
    cache.clear();
    await cache.get('t');
    expect(introspect).toHaveBeenCalledTimes(2);
    expect(() => cacheWith(false, async () => ({ active: true })).cache.clear()).not.toThrow();
  });
});
