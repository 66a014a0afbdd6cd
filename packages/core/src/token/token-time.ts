/**
 * Time claims (`exp`, `nbf`, `iat`) of JWTs and introspection responses, checked with a clock
 * tolerance on every request, including requests answered from a cache.
 */
import { InvalidTokenError } from '../errors.js';

/** Default clock tolerance, seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/** NumericDates beyond year 9999 are nonsense (and `1e400` parses as `Infinity`). */
const MAX_NUMERIC_DATE = 253_402_300_799;

export interface TokenTimes {
  exp: number | undefined;
  nbf: number | undefined;
  iat: number | undefined;
}

/** Reads an optional NumericDate (RFC 7519 §2): a finite, non-negative JSON number. */
export function numericDate(
  claims: Record<string, unknown>,
  name: 'exp' | 'nbf' | 'iat',
): number | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
    throw new InvalidTokenError('token_malformed');
  }
  return value;
}

export function readTimes(claims: Record<string, unknown>): TokenTimes {
  return {
    exp: numericDate(claims, 'exp'),
    nbf: numericDate(claims, 'nbf'),
    iat: numericDate(claims, 'iat'),
  };
}

/**
 * `exp` must be after now (RFC 7519 §4.1.4: now "MUST be before" exp), `nbf` not after now, and
 * `iat` not in the future, each with `toleranceSeconds` of leeway.
 */
export function checkTimes(times: TokenTimes, nowSeconds: number, toleranceSeconds: number): void {
  if (times.exp !== undefined && nowSeconds - toleranceSeconds >= times.exp) {
    throw new InvalidTokenError('token_expired');
  }
  if (times.nbf !== undefined && times.nbf > nowSeconds + toleranceSeconds) {
    throw new InvalidTokenError('token_not_yet_valid');
  }
  if (times.iat !== undefined && times.iat > nowSeconds + toleranceSeconds) {
    throw new InvalidTokenError('token_not_yet_valid');
  }
}
