/**
 * Reading members shared by JWT claims (RFC 9068 §2.2) and introspection responses (RFC 7662
 * §2.2): typed strictly, own properties only; a member of the wrong type makes the token
 * malformed.
 */
import { InvalidTokenError } from '../errors.js';

/** An optional string member, or `undefined` when absent. */
export function optionalString(claims: Record<string, unknown>, name: string): string | undefined {
  if (!Object.hasOwn(claims, name)) return undefined;
  const value = claims[name];
  if (typeof value !== 'string') throw new InvalidTokenError('token_malformed');
  return value;
}

/** `scope` as a space-delimited string (RFC 9068 §2.2.3, RFC 7662 §2.2), or absent. */
export function readScopes(claims: Record<string, unknown>): readonly string[] {
  if (!Object.hasOwn(claims, 'scope')) return Object.freeze([]);
  const scope = claims.scope;
  if (typeof scope !== 'string') throw new InvalidTokenError('token_malformed');
  return Object.freeze(scope.split(' ').filter((s) => s.length > 0));
}
