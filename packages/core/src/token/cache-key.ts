/**
 * Cache keys of tokens: base64url SHA-256 of the token, never the token itself (RFC 9700
 * §4.9.3: a cache or a shared store must not become a place tokens leak from).
 */
import { hash } from 'node:crypto';

/** A token's digest: base64url SHA-256. */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'base64url');
}

/** The cache key of a token, optionally namespaced; `digest` when the caller has it already. */
export function tokenKey(token: string, namespace = '', digest = tokenDigest(token)): string {
  return namespace + digest;
}
