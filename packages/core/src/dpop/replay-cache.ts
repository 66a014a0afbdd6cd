/**
 * DPoP proof replay detection (RFC 9449 §11.1): every accepted proof's `jti`, scoped to the proof
 * key, is remembered until the proof's own acceptance window ends (plus {@link MARGIN_MS} in
 * process), in process (always) and in an
 * optional shared {@link ReplayStore} (the fleet-wide layer). Keys are a hash of the key thumbprint
 * and the `jti` — never the proof or the token (docs/architecture.md#caches).
 *
 * The in-process cache never drops an entry before its window ends: when it holds `max` live
 * entries, a new proof is refused with 503 (and reported) rather than forgetting one that could
 * then be replayed. A store that fails degrades to the in-process cache, reported on
 * `certbound:replay`; a proof this instance has seen is never accepted twice either way.
 *
 * Entries are forgotten by time slice rather than by scanning: each one is listed under the slice
 * of {@link SLICE_MS} in which its window ends, and the slices that have passed are dropped
 * whole, so forgetting costs each entry once. A full cache looks at the current slice only, and
 * only when its soonest entry has ended (docs/architecture.md, "DPoP replay cache").
 */
import { hash } from 'node:crypto';
import { replayChannel } from '../diagnostics.js';
import { InvalidTokenError, ServiceUnavailableError } from '../errors.js';
import type { ReplayStore } from './replay-store.js';

/** Namespace of replay keys in a shared store. */
const NAMESPACE = 'certbound:dpop-jti:';

/** Width of a time slice, ms: entries whose windows end in the same slice are forgotten together. */
export const SLICE_MS = 16;

/**
 * How much longer than its window an entry is kept, ms. The window is measured on the wall clock
 * (`iat`, `Date.now()`, whole milliseconds) and the cache counts on the monotonic clock: the margin
 * covers the rounding between the two and a small step of the wall clock.
 */
export const MARGIN_MS = 1000;

/** The keys whose windows end in one time slice, and the soonest end among them. */
interface Slice {
  keys: string[];
  soonest: number;
}

export class ReplayCache {
  /** Key → the last instant (monotonic ms) its proof is refused. */
  readonly #until = new Map<string, number>();
  /** Slice number (`until / SLICE_MS`, rounded down) → its keys. */
  readonly #slices = new Map<number, Slice>();
  /** Every slice before this one has been dropped. */
  #firstSlice = 0;
  readonly #max: number;
  readonly #store: ReplayStore | undefined;

  constructor(max: number, store: ReplayStore | undefined) {
    this.#max = max;
    this.#store = store;
  }

  /** Live entries (their windows not over). */
  get size(): number {
    return this.#until.size;
  }

  /** Time slices holding entries (their memory follows the live entries too). */
  get sliceCount(): number {
    return this.#slices.size;
  }

  /**
   * Records the proof `jti` of key `jkt`, live for `ttlMs`; throws 401 `dpop_proof_replayed` if it
   * was seen (here or, with a store, by any instance), 503 when the in-process cache is full.
   */
  async remember(jkt: string, jti: string, ttlMs: number): Promise<void> {
    // Fails closed: a window that is not a number would otherwise never refuse a replay.
    if (!Number.isFinite(ttlMs)) throw new TypeError('a DPoP proof window must be a finite number of ms');
    const key = hash('sha256', `${jkt}\n${jti}`, 'base64url');
    const now = performance.now();
    this.#dropPassedSlices(now);
    const until = this.#until.get(key);
    if (until !== undefined && until >= now) this.#refuse();
    if (this.#until.size >= this.#max) {
      // Only the current slice can still hold entries whose windows are over.
      this.#dropSlice(Math.floor(now / SLICE_MS), now);
      if (this.#until.size >= this.#max) {
        if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'full' });
        throw new ServiceUnavailableError({
          cause: new Error('the DPoP replay cache is full'),
          retryAfterSeconds: 1,
          reason: 'replay_cache_full',
        });
      }
    }
    const ttl = Math.max(1, Math.ceil(ttlMs));
    // Whole milliseconds, rounded up (a window never ends early): small integers are cheaper to keep.
    this.#add(key, Math.ceil(now + ttl) + MARGIN_MS);
    if (this.#store === undefined) return;
    let fresh: boolean;
    try {
      fresh = await this.#store.setIfAbsent(NAMESPACE + key, ttl);
    } catch {
      if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'store_error' });
      return;
    }
    if (!fresh) this.#refuse();
  }

  clear(): void {
    this.#until.clear();
    this.#slices.clear();
  }

  #add(key: string, until: number): void {
    this.#until.set(key, until);
    const number = Math.floor(until / SLICE_MS);
    const slice = this.#slices.get(number);
    if (slice === undefined) {
      this.#slices.set(number, { keys: [key], soonest: until });
    } else {
      slice.keys.push(key);
      if (until < slice.soonest) slice.soonest = until;
    }
  }

  /**
   * Drops every slice that ended before `now`. (The monotonic clock does not go back; a test's fake
   * one may, and then the mark just moves back with it.)
   */
  #dropPassedSlices(now: number): void {
    const current = Math.floor(now / SLICE_MS);
    if (current === this.#firstSlice) return;
    if (current - this.#firstSlice <= this.#slices.size) {
      for (let number = this.#firstSlice; number < current; number++) this.#dropSlice(number, now);
    } else {
      // After a quiet spell: fewer slices exist than have passed.
      for (const number of this.#slices.keys()) if (number < current) this.#dropSlice(number, now);
    }
    this.#firstSlice = current;
  }

  /**
   * Forgets the keys of slice `number` whose windows are over; nothing to do while its soonest end
   * is still to come. A key listed here that was recorded again since is listed under its new
   * slice and only leaves this list.
   */
  #dropSlice(number: number, now: number): void {
    const slice = this.#slices.get(number);
    if (slice === undefined || slice.soonest >= now) return;
    const keys = slice.keys;
    let kept = 0;
    let soonest = Number.POSITIVE_INFINITY;
    for (const key of keys) {
      const until = this.#until.get(key);
      if (until === undefined || Math.floor(until / SLICE_MS) !== number) continue;
      if (until < now) {
        this.#until.delete(key);
      } else {
        keys[kept++] = key;
        if (until < soonest) soonest = until;
      }
    }
    if (kept === 0) {
      this.#slices.delete(number);
    } else {
      keys.length = kept;
      slice.soonest = soonest;
    }
  }

  #refuse(): never {
    if (replayChannel.hasSubscribers) replayChannel.publish({ outcome: 'replayed' });
    throw new InvalidTokenError('dpop_proof_replayed');
  }
}
