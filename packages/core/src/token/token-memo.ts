/**
 * The hot-path memo of validated tokens: keyed by SHA-256 of the token (never the raw token,
 * RFC 9700 §4.9.3), bounded in size, each entry living no longer than `maxTtlSeconds` nor past the
 * token's `exp`. Concurrent misses for one token share one validation. What is cached is the
 * token's validation; binding, time and scopes are checked by the verifier on every request.
 */
import type { LRUCache } from 'lru-cache';
import { reportCache } from '../diagnostics.js';
import { tokenKey } from './cache-key.js';
import { expiringLru } from './lru.js';
import { SingleFlight } from './single-flight.js';
import type { ValidatedToken } from './validated-token.js';

/** Default number of validated tokens kept. */
export const DEFAULT_TOKEN_CACHE_MAX = 10_000;
/** Default longest time a validation is reused, seconds. */
export const DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS = 300;

export interface TokenCacheOptions {
  max: number;
  maxTtlSeconds: number;
}

export class TokenMemo {
  readonly #lru: LRUCache<string, ValidatedToken> | undefined;
  readonly #maxTtlMs: number;
  readonly #inFlight = new SingleFlight<ValidatedToken>();

  constructor(options: TokenCacheOptions | false) {
    this.#maxTtlMs = options ? Math.ceil(options.maxTtlSeconds * 1000) : 0;
    this.#lru =
      options && options.max > 0 && this.#maxTtlMs > 0
        ? expiringLru<ValidatedToken>(options.max, this.#maxTtlMs)
        : undefined;
  }

  /** The cached validation of `token`, or the result of `validate` (shared by concurrent callers). */
  get(token: string, validate: () => Promise<ValidatedToken>): Promise<ValidatedToken> {
    const lru = this.#lru;
    if (lru === undefined) return validate();
    const key = tokenKey(token);
    const hit = lru.get(key);
    if (hit !== undefined) {
      reportCache('token', 'hit');
      return Promise.resolve(hit);
    }
    reportCache('token', this.#inFlight.has(key) ? 'coalesced' : 'miss');
    return this.#inFlight.run(key, async () => {
      const validated = await validate();
      const ttl = this.#ttlFor(validated);
      if (ttl > 0) lru.set(key, validated, { ttl });
      return validated;
    });
  }

  #ttlFor(validated: ValidatedToken): number {
    const exp = validated.times.exp;
    if (exp === undefined) return this.#maxTtlMs;
    return Math.min(this.#maxTtlMs, Math.floor(exp * 1000 - Date.now()));
  }

  clear(): void {
    this.#lru?.clear();
    this.#inFlight.clear();
  }
}
