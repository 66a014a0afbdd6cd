/**
 * A token's confirmation (`cnf`, RFC 7800 §3.1), read the one way the verifier, the tools and the
 * CLI all use: from JWT claims or an introspection response (RFC 8705 §3.1, §3.2).
 */
import { InvalidTokenError } from '../errors.js';
import { X5T_S256_PATTERN } from '../thumbprint.js';

/** What a token is bound to: a certificate, a DPoP key, or both. */
export interface Confirmation {
  /** `x5t#S256`: the canonical thumbprint of the client certificate (RFC 8705 §3.1). */
  x5tS256?: string;
  /** `jkt`: the RFC 7638 SHA-256 thumbprint of the client's DPoP key (RFC 9449 §6.1). */
  jkt?: string;
}

/** The confirmation as the verifier keeps it: the certificate thumbprint as ASCII bytes. */
export interface BindingConfirmation {
  x5t: Buffer | undefined;
  jkt: string | undefined;
}

const X5T_S256 = 'x5t#S256';
const JKT = 'jkt';

/** A member's canonical base64url SHA-256 value (43 characters), or `cnf_malformed`. */
function digestMember(cnf: Record<string, unknown>, member: string): string | undefined {
  if (!Object.hasOwn(cnf, member)) return undefined;
  const value = cnf[member];
  if (typeof value !== 'string' || !X5T_S256_PATTERN.test(value))
    throw new InvalidTokenError('cnf_malformed');
  return value;
}

/**
 * Reads the confirmation of a token: `undefined` when it carries no `cnf` (an unbound token).
 *
 * Fails closed (docs/architecture.md#cnf-fails-closed): a `cnf` that is not a plain object with
 * members, or an `x5t#S256` or `jkt` that is not a canonical 43-character base64url SHA-256 value
 * (padded, standard alphabet, hex, wrong length, not a string) throws 401 `cnf_malformed`; any
 * other member (one certbound cannot verify) throws 401 `cnf_unsupported`. Whether a `jkt` can be
 * honoured (DPoP enabled, DPoP scheme) is the verifier's decision.
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
  if (members.some((member) => member !== X5T_S256 && member !== JKT)) {
    throw new InvalidTokenError('cnf_unsupported');
  }
  const x5tS256 = digestMember(cnf as Record<string, unknown>, X5T_S256);
  const jkt = digestMember(cnf as Record<string, unknown>, JKT);
  return { ...(x5tS256 === undefined ? {} : { x5tS256 }), ...(jkt === undefined ? {} : { jkt }) };
}

/** The confirmation as the verifier keeps it, or `undefined` for an unbound token. */
export function bindingConfirmation(claims: Record<string, unknown>): BindingConfirmation | undefined {
  const confirmation = readConfirmation(claims);
  if (confirmation === undefined) return undefined;
  return {
    x5t: confirmation.x5tS256 === undefined ? undefined : Buffer.from(confirmation.x5tS256, 'latin1'),
    jkt: confirmation.jkt,
  };
}
