import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InvalidTokenError, ServiceUnavailableError } from '../src/errors.js';
import { SIGNATURE_MISMATCH } from '../src/jwt/validate-jwt.js';
import { DEFAULT_TOKEN_CACHE_MAX_BYTES, REFUSAL_MEMO_SECONDS, TokenMemo } from '../src/token/token-memo.js';
import type { ValidatedToken } from '../src/token/validated-token.js';
import { failure } from './support/outcomes.js';

afterEach(() => {
  vi.useRealTimers();
});

function validated(exp?: number, keyId?: string): ValidatedToken {
  return {
    ...(keyId === undefined ? {} : { keyId }),
    format: 'jwt',
    issuer: 'https://as.example.com',
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

  it('does not cache a validation whose exp is this very millisecond (a TTL of 0 would mean no expiry)', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(1_800_000_000_000);
    const cache = new TokenMemo(memoOptions(10));
    const validate = vi.fn(async () => validated(1_800_000_000));
    await cache.get('t', validate);
    await cache.get('t', validate);
    expect(validate).toHaveBeenCalledTimes(2);
  });

  it('caches nothing with max 0 or maxTtlSeconds 0', async () => {
    for (const options of [
      { max: 0, maxTtlSeconds: 60, maxBytes: DEFAULT_TOKEN_CACHE_MAX_BYTES },
      { max: 10, maxTtlSeconds: 0, maxBytes: DEFAULT_TOKEN_CACHE_MAX_BYTES },
    ]) {
      const cache = new TokenMemo(options);
      const validate = vi.fn(async () => validated(Date.now() / 1000 + 300));
      await cache.get('t', validate);
      await cache.get('t', validate);
      expect(validate).toHaveBeenCalledTimes(2);
    }
  });

  it('clear() forgets every validation, and does nothing when the memo is off', async () => {
    const cache = new TokenMemo(memoOptions(10));
    const validate = vi.fn(async () => validated(Date.now() / 1000 + 300));
    await cache.get('t', validate);
    cache.clear();
    await cache.get('t', validate);
    expect(validate).toHaveBeenCalledTimes(2);
    expect(() => new TokenMemo(false).clear()).not.toThrow();
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

/** Bytes an entry for a token of `length` characters counts: twice the token, and 1 KiB. */
const entryBytes = (length: number) => 2 * length + 1024;

/** Validations counted per token. */
function validations() {
  const counts = new Map<string, number>();
  return {
    count: (token: string) => counts.get(token) ?? 0,
    validate: (token: string) => async () => {
      counts.set(token, (counts.get(token) ?? 0) + 1);
      return validated(Date.now() / 1000 + 300);
    },
  };
}

describe('TokenMemo memory bound (maxBytes)', () => {
  it('evicts the least recently used validations once the entries would exceed maxBytes', async () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((letter) => letter.repeat(100)) as [
      string,
      string,
      string,
      string,
    ];
    const memo = new TokenMemo(memoOptions(100, 3 * entryBytes(100)));
    const { count, validate } = validations();
    for (const token of [a, b, c]) await memo.get(token, validate(token));
    await memo.get(a, validate(a)); // a is now the most recently used
    await memo.get(d, validate(d)); // b must go
    for (const token of [a, c, d]) await memo.get(token, validate(token));
    expect([a, b, c, d].map(count)).toEqual([1, 1, 1, 1]);
    await memo.get(b, validate(b));
    expect(count(b)).toBe(2);
  });

  it('counts longer tokens as larger entries', async () => {
    const memo = new TokenMemo(memoOptions(100, entryBytes(1000) + entryBytes(10)));
    const { count, validate } = validations();
    const [long, short, other] = ['l'.repeat(1000), 's'.repeat(10), 'o'.repeat(10)];
    await memo.get(long, validate(long));
    await memo.get(short, validate(short));
    await memo.get(other, validate(other)); // the long one, least recently used, makes room
    await memo.get(short, validate(short));
    await memo.get(other, validate(other));
    await memo.get(long, validate(long));
    expect([long, short, other].map(count)).toEqual([2, 1, 1]);
  });

  it('never keeps a validation larger than maxBytes on its own', async () => {
    const memo = new TokenMemo(memoOptions(100, 4096));
    const { count, validate } = validations();
    const huge = 'h'.repeat(2000);
    await memo.get(huge, validate(huge));
    await memo.get(huge, validate(huge));
    expect(count(huge)).toBe(2);
  });
});

describe('TokenMemo refusal memo', () => {
  const lasting = (error: unknown) => (error as Error).cause === SIGNATURE_MISMATCH;
  const forged = () =>
    vi.fn(async (): Promise<ValidatedToken> => {
      throw new InvalidTokenError('token_signature_invalid', { cause: SIGNATURE_MISMATCH });
    });

  it(`remembers a lasting refusal for ${REFUSAL_MEMO_SECONDS} s, rethrowing it as a new error each time`, async () => {
    expect(REFUSAL_MEMO_SECONDS).toBe(60);
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const memo = new TokenMemo(memoOptions(10), lasting);
    const validate = forged();
    const first = await failure(() => memo.get('forged', validate));
    const second = await failure(() => memo.get('forged', validate));
    expect(validate).toHaveBeenCalledTimes(1);
    expect(second).not.toBe(first);
    expect(second).toBeInstanceOf(InvalidTokenError);
    expect(second).toMatchObject({ status: 401, error: 'invalid_token', code: 'token_signature_invalid' });
    expect(second.cause).toBe(SIGNATURE_MISMATCH);
    vi.setSystemTime(start + 59_999);
    expect((await failure(() => memo.get('forged', validate))).code).toBe('token_signature_invalid');
    expect(validate).toHaveBeenCalledTimes(1);
    vi.setSystemTime(start + 60_001);
    expect((await failure(() => memo.get('forged', validate))).code).toBe('token_signature_invalid');
    expect(validate).toHaveBeenCalledTimes(2);
  });

  it('reports a remembered refusal as a negative hit on certbound:cache', async () => {
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    subscribe('certbound:cache', listener);
    try {
      const memo = new TokenMemo(memoOptions(10), lasting);
      const validate = forged();
      await failure(() => memo.get('forged', validate));
      await failure(() => memo.get('forged', validate));
      await memo.get('good', async () => validated(Date.now() / 1000 + 300));
      await memo.get('good', async () => validated(Date.now() / 1000 + 300));
      expect(events).toEqual([
        { cache: 'token', event: 'miss' },
        { cache: 'token', event: 'negative' },
        { cache: 'token', event: 'miss' },
        { cache: 'token', event: 'hit' },
      ]);
    } finally {
      unsubscribe('certbound:cache', listener);
    }
  });

  it('reports the requests that wait for a validation in flight as coalesced', async () => {
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    subscribe('certbound:cache', listener);
    try {
      const memo = new TokenMemo(memoOptions(10));
      const validate = async () => validated(Date.now() / 1000 + 300);
      await Promise.all([memo.get('t', validate), memo.get('t', validate)]);
      expect(events).toEqual([
        { cache: 'token', event: 'miss' },
        { cache: 'token', event: 'coalesced' },
      ]);
    } finally {
      unsubscribe('certbound:cache', listener);
    }
  });

  it('does not remember refusals that are not lasting, nor anything that is not a token refusal', async () => {
    const memo = new TokenMemo(memoOptions(10), lasting);
    const expired = vi.fn(async (): Promise<ValidatedToken> => {
      throw new InvalidTokenError('token_expired');
    });
    await failure(() => memo.get('expired', expired));
    await failure(() => memo.get('expired', expired));
    expect(expired).toHaveBeenCalledTimes(2);

    const always = new TokenMemo(memoOptions(10), () => true);
    const unavailable = vi.fn(async (): Promise<ValidatedToken> => {
      throw new ServiceUnavailableError({ cause: SIGNATURE_MISMATCH });
    });
    await failure(() => always.get('t', unavailable));
    await failure(() => always.get('t', unavailable));
    expect(unavailable).toHaveBeenCalledTimes(2);
  });

  it('remembers nothing when the memo is off', async () => {
    const memo = new TokenMemo(false, lasting);
    const validate = forged();
    await failure(() => memo.get('forged', validate));
    await failure(() => memo.get('forged', validate));
    expect(validate).toHaveBeenCalledTimes(2);
  });
});

describe('TokenMemo.forgetKeys', () => {
  it('forgets the validations made with the given keys, and only those', async () => {
    const memo = new TokenMemo(memoOptions(10), (error) => (error as Error).cause === SIGNATURE_MISMATCH);
    const exp = Date.now() / 1000 + 300;
    const calls = new Map<string, number>();
    const validate = (token: string, keyId?: string) => async () => {
      calls.set(token, (calls.get(token) ?? 0) + 1);
      if (token === 'forged')
        throw new InvalidTokenError('token_signature_invalid', { cause: SIGNATURE_MISMATCH });
      return validated(exp, keyId);
    };
    const tokens: [string, string | undefined][] = [
      ['by-k1', 'k1'],
      ['also-by-k1', 'k1'],
      ['by-k2', 'k2'],
      ['by-k3', 'k3'],
      ['no-key-id', undefined],
    ];
    for (const [token, keyId] of tokens) await memo.get(token, validate(token, keyId));
    await failure(() => memo.get('forged', validate('forged')));

    memo.forgetKeys(new Set(['k1', 'k3']));
    for (const [token, keyId] of tokens) await memo.get(token, validate(token, keyId));
    await failure(() => memo.get('forged', validate('forged')));
    expect(Object.fromEntries(calls)).toEqual({
      'by-k1': 2,
      'also-by-k1': 2,
      'by-k2': 1,
      'by-k3': 2,
      'no-key-id': 1,
      forged: 1,
    });
  });

  it('does not memoize a validation that was in flight when its key was forgotten', async () => {
    const memo = new TokenMemo(memoOptions(10));
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const exp = Date.now() / 1000 + 300;
    const inFlight = memo.get('t', async () => {
      await gate;
      return validated(exp, 'k1');
    });
    // The JWK Set was refreshed without k1 while the signature was being checked with it.
    memo.forgetKeys(new Set(['k1']));
    release();
    await inFlight;
    const again = vi.fn(async () => validated(exp, 'k2'));
    await memo.get('t', again);
    expect(again).toHaveBeenCalledTimes(1);
  });

  it('memoizes a validation that started after its key was forgotten (the key came back)', async () => {
    const memo = new TokenMemo(memoOptions(10));
    memo.forgetKeys(new Set(['k1']));
    const validate = vi.fn(async () => validated(Date.now() / 1000 + 300, 'k1'));
    await memo.get('t', validate);
    await memo.get('t', validate);
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it('does nothing when the memo is off', () => {
    expect(() => new TokenMemo(false).forgetKeys(new Set(['k1']))).not.toThrow();
  });
});
