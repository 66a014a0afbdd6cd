import { createHash } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MARGIN_MS, ReplayCache, SLICE_MS } from '../src/dpop/replay-cache.js';
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
 * `performance.now()` (read through the global object). `start` puts the clock inside a time
 * slice rather than on its first millisecond.
 */
function fakeMonotonicTime(start = performance.now()): (ms: number) => void {
  let now = start;
  vi.spyOn(performance, 'now').mockImplementation(() => now);
  return (ms) => {
    now += ms;
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

  it('forgets an entry once its ttl and the margin are over, and not before', async () => {
    expect(MARGIN_MS).toBe(1000);
    const advance = fakeMonotonicTime();
    const cache = new ReplayCache(10, undefined);
    await cache.remember(JKT, 'jti-1', 10_000);
    advance(10_000 + MARGIN_MS);
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
      reason: 'replay_cache_full',
    });
    expect((error.cause as Error).message).toBe('the DPoP replay cache is full');
    expect(events).toEqual([{ outcome: 'full' }]);
    // Both live proofs are still refused, and the refused one was not recorded.
    expect((await failure(cache.remember(JKT, 'a', 10_000))).code).toBe('dpop_proof_replayed');
    expect((await failure(cache.remember(JKT, 'b', 20_000))).code).toBe('dpop_proof_replayed');
    expect((await failure(cache.remember(JKT, 'c', 60_000))).code).toBe('authorization_server_unavailable');
    // Once an entry's window is over, its room is free again.
    advance(10_001 + MARGIN_MS);
    await expect(cache.remember(JKT, 'c', 60_000)).resolves.toBeUndefined();
    expect((await failure(cache.remember(JKT, 'b', 20_000))).code).toBe('dpop_proof_replayed');
  });

  it('forgets entries as their windows end, so it holds only the proofs still live', async () => {
    // 1 599 004 + 1 500 + the margin is the first millisecond of a time slice: every slice before
    // it has passed.
    expect((1_599_004 + 1_500 + MARGIN_MS) % SLICE_MS).toBe(0);
    const advance = fakeMonotonicTime(1_599_004);
    const cache = new ReplayCache(10_000, undefined);
    for (let i = 0; i < 1000; i++) await cache.remember(JKT, `short-${i}`, 1_000 + i);
    for (let i = 0; i < 10; i++) await cache.remember(JKT, `long-${i}`, 60_000);
    expect(cache.size).toBe(1010);
    const slicesAtFirst = cache.sliceCount;
    advance(1_500 + MARGIN_MS);
    await cache.remember(JKT, 'next', 60_000);
    // The 500 proofs whose windows ended are gone, with their slices; the others are all refused.
    expect(cache.size).toBe(511);
    expect(cache.sliceCount).toBeLessThan(slicesAtFirst - 25);
    for (const jti of ['short-500', 'short-999', 'long-0', 'next']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('dpop_proof_replayed');
    }
    advance(2 * 3_600_000);
    await cache.remember(JKT, 'after-a-quiet-spell', 60_000);
    expect(cache.size).toBe(1);
    expect(cache.sliceCount).toBe(1);
    await expect(cache.remember(JKT, 'long-0', 60_000)).resolves.toBeUndefined();
  });

  it('keeps a proof recorded again after its first window ended, whatever becomes of the first', async () => {
    const advance = fakeMonotonicTime(1_000_005);
    const cache = new ReplayCache(10, undefined);
    await cache.remember(JKT, 'jti-1', 100);
    advance(101 + MARGIN_MS);
    // Accepted again (its window is over), now until 1 002 306: another time slice.
    await cache.remember(JKT, 'jti-1', 200);
    advance(150);
    // The first entry's slice has passed and is dropped: the second entry stays.
    await cache.remember(JKT, 'other', 1_000);
    expect(cache.sliceCount).toBe(2);
    expect((await failure(cache.remember(JKT, 'jti-1', 200))).code).toBe('dpop_proof_replayed');
    advance(51 + MARGIN_MS);
    await expect(cache.remember(JKT, 'jti-1', 200)).resolves.toBeUndefined();
  });

  it('when full of live proofs, refuses every new one, frees room only as windows end, to the millisecond', async () => {
    const advance = fakeMonotonicTime(2_000_003);
    const cache = new ReplayCache(3, undefined);
    await cache.remember(JKT, 'a', 5);
    await cache.remember(JKT, 'b', 7);
    await cache.remember(JKT, 'c', 60_000);
    for (const jti of ['d', 'e', 'd']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('authorization_server_unavailable');
    }
    // 'a' lives until 2 001 008 (its window and the margin; the same time slice as now): at that
    // millisecond it still counts.
    advance(5 + MARGIN_MS);
    expect((await failure(cache.remember(JKT, 'd', 60_000))).code).toBe('authorization_server_unavailable');
    advance(1);
    await expect(cache.remember(JKT, 'd', 60_000)).resolves.toBeUndefined();
    expect((await failure(cache.remember(JKT, 'e', 60_000))).code).toBe('authorization_server_unavailable');
    advance(2);
    await expect(cache.remember(JKT, 'e', 60_000)).resolves.toBeUndefined();
    expect(cache.size).toBe(3);
    for (const jti of ['c', 'd', 'e']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('dpop_proof_replayed');
    }
    expect(events.filter((e) => (e as { outcome: string }).outcome === 'full')).toHaveLength(5);
  });

  it('when full, keeps a key recorded again whose former listing is in the current time slice', async () => {
    const advance = fakeMonotonicTime(3_200_000);
    const cache = new ReplayCache(2, undefined);
    // Until 3 201 001: the slice from 3 200 992 to 3 201 007.
    await cache.remember(JKT, 'k1', 1);
    advance(1_002);
    await cache.remember(JKT, 'k1', 60_000);
    await cache.remember(JKT, 'k2', 60_000);
    advance(1);
    // Full, and the current slice lists k1 from its first window: that listing goes, k1 stays.
    expect((await failure(cache.remember(JKT, 'k3', 60_000))).code).toBe('authorization_server_unavailable');
    expect(cache.size).toBe(2);
    for (const jti of ['k1', 'k2']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('dpop_proof_replayed');
    }
  });

  it('forgets slice by slice as the clock moves a little at a time', async () => {
    // 7 999 000 + the margin is the first millisecond of a time slice.
    expect((7_999_000 + MARGIN_MS) % SLICE_MS).toBe(0);
    const advance = fakeMonotonicTime(7_999_000);
    const cache = new ReplayCache(10_000, undefined);
    // One proof ending in each of 60 consecutive slices (at 8 000 000 + 16 i), then one long one.
    for (let i = 0; i < 60; i++) await cache.remember(JKT, `p-${i}`, 16 * i);
    await cache.remember(JKT, 'long', 60_000);
    expect(cache.sliceCount).toBe(61);
    advance(MARGIN_MS);
    for (let step = 1; step <= 5; step++) {
      advance(4 * SLICE_MS);
      await cache.remember(JKT, `step-${step}`, 60_000);
      // Every proof whose slice has passed is gone; the next ones are all still refused.
      expect(cache.size).toBe(60 - 4 * step + 1 + step);
      expect((await failure(cache.remember(JKT, `p-${4 * step}`, 16))).code).toBe('dpop_proof_replayed');
    }
    // p-20 … p-59, the long one, and the five step proofs (each ending in a slice of its own).
    expect(cache.sliceCount).toBe(40 + 1 + 5);
  });

  it('when full, frees an entry of the current time slice whose window has ended, and only that one', async () => {
    // Three proofs ending at 4 000 001, 4 000 003 and 4 000 009 (one time slice), in that order.
    expect((3_999_000 + MARGIN_MS) % SLICE_MS).toBe(0);
    const advance = fakeMonotonicTime(3_999_000);
    const cache = new ReplayCache(3, undefined);
    await cache.remember(JKT, 'e1', 1);
    await cache.remember(JKT, 'e2', 3);
    await cache.remember(JKT, 'e3', 9);
    advance(MARGIN_MS + 3);
    // At 4 000 003 e1 has ended (its room goes to x) and e2 still counts, to its last millisecond.
    await expect(cache.remember(JKT, 'x', 60_000)).resolves.toBeUndefined();
    expect((await failure(cache.remember(JKT, 'e2', 3))).code).toBe('dpop_proof_replayed');
    expect((await failure(cache.remember(JKT, 'y', 60_000))).code).toBe('authorization_server_unavailable');
    advance(1);
    // At 4 000 004 e2 has ended (the slice's soonest end, once e1 was gone): y takes its room.
    await expect(cache.remember(JKT, 'y', 60_000)).resolves.toBeUndefined();
    for (const jti of ['e3', 'x', 'y']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('dpop_proof_replayed');
    }
  });

  it('when full, frees the entry that ends first in the current slice, whatever the order it came in', async () => {
    const advance = fakeMonotonicTime(3_999_000);
    const cache = new ReplayCache(2, undefined);
    await cache.remember(JKT, 'late', 10);
    await cache.remember(JKT, 'early', 5);
    advance(MARGIN_MS + 6);
    await expect(cache.remember(JKT, 'x', 60_000)).resolves.toBeUndefined();
    expect((await failure(cache.remember(JKT, 'late', 10))).code).toBe('dpop_proof_replayed');
  });

  it('still forgets what ends after a fake clock was set back', async () => {
    const advance = fakeMonotonicTime(5_000_000);
    const cache = new ReplayCache(2, undefined);
    await cache.remember(JKT, 'a', 1);
    advance(2_000);
    await cache.remember(JKT, 'b', 1);
    advance(-10_000);
    await cache.remember(JKT, 'c', 1);
    advance(2_000);
    // c has ended (b, recorded before the clock went back, still counts): d takes c's room.
    await expect(cache.remember(JKT, 'd', 60_000)).resolves.toBeUndefined();
    for (const jti of ['b', 'd']) {
      expect((await failure(cache.remember(JKT, jti, 60_000))).code).toBe('dpop_proof_replayed');
    }
  });

  it('refuses to record a proof whose window is not a finite number (it could never be refused)', async () => {
    const cache = new ReplayCache(10, undefined);
    for (const ttl of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      await expect(cache.remember(JKT, 'jti-1', ttl)).rejects.toThrow(
        new TypeError('a DPoP proof window must be a finite number of ms'),
      );
    }
    expect(cache.size).toBe(0);
    await cache.remember(JKT, 'jti-1', 60_000);
    expect((await failure(cache.remember(JKT, 'jti-1', 60_000))).code).toBe('dpop_proof_replayed');
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
