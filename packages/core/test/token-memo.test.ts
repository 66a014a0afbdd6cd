import { describe, expect, it, vi } from 'vitest';
import { InvalidTokenError } from '../src/errors.js';
import { DEFAULT_TOKEN_CACHE_MAX_BYTES, TokenMemo } from '../src/token/token-memo.js';
import type { ValidatedToken } from '../src/token/validated-token.js';

function validated(exp?: number): ValidatedToken {
  return {
    format: 'jwt',
    claims: {},
    subject: undefined,
    clientId: undefined,
    scopes: [],
    times: { exp, nbf: undefined, iat: undefined },
    confirmation: undefined,
    dpopTokenType: false,
  };
}

/** The memo's options: `max` entries, 60 s, and the default memory bound unless given. */
function memoOptions(max: number, maxBytes = DEFAULT_TOKEN_CACHE_MAX_BYTES) {
  return { max, maxTtlSeconds: 60, maxBytes };
}

describe('TokenMemo', () => {
  it('validates a token once and serves the cached validation afterwards', async () => {
    const cache = new TokenMemo(memoOptions(10));
    const validate = vi.fn(async () => validated(Date.now() / 1000 + 300));
    await cache.get('t', validate);
    await cache.get('t', validate);
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it('shares one validation between concurrent misses for the same token', async () => {
    const cache = new TokenMemo(memoOptions(10));
    let resolve!: (v: ValidatedToken) => void;
    const validate = vi.fn(() => new Promise<ValidatedToken>((r) => (resolve = r)));
    const all = Promise.all(Array.from({ length: 50 }, () => cache.get('t', validate)));
    resolve(validated(Date.now() / 1000 + 300));
    const results = await all;
    expect(validate).toHaveBeenCalledTimes(1);
    expect(new Set(results).size).toBe(1);
  });

  it('does not cache failures', async () => {
    const cache = new TokenMemo(memoOptions(10));
    const validate = vi.fn(async () => {
      throw new InvalidTokenError('token_signature_invalid');
    });
    await expect(cache.get('t', validate)).rejects.toThrow(InvalidTokenError);
    await expect(cache.get('t', validate)).rejects.toThrow(InvalidTokenError);
    expect(validate).toHaveBeenCalledTimes(2);
  });

  it('never keeps an entry past the token exp, nor past maxTtlSeconds', async () => {
    vi.useFakeTimers();
    try {
      const cache = new TokenMemo(memoOptions(10));
      const shortLived = vi.fn(async () => validated(Date.now() / 1000 + 10));
      await cache.get('short', shortLived);
      vi.advanceTimersByTime(9_000);
      await cache.get('short', shortLived);
      expect(shortLived).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1_500);
      await cache.get('short', shortLived);
      expect(shortLived).toHaveBeenCalledTimes(2);

      const longLived = vi.fn(async () => validated(Date.now() / 1000 + 3600));
      await cache.get('long', longLived);
      vi.advanceTimersByTime(61_000);
      await cache.get('long', longLived);
      expect(longLived).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not cache an already expired validation, and caches nothing when disabled', async () => {
    const cache = new TokenMemo(memoOptions(10));
    const expired = vi.fn(async () => validated(Date.now() / 1000 - 1));
    await cache.get('t', expired);
    await cache.get('t', expired);
    expect(expired).toHaveBeenCalledTimes(2);
    const disabled = new TokenMemo(false);
    const validate = vi.fn(async () => validated());
    await disabled.get('t', validate);
    await disabled.get('t', validate);
    expect(validate).toHaveBeenCalledTimes(2);
  });

  it('holds at most max entries', async () => {
    const cache = new TokenMemo(memoOptions(2));
    const validate = vi.fn(async () => validated());
    for (const t of ['a', 'b', 'c', 'a']) await cache.get(t, validate);
    expect(validate).toHaveBeenCalledTimes(4);
    await cache.get('a', validate);
    await cache.get('c', validate);
    expect(validate).toHaveBeenCalledTimes(4);
  });
});
