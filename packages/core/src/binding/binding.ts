/**
 * The RFC 8705 §3 binding decision (docs/architecture.md#canonical-thumbprint-comparison): a token's
 * confirmation against the certificate presented on this request.
 */
import type { PresentedCertificate } from '../client-certificate/presented.js';
import { InvalidTokenError } from '../errors.js';
import { thumbprintsEqual } from '../thumbprint.js';

/** `required`: every token must be certificate-bound. `if-present`: unbound tokens pass too. */
export type BindingMode = 'required' | 'if-present';

/**
 * Applies the decision matrix. Returns whether the token is bound; throws 401 `invalid_token`
 * for an unbound token under `required` (`token_unbound`), a bound token without a certificate
 * (`certificate_missing`), or a mismatch (`cnf_mismatch`).
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
