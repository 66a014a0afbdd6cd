import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ReplayCache } from '../src/dpop/replay-cache.js';
import type { ReplayStore } from '../src/dpop/replay-store.js';
import { InvalidTokenError, ServiceUnavailableError } from '../src/errors.js';
import { failure } from './support/outcomes.js';

const JKT = 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg0';
const OTHER_JKT = 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0';

/** The whole refusal of a proof used twice. */
const REPLAYED = {
  name: 'InvalidTokenError',
  status: 401,
  error: 'invalid_dpop_proof',
  code: 'dpop_proof_replayed',
  description: 'The DPoP proof was already used',
};

let events: unknown[];
const listener = (message: unknown) => events.push(message);

beforeEach(() => {
  events = [];
  subscribe('certbound:replay', listener);
});

afterEach(() => {
  unsubscribe('certbound:replay', listener);
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/**
 * Fake time for the replay cache, which measures its entries' lives with the monotonic
 * `performance.now()` (lru-cache's default clock, read through the global object) and caches a
 * reading for a millisecond with a timer: both are faked, and `advance` moves them together.
 */
function fakeMonotonicTime(): (ms: number) => void {
  let now = performance.now();
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  return (ms) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };
}

/** A store keeping keys in a map (the fleet-wide layer), recording each call. */
function memoryStore(): ReplayStore & { calls: [string, number][]; keys: Set<string> } {
  const keys = new Set<string>();
  const calls: [string, number][] = [];
  return {
    keys,
    calls,
    async setIfAbsent(key, ttlMs) {
      calls.push([key, ttlMs]);
      if (keys.has(key)) return false;
      keys.add(key);
      return true;
    },
  };
}

describe('ReplayCache', () => {
  it('accepts a proof once and refuses its second use with dpop_proof_replayed', async () => {
    const cache = new ReplayCache(10, undefined);
    await expect(cache.remember(JKT, 'jti-1', 60_000)).resolves.toBeUndefined();
    const error = await failure(cache.remember(JKT, 'jti-1', 60_000));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error).toMatchObject(REPLAYED);
    expect(events).toEqual([{ outcome: 'replayed' }]);
  });

  it('scopes a jti to the proof key: the same jti of another key is another proof', async () => {
    const cache = new ReplayCache(10, undefined);
    await cache.remember(JKT, 'jti-1', 60_000);
    await expect(cache.remember(OTHER_JKT, 'jti-1', 60_000)).resolves.toBeUndefined();
    await expect(cache.remember(JKT, 'jti-2', 60_000)).resolves.toBeUndefined();
    // A key and jti that concatenate alike are still different proofs.
    await expect(cache.remember(`${JKT}\n`, 'jti-1', 60_000)).resolves.toBeUndefined();
    expect(events).toEqual([]);
  });

  it('forgets an entry once its ttl is over, and not before', async () => {
    const advance = fakeMonotonicTime();
    const cache = new ReplayCache(10, undefined);
    await cache.remember(JKT, 'jti-1', 10_000);
    advance(10_000);
    expect((await failure(cache.remember(JKT, 'jti-1', 10_000))).code).toBe('dpop_proof_replayed');
    advance(1);
    await expect(cache.remember(JKT, 'jti-1', 10_000)).resolves.toBeUndefined();
  });

  it('when full, answers 503 (Retry-After 1, a full event) and never drops a live entry', async () => {
    const advance = fakeMonotonicTime();
    const cache = new ReplayCache(2, undefined);
    await cache.remember(JKT, 'a', 10_000);
    await cache.remember(JKT, 'b', 20_000);
    const error = await failure(cache.remember(JKT, 'c', 60_000));
    expect(error).toBeInstanceOf(ServiceUnavailableError);
    expect(error).toMatchObject({
      status: 503,
      error: undefined,
      code: 'authorization_server_unavailable',
      retryAfterSeconds: 1,
      headers: { 'retry-after': '1' },
    });
    expect((error.cause as Error).message).toBe('the DPoP replay cache is full');
    expect(events).toEqual([{ outcome: 'full' }]);
    // Both live proofs are still refused, and the refused one was not recorded.
    expect((await failure(cache.remember(JKT, 'a', 10_000))).code).toBe('dpop_proof_replayed');
    expect((await failure(cache.remember(JKT, 'b', 20_000))).code).toBe('dpop_proof_replayed');
    expect((await failure(cache.remember(JKT, 'c', 60_000))).code).toBe('authorization_server_unavailable');
    // Once an entry's window is over, its room is free again.
    advance(10_001);
    await expect(cache.remember(JKT, 'c', 60_000)).resolves.toBeUndefined();
    expect((await failure(cache.remember(JKT, 'b', 20_000))).code).toBe('dpop_proof_replayed');
  });

  it('records each proof in the store under a namespaced hash, never the key or the jti, for its ttl', async () => {
    const store = memoryStore();
    const cache = new ReplayCache(10, store);
    await cache.remember(JKT, 'jti-secret', 65_000.4);
    await cache.remember(JKT, 'jti-short', 0);
    const hashed = createHash('sha256').update(`${JKT}\njti-secret`).digest('base64url');
    expect(store.calls).toEqual([
      [`certbound:dpop-jti:${hashed}`, 65_001],
      [`certbound:dpop-jti:${createHash('sha256').update(`${JKT}\njti-short`).digest('base64url')}`, 1],
    ]);
    expect(JSON.stringify(store.calls)).not.toContain('jti-secret');
    expect(JSON.stringify(store.calls)).not.toContain(JKT);
  });

  it('refuses a proof the store has already seen (another instance accepted it)', async () => {
    const store = memoryStore();
    const first = new ReplayCache(10, store);
    const second = new ReplayCache(10, store);
    await first.remember(JKT, 'jti-1', 60_000);
    const error = await failure(second.remember(JKT, 'jti-1', 60_000));
    expect(error).toMatchObject(REPLAYED);
    expect(events).toEqual([{ outcome: 'replayed' }]);
    // And this instance now remembers it too, without asking the store.
    expect((await failure(second.remember(JKT, 'jti-1', 60_000))).code).toBe('dpop_proof_replayed');
    expect(store.calls.length).toBe(2);
  });

  it('accepts a proof once when the store fails (a store_error event), and still refuses it in process', async () => {
    const setIfAbsent = vi.fn(async () => {
      throw new Error('redis down');
    });
    const cache = new ReplayCache(10, { setIfAbsent });
    await expect(cache.remember(JKT, 'jti-1', 60_000)).resolves.toBeUndefined();
    expect(events).toEqual([{ outcome: 'store_error' }]);
    const error = await failure(cache.remember(JKT, 'jti-1', 60_000));
    expect(error).toMatchObject(REPLAYED);
    expect(events).toEqual([{ outcome: 'store_error' }, { outcome: 'replayed' }]);
    expect(setIfAbsent).toHaveBeenCalledTimes(1);
  });

  it('forgets every proof on clear()', async () => {
    const cache = new ReplayCache(10, undefined);
    await cache.remember(JKT, 'jti-1', 60_000);
    cache.clear();
    await expect(cache.remember(JKT, 'jti-1', 60_000)).resolves.toBeUndefined();
  });
});
