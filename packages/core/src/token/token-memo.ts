/**
 * The hot-path memo of validated tokens: keyed by SHA-256 of the token (never the raw token,
 * RFC 9700 §4.9.3), bounded in size, each entry living no longer than `maxTtlSeconds` nor past the
 * token's `exp`. Concurrent misses for one token share one validation. What is cached is the
 * token's validation; binding, time and scopes are checked by the verifier on every request.
 */
import type { LRUCache } from 'lru-cache';
import { reportCache } from '../diagnostics.js';
import { InvalidTokenError, type TokenErrorCode } from '../errors.js';
import { tokenKey } from './cache-key.js';
import { expiringLru } from './lru.js';
import { SingleFlight } from './single-flight.js';
import type { ValidatedToken } from './validated-token.js';

/** Default number of validated tokens kept. */
export const DEFAULT_TOKEN_CACHE_MAX = 10_000;
/** Default bound of the memo's memory, bytes (an estimate per entry, see {@link entrySize}). */
export const DEFAULT_TOKEN_CACHE_MAX_BYTES = 32 * 1024 * 1024;
/** Default longest time a validation is reused, seconds. */
export const DEFAULT_TOKEN_CACHE_MAX_TTL_SECONDS = 300;
/** How long a forged token's refusal is remembered, seconds (see `SIGNATURE_MISMATCH`). */
export const REFUSAL_MEMO_SECONDS = 60;
/** Bytes counted for an entry besides its token: the key, the frozen arrays, the LRU's own slots. */
const ENTRY_OVERHEAD_BYTES = 1024;

export interface TokenCacheOptions {
  max: number;
  maxTtlSeconds: number;
  maxBytes: number;
}

/** A refusal remembered for a token: its code and cause, rethrown as a new error each time. */
interface Refusal {
  refused: TokenErrorCode;
  cause: unknown;
}

/**
 * The memory an entry holds, estimated from the token: its claims are the token's payload parsed
 * (3/4 of its base64url length as JSON, about twice that as JavaScript objects).
 */
function entrySize(token: string): number {
  return 2 * token.length + ENTRY_OVERHEAD_BYTES;
}

export class TokenMemo {
  readonly #lru: LRUCache<string, ValidatedToken | Refusal> | undefined;
  readonly #maxTtlMs: number;
  readonly #inFlight = new SingleFlight<ValidatedToken>();
  readonly #lasting: (error: unknown) => boolean;
  /** Key ids forgotten, with the count of `forgetKeys` calls at that time (keys removed are few). */
  readonly #forgotten = new Map<string, number>();
  #forgets = 0;

  /**
   * @param lasting - which refusals to remember ({@link REFUSAL_MEMO_SECONDS}): those no later
   * request with the same token can change.
   */
  constructor(options: TokenCacheOptions | false, lasting: (error: unknown) => boolean = () => false) {
    this.#maxTtlMs = options ? Math.ceil(options.maxTtlSeconds * 1000) : 0;
    this.#lasting = lasting;
    this.#lru =
      options && options.max > 0 && this.#maxTtlMs > 0
        ? expiringLru<ValidatedToken | Refusal>(options.max, this.#maxTtlMs, options.maxBytes)
        : undefined;
  }

  /**
   * The cached validation of `token` (without a promise; a remembered refusal is thrown), or the
   * result of `validate` (shared by concurrent callers). `digest`: the token's, if already known.
   */
  get(
    token: string,
    validate: () => Promise<ValidatedToken>,
    digest?: string,
  ): ValidatedToken | Promise<ValidatedToken> {
    const lru = this.#lru;
    if (lru === undefined) return validate();
    const key = tokenKey(token, '', digest);
    const hit = lru.get(key);
    if (hit !== undefined) {
      if ('refused' in hit) {
        reportCache('token', 'negative');
        throw new InvalidTokenError(hit.refused, { cause: hit.cause });
      }
      reportCache('token', 'hit');
      return hit;
    }
    reportCache('token', this.#inFlight.has(key) ? 'coalesced' : 'miss');
    const forgetsAtStart = this.#forgets;
    return this.#inFlight.run(key, async () => {
      let validated: ValidatedToken;
      try {
        validated = await validate();
      } catch (error) {
        if (error instanceof InvalidTokenError && this.#lasting(error)) {
          const refusal: Refusal = { refused: error.code as TokenErrorCode, cause: error.cause };
          lru.set(key, refusal, { ttl: REFUSAL_MEMO_SECONDS * 1000, size: ENTRY_OVERHEAD_BYTES });
        }
        throw error;
      }
      const ttl = this.#ttlFor(validated);
      // A validation made with a key forgotten while it ran is used once, never kept.
      const forgottenAt = validated.keyId === undefined ? undefined : this.#forgotten.get(validated.keyId);
      if (forgottenAt !== undefined && forgottenAt > forgetsAtStart) return validated;
      if (ttl > 0) lru.set(key, validated, { ttl, size: entrySize(token) });
      return validated;
    });
  }

  /** Forgets every validation made with one of these keys (the JWK Set no longer has them). */
  forgetKeys(keyIds: ReadonlySet<string>): void {
    this.#forgets++;
    for (const id of keyIds) this.#forgotten.set(id, this.#forgets);
    const lru = this.#lru;
    if (lru === undefined) return;
    for (const [key, entry] of lru.entries()) {
      if ('keyId' in entry && entry.keyId !== undefined && keyIds.has(entry.keyId)) lru.delete(key);
    }
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
