/**
 * DPoP proof replay detection (RFC 9449 §11.1): every accepted proof's `jti`, scoped to the proof
 * key, is remembered until the proof's own acceptance window ends, in process (always) and in an
 * optional shared {@link ReplayStore} (the fleet-wide layer). Keys are a hash of the key thumbprint
 * and the `jti` — never the proof or the token (docs/architecture.md#caches).
 *
 * The in-process cache never drops an entry before its window ends: when it holds `max` live
 * entries, a new proof is refused with 503 (and reported) rather than forgetting one that could
 * then be replayed. A store that fails degrades to the in-process cache, reported on
 * `certbound:replay`; a proof this instance has seen is never accepted twice either way.
 */
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { replayChannel } from '../diagnostics.js';
import { InvalidTokenError, ServiceUnavailableError } from '../errors.js';
import type { ReplayStore } from './replay-store.js';

/** Namespace of replay keys in a shared store. */
const NAMESPACE = 'certbound:dpop-jti:';

export class ReplayCache {
  readonly #seen: LRUCache<string, true>;
  readonly #max: number;
  readonly #store: ReplayStore | undefined;

  constructor(max: number, store: ReplayStore | undefined) {
    this.#max = max;
    this.#store = store;
    this.#seen = new LRUCache<string, true>({ max, ttlAutopurge: false, allowStale: false });
  }

  /**
   * Records the proof `jti` of key `jkt`, live for `ttlMs`; throws 401 `dpop_proof_replayed` if it
   * was seen (here or, with a store, by any instance), 503 when the in-process cache is full.
   */
  async remember(jkt: string, jti: string, ttlMs: number): Promise<void> {
    const key = NAMESPACE + hash('sha256', `${jkt}\n${jti}`, 'base64url');
    if (this.#seen.has(key)) this.#refuse();
    if (this.#seen.size >= this.#max) {
      this.#seen.purgeStale();
      if (this.#seen.size >= this.#max) {
        if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'full' });
        throw new ServiceUnavailableError({
          cause: new Error('the DPoP replay cache is full'),
          retryAfterSeconds: 1,
          reason: 'replay_cache_full',
        });
      }
    }
    const ttl = Math.max(1, Math.ceil(ttlMs));
    this.#seen.set(key, true, { ttl });
    if (this.#store === undefined) return;
    let fresh: boolean;
    try {
      fresh = await this.#store.setIfAbsent(key, ttl);
    } catch {
      if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'store_error' });
      return;
    }
    if (!fresh) this.#refuse();
  }

  clear(): void {
    this.#seen.clear();
  }

  #refuse(): never {
    if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'replayed' });
    throw new InvalidTokenError('dpop_proof_replayed');
  }
}
