/**
 * Scope checks used by every adapter: `requireScopes` throws 403 `insufficient_scope` (RFC 6750
 * §3.1) with the required scopes in the challenge; `hasScopes` answers with a boolean.
 */
import type { AuthInfo } from './auth-info.js';
import { challengeOf } from './auth-info.js';
import { CertboundConfigurationError, InsufficientScopeError } from './errors.js';

/** RFC 6749 §3.3 `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Validates scope names given by the application (at start-up): throws a TypeError. */
export function assertScopeNames(
  scopes: readonly unknown[],
  where = 'requireScopes',
): asserts scopes is string[] {
  if (scopes.length === 0) throw new TypeError(`${where}: at least one scope is required`);
  for (const scope of scopes) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new TypeError(`${where}: ${JSON.stringify(scope)} is not a valid scope (RFC 6749 §3.3)`);
    }
  }
}

/** Whether the token grants every one of `scopes`. */
export function hasScopes(auth: AuthInfo | undefined, ...scopes: string[]): boolean {
  if (auth === undefined) return false;
  const granted = auth.scopes;
  for (const scope of scopes) if (!granted.includes(scope)) return false;
  return true;
}

/**
 * Throws {@link InsufficientScopeError} (403, `scope="…"` listing all of `scopes`) unless the token
 * grants every one of them. Without `auth` (certbound did not authenticate this request: the
 * scope check runs before it, or on a route it skips) it throws a
 * {@link CertboundConfigurationError} (500): a wiring mistake, not the client's.
 */
export function requireScopes(auth: AuthInfo | undefined, ...scopes: string[]): void {
  if (auth === undefined) {
    throw new CertboundConfigurationError(
      'requireScopes() found no authenticated request: mount certbound() before it, and do not use it on routes certbound() skips',
    );
  }
  if (!hasScopes(auth, ...scopes)) {
    throw new InsufficientScopeError(scopes).withChallenge(challengeOf(auth), auth.scheme);
  }
}
