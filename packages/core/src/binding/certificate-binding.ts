/**
 * The verifier's RFC 8705 §3 binding decision as a public function, for tools and custom flows
 * (the `certbound check` command, a WebSocket upgrade): the same checks, the same error codes.
 */
import { type CertificateInput, certificateBytes } from '../certificate-input.js';
import { presentedCertificate } from '../client-certificate/presented.js';
import { InvalidTokenError } from '../errors.js';
import { type BindingMode, checkBinding } from './binding.js';
import { readConfirmation } from './confirmation.js';

/**
 * Checks `claims` (a JWT payload or an introspection response) against a client certificate.
 * Returns whether the token is certificate-bound; throws an `InvalidTokenError` with the code the
 * verifier would give (`token_unbound`, `certificate_missing`, `cnf_mismatch`, `cnf_malformed`,
 * `cnf_unsupported`). It checks the binding only: validate the token itself with a verifier.
 *
 * @throws TypeError if `certificate` is given but is not exactly one certificate.
 * @example
 * checkCertificateBinding(decodeJwt(token), readFileSync('client.pem', 'utf8')); // true, or throws
 */
export function checkCertificateBinding(
  claims: Record<string, unknown>,
  certificate: CertificateInput | null | undefined,
  binding: BindingMode = 'required',
): boolean {
  let presented: ReturnType<typeof presentedCertificate> | undefined;
  if (certificate != null) {
    const bytes = certificateBytes(certificate);
    if (bytes === undefined) {
      throw new TypeError('checkCertificateBinding: the certificate is not a DER, PEM or X509Certificate');
    }
    presented = presentedCertificate(bytes.der, bytes.thumbprint);
  }
  const confirmation = readConfirmation(claims);
  // A DPoP key binding cannot be checked against a certificate (RFC 9449 §7.2: never as Bearer).
  if (confirmation?.jkt !== undefined) throw new InvalidTokenError('cnf_unsupported');
  const x5t = confirmation?.x5tS256;
  return checkBinding(x5t === undefined ? undefined : Buffer.from(x5t, 'latin1'), presented, binding);
}
