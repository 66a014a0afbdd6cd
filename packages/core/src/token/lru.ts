/**
 * The LRU set-up every token cache shares: entries expire on the wall clock (the clock `exp` is
 * measured in), checked at each lookup with no timer, never served stale, and not refreshed by
 * reads (an entry's lifetime is fixed when it is stored).
 */
import { LRUCache } from 'lru-cache';

const WALL_CLOCK = { now: () => Date.now() };

/**
 * An LRU of at most `max` entries and `maxBytes` (each `set` gives its entry's `size`, an estimate
 * in bytes), each living at most `ttlMs` (or the `ttl` given to `set`).
 */
export function expiringLru<V extends {}>(max: number, ttlMs: number, maxBytes: number): LRUCache<string, V> {
  return new LRUCache<string, V>({
    max,
    maxSize: maxBytes,
    ttl: ttlMs,
    allowStale: false,
    updateAgeOnGet: false,
    perf: WALL_CLOCK,
    ttlResolution: 0,
  });
}
