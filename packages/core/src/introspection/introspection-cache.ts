/**
 * The introspection cache (RFC 7662 §4, docs/architecture.md#caches): in-process LRU in front of an optional
 * shared {@link CacheStore}, in front of the authorization server.
 *
 * - keys are SHA-256 of the token, namespaced by issuer; never the token;
 * - an active result lives at most `maxTtlSeconds` and never past the token's `exp`;
 * - an inactive (or otherwise refused) result lives `negativeTtlSeconds`;
 * - failures to get an answer are never cached;
 * - concurrent misses for one token make one call;
 * - nothing is served past its expiry (checked on every read, not left to eviction).
 *
 * What is cached is the introspection result; binding, time and scopes are checked by the
 * verifier on every request.
 */
import { hash } from 'node:crypto';
import type { LRUCache } from 'lru-cache';
import { type CacheEntry, type CacheStore, isCacheEntry } from '../cache-store.js';
import { reportCache } from '../diagnostics.js';
import { CertboundError, InvalidTokenError, type TokenErrorCode } from '../errors.js';
import type { NormalizedIntrospectionCache } from '../options/introspection-options.js';
import { tokenKey } from '../token/cache-key.js';
import { expiringLru } from '../token/lru.js';
import { SingleFlight } from '../token/single-flight.js';
import type { ValidatedToken } from '../token/validated-token.js';

/** A cached outcome: the validated token, or the reason it was refused. */
interface Memo {
  outcome: ValidatedToken | TokenErrorCode;
  /** Epoch ms. */
  expiresAt: number;
}

export interface IntrospectionCacheDependencies {
  /** Asks the authorization server (throws a 503 when it cannot answer). */
  introspect(token: string): Promise<Record<string, unknown>>;
  /** Turns a response into a validated token, or throws an InvalidTokenError. */
  validate(response: Record<string, unknown>): ValidatedToken;
}

/** The namespace of an issuer's keys in a shared store. */
export function issuerNamespace(issuer: string): string {
  return `certbound:introspection:${hash('sha256', issuer, 'base64url').slice(0, 16)}:`;
}

/** Bytes counted for an entry besides its response: the key, the memo, the LRU's own slots. */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * The memory a remembered outcome holds, estimated from the response: a refusal keeps only its
 * code; a validated token keeps the response as frozen claims (about twice its JSON as objects).
 */
function memoSize(entry: CacheEntry): number {
  if (entry.response.active !== true) return ENTRY_OVERHEAD_BYTES;
  let json: string;
  try {
    json = JSON.stringify(entry.response);
  } catch {
    return ENTRY_OVERHEAD_BYTES;
  }
  return 2 * json.length + ENTRY_OVERHEAD_BYTES;
}

/** The validated token a memo holds, or its refusal thrown. */
function outcomeOf(memo: Memo): ValidatedToken {
  if (typeof memo.outcome === 'string') throw new InvalidTokenError(memo.outcome);
  return memo.outcome;
}

export class IntrospectionCache {
  readonly #options: NormalizedIntrospectionCache | false;
  readonly #lru: LRUCache<string, Memo> | undefined;
  readonly #store: CacheStore | undefined;
  readonly #namespace: string;
  readonly #inFlight = new SingleFlight<Memo>();
  readonly #dependencies: IntrospectionCacheDependencies;

  constructor(
    options: NormalizedIntrospectionCache | false,
    issuer: string,
    dependencies: IntrospectionCacheDependencies,
  ) {
    this.#options = options;
    this.#namespace = issuerNamespace(issuer);
    this.#dependencies = dependencies;
    this.#store = options ? options.store : undefined;
    this.#lru = options
      ? expiringLru<Memo>(options.max, Math.ceil(options.maxTtlSeconds * 1000), options.maxBytes)
      : undefined;
  }

  /**
   * The validated token for `token`, from cache, the shared store or the authorization server:
   * without a promise when it is in this process's cache (a remembered refusal is thrown).
   */
  get(token: string, digest?: string): ValidatedToken | Promise<ValidatedToken> {
    const key = tokenKey(token, this.#namespace, digest);
    const hit = this.#lru?.get(key);
    if (hit !== undefined && hit.expiresAt > Date.now()) {
      reportCache('introspection', typeof hit.outcome === 'string' ? 'negative' : 'hit');
      return outcomeOf(hit);
    }
    reportCache('introspection', this.#inFlight.has(key) ? 'coalesced' : 'miss');
    return this.#inFlight.run(key, () => this.#load(key, token)).then(outcomeOf);
  }

  clear(): void {
    this.#lru?.clear();
    this.#inFlight.clear();
  }

  async #load(key: string, token: string): Promise<Memo> {
    const stored = await this.#fromStore(key);
    if (stored !== undefined) return this.#remember(key, stored);
    const response = await this.#dependencies.introspect(token);
    const entry: CacheEntry = { response, expiresAt: this.#expiryOf(response) };
    const memo = this.#remember(key, entry);
    const ttl = Math.floor(memo.expiresAt - Date.now());
    if (this.#store !== undefined && ttl > 0) {
      this.#store.set(key, { response, expiresAt: memo.expiresAt }, ttl).catch(() => undefined);
    }
    return memo;
  }

  /** A usable entry from the shared store, or `undefined` (a failing store is a miss). */
  async #fromStore(key: string): Promise<CacheEntry | undefined> {
    if (this.#store === undefined) return undefined;
    try {
      const entry = await this.#store.get(key);
      return isCacheEntry(entry) && entry.expiresAt > Date.now() ? entry : undefined;
    } catch {
      return undefined;
    }
  }

  /** Validates the entry's response and keeps the outcome in process until it expires. */
  #remember(key: string, entry: CacheEntry): Memo {
    let memo: Memo;
    try {
      memo = { outcome: this.#dependencies.validate(entry.response), expiresAt: entry.expiresAt };
    } catch (error) {
      if (!(error instanceof CertboundError) || error.status !== 401) throw error;
      const negativeUntil = Date.now() + (this.#options ? this.#options.negativeTtlSeconds * 1000 : 0);
      memo = { outcome: error.code as TokenErrorCode, expiresAt: Math.min(entry.expiresAt, negativeUntil) };
    }
    const ttl = Math.floor(memo.expiresAt - Date.now());
    if (this.#lru !== undefined && ttl > 0) this.#lru.set(key, memo, { ttl, size: memoSize(entry) });
    return memo;
  }

  /** When a fresh response stops being usable: bounded by `exp` and the configured TTLs. */
  #expiryOf(response: Record<string, unknown>): number {
    const now = Date.now();
    if (!this.#options) return now;
    if (response.active !== true) return now + this.#options.negativeTtlSeconds * 1000;
    const limit = now + this.#options.maxTtlSeconds * 1000;
    const exp = response.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? Math.min(limit, exp * 1000) : limit;
  }
}
