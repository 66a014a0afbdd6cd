/**
 * The RFC 8705 §3 binding decision (STANDARDS.md §1.8): a token's `cnf` against the certificate
 * presented on this request.
 */
import type { PresentedCertificate } from './client-certificate/presented.js';
import { InvalidTokenError } from './errors.js';
import { thumbprintsEqual, X5T_S256_PATTERN } from './thumbprint.js';

/** `required`: every token must be certificate-bound. `if-present`: unbound tokens pass too. */
export type BindingMode = 'required' | 'if-present';

const X5T_S256 = 'x5t#S256';

/**
 * Reads the confirmation of a token (JWT claims or an introspection response): `undefined` when
 * the token carries no `cnf`, otherwise the canonical `x5t#S256` as ASCII bytes.
 *
 * Fails closed: a `cnf` that is not a plain object, an `x5t#S256` that is not a canonical 43-char
 * base64url string (padded, standard alphabet, hex, wrong length) → `cnf_malformed`; `jkt` (DPoP,
 * RFC 9449 §7.2) or any member we cannot verify → `cnf_unsupported`.
 */
export function readConfirmation(container: Record<string, unknown>): Buffer | undefined {
  if (!Object.hasOwn(container, 'cnf')) return undefined;
  const cnf = container.cnf;
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
  return Buffer.from(value, 'latin1');
}

/**
 * Applies the decision matrix. Returns whether the token is bound; throws 401 `invalid_token`
 * for an unbound token under `required`, a bound token without a certificate, or a mismatch.
 */
export function checkBinding(
  confirmation: Buffer | undefined,
  certificate: PresentedCertificate | undefined,
  mode: BindingMode,
): boolean {
  if (confirmation === undefined) {
    if (mode === 'required') throw new InvalidTokenError('token_unbound');
    return false;
  }
  if (certificate === undefined) throw new InvalidTokenError('certificate_missing');
  if (!thumbprintsEqual(confirmation, certificate.thumbprintBytes))
    throw new InvalidTokenError('cnf_mismatch');
  return true;
}
