/**
 * Step-up authentication (RFC 9470): a route may need a token from a particular kind of user
 * authentication (`acr`) or a recent one (`auth_time`). `requireAuthContext` checks the token's
 * claims (JWT or introspection answer) after authentication and binding, and refuses with 401
 * `insufficient_user_authentication` whose challenge names every requirement of the route.
 */
import { type AuthInfo, challengeOf, VerifiedAuth } from './auth-info.js';
import { CertboundConfigurationError, InsufficientUserAuthenticationError } from './errors.js';

/** What a route needs of the user's authentication. */
export interface AuthContextPolicy {
  /** Acceptable authentication context classes: the token's `acr` must be one of them. */
  acr?: string[];
  /** The user must have authenticated at most this many seconds ago (`auth_time`). */
  maxAgeSeconds?: number;
}

/** `acr` values are sent in a quoted, space-separated challenge parameter (RFC 9470 §3). */
const ACR_VALUE = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Validates a policy given by the application (at start-up): throws a TypeError. */
export function assertAuthContextPolicy(
  policy: unknown,
  where = 'requireAuthContext',
): asserts policy is AuthContextPolicy {
  if (typeof policy !== 'object' || policy === null || Array.isArray(policy)) {
    throw new TypeError(`${where}: expected { acr?: string[], maxAgeSeconds?: number }`);
  }
  const { acr, maxAgeSeconds, ...rest } = policy as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new TypeError(`${where}: unknown option "${unknown[0]}"`);
  if (acr === undefined && maxAgeSeconds === undefined) {
    throw new TypeError(`${where}: give "acr", "maxAgeSeconds", or both`);
  }
  if (
    acr !== undefined &&
    (!Array.isArray(acr) || acr.length === 0 || !acr.every((v) => typeof v === 'string' && ACR_VALUE.test(v)))
  ) {
    throw new TypeError(`${where}: "acr" must be a non-empty array of acr values (no spaces or quotes)`);
  }
  if (
    maxAgeSeconds !== undefined &&
    (typeof maxAgeSeconds !== 'number' || !Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0)
  ) {
    throw new TypeError(`${where}: "maxAgeSeconds" must be a non-negative integer`);
  }
}

/**
 * Throws 401 `insufficient_user_authentication` unless the token's `acr` is one of `policy.acr`
 * and its `auth_time` is at most `policy.maxAgeSeconds` old (with the verifier's clock tolerance;
 * a missing `auth_time` fails a `maxAgeSeconds` policy). The challenge, of the scheme the client
 * used, carries `acr_values` and/or `max_age` for every requirement of the route.
 */
export function requireAuthContext(auth: AuthInfo | undefined, policy: AuthContextPolicy): void {
  if (auth === undefined) {
    throw new CertboundConfigurationError(
      'requireAuthContext() found no authenticated request: mount certbound() before it, and do not use it on routes certbound() skips',
    );
  }
  if (satisfies(auth, policy)) return;
  throw new InsufficientUserAuthenticationError(policy).withChallenge(challengeOf(auth), auth.scheme);
}

function satisfies(auth: AuthInfo, policy: AuthContextPolicy): boolean {
  const { acr, auth_time: authTime } = auth.claims as { acr?: unknown; auth_time?: unknown };
  if (policy.acr !== undefined && (typeof acr !== 'string' || !policy.acr.includes(acr))) return false;
  if (policy.maxAgeSeconds !== undefined) {
    if (typeof authTime !== 'number' || !Number.isFinite(authTime)) return false;
    const tolerance = VerifiedAuth.clockToleranceOf(auth);
    const age = Date.now() / 1000 - authTime;
    // An authentication in the future is not credible (beyond the clock tolerance).
    if (age > policy.maxAgeSeconds + tolerance || age < -tolerance) return false;
  }
  return true;
}
