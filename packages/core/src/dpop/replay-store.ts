/**
 * The shared layer of DPoP replay detection (RFC 9449 §11.1): a store every instance of an API
 * consults, so a proof accepted by one instance is refused by all the others. Keys are already
 * hashed and namespaced by the core (never a proof, a token or a key); an entry must live
 * `ttlMs`, the proof's own acceptance window.
 */
export interface ReplayStore {
  /**
   * Stores `key` for `ttlMs` milliseconds if it is not stored yet, atomically. Resolves `true`
   * when it was newly stored (the proof was not seen before), `false` when it was already there.
   * A store that fails or is slow rejects; the verifier then relies on its in-process cache.
   */
  setIfAbsent(key: string, ttlMs: number): Promise<boolean>;
}
