/**
 * Cache keys of tokens: base64url SHA-256 of the token, never the token itself (RFC 9700
 * §4.9.3: a cache or a shared store must not become a place tokens leak from).
 */
import { hash } from 'node:crypto';

/** The cache key of a token, optionally namespaced. */
export function tokenKey(token: string, namespace = ''): string {
  return namespace + hash('sha256', token, 'base64url');
}
