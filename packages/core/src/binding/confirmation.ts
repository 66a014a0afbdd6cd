/**
 * A token's confirmation (`cnf`, RFC 7800 §3.1), read the one way the verifier, the tools and the
 * CLI all use: from JWT claims or an introspection response (RFC 8705 §3.1, §3.2).
 */
import { InvalidTokenError } from '../errors.js';
import { X5T_S256_PATTERN } from '../thumbprint.js';

/** What a token is bound to. */
export interface Confirmation {
  /** `x5t#S256`: the canonical thumbprint of the client certificate (RFC 8705 §3.1). */
  x5tS256: string;
}

const X5T_S256 = 'x5t#S256';

/**
 * Reads the confirmation of a token: `undefined` when it carries no `cnf` (an unbound token).
 *
 * Fails closed (docs/architecture.md#cnf-fails-closed): a `cnf` that is
 * not a plain object with members, or an `x5t#S256` that is not a canonical 43-character
 * base64url string (padded, standard alphabet, hex, wrong length) throws 401 `cnf_malformed`;
 * `jkt` (DPoP, RFC 9449 §7.2 forbids accepting it under Bearer) or any member certbound cannot
 * verify throws 401 `cnf_unsupported`.
 *
 * @example
 * readConfirmation(decodeJwt(token)) // { x5tS256: 'A4DtL2JmUMhAsvJj5tKyn64SqzmuXbMrJa0n761y5v0' }
 */
export function readConfirmation(claims: Record<string, unknown>): Confirmation | undefined {
  if (!Object.hasOwn(claims, 'cnf')) return undefined;
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw new InvalidTokenError('cnf_malformed');
  }
  const members = Object.keys(cnf);
  if (members.length === 0) throw new InvalidTokenError('cnf_malformed');
  if (members.some((member) => member !== X5T_S256)) throw new InvalidTokenError('cnf_unsupported');
  const value = (cnf as Record<string, unknown>)[X5T_S256];
  if (typeof value !== 'string' || !X5T_S256_PATTERN.test(value)) {
    throw new InvalidTokenError('cnf_malformed');
  }
  return { x5tS256: value };
}

/** The confirmation as the verifier keeps it: the thumbprint's ASCII bytes, for comparison. */
export function confirmationBytes(claims: Record<string, unknown>): Buffer | undefined {
  const confirmation = readConfirmation(claims);
  return confirmation === undefined ? undefined : Buffer.from(confirmation.x5tS256, 'latin1');
}
