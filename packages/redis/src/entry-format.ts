/**
 * The stored form of a cache entry, authenticated together with its Redis key and expiry:
 *
 *     v1.<mac>.<payload>
 *
 * `payload` is the JSON text `{"e":<expiresAt>,"r":<response>}`; `mac` is the base64url
 * HMAC-SHA-256, under the store's secret, of
 *
 *     "certbound-redis-entry:v1\n" <byte length of the Redis key> "\n" <Redis key> "\n" <payload>
 *
 * The key is length-prefixed and the payload is the rest, so the input splits one way only: an
 * entry whose response or expiry was changed, or that was copied or moved to another key (or
 * prefix), fails the MAC and is a miss. The MAC is checked over the exact stored bytes before
 * anything is parsed.
 */
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto';
import type { CacheEntry } from '@certbound/core';

const VERSION = 'v1';
const HEADER = `${VERSION}.`;
/** base64url of 32 bytes, without padding. */
const MAC_LENGTH = 43;
const DOT = 0x2e;

function macOf(secret: KeyObject, redisKey: string, payload: string): string {
  return createHmac('sha256', secret)
    .update(`certbound-redis-entry:${VERSION}\n${Buffer.byteLength(redisKey)}\n${redisKey}\n`)
    .update(payload)
    .digest('base64url');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value to store at `redisKey` for `entry` (throws if the response is not JSON-serializable). */
export function encodeEntry(secret: KeyObject, redisKey: string, entry: CacheEntry): string {
  const payload = JSON.stringify({ e: entry.expiresAt, r: entry.response });
  return `${HEADER}${macOf(secret, redisKey, payload)}.${payload}`;
}

/** The entry read from `redisKey`, or `undefined` if it is not authentic or no longer usable. */
export function decodeEntry(
  secret: KeyObject,
  redisKey: string,
  stored: string,
  now: number,
): CacheEntry | undefined {
  if (!stored.startsWith(HEADER) || stored.charCodeAt(HEADER.length + MAC_LENGTH) !== DOT) return undefined;
  const mac = Buffer.from(stored.slice(HEADER.length, HEADER.length + MAC_LENGTH));
  const payload = stored.slice(HEADER.length + MAC_LENGTH + 1);
  const expected = Buffer.from(macOf(secret, redisKey, payload));
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed) || !isRecord(parsed.r)) return undefined;
  const expiresAt = parsed.e;
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt) || expiresAt <= now) return undefined;
  return { response: parsed.r, expiresAt };
}
