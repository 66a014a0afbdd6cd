/**
 * The shared cache interface (`introspection.cache.store`): a store many API instances share, such
 * as `@certbound/redis`. Keys are already hashed and namespaced by the core; never raw tokens.
 */

/** One introspection result as stored: the response and when it stops being usable. */
export interface CacheEntry {
  /** The RFC 7662 introspection response (never contains the token). */
  response: Record<string, unknown>;
  /** Epoch milliseconds after which the entry must not be used. */
  expiresAt: number;
}

export interface CacheStore {
  get(key: string): Promise<CacheEntry | undefined>;
  set(key: string, entry: CacheEntry, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/** Whether a value read back from a store looks like a usable entry. */
export function isCacheEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  return (
    typeof entry.expiresAt === 'number' &&
    Number.isFinite(entry.expiresAt) &&
    typeof entry.response === 'object' &&
    entry.response !== null &&
    !Array.isArray(entry.response)
  );
}
