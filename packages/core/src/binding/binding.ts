/**
 * The binding decision (docs/architecture.md#binding-modes): a token's confirmation against what
 * this request proves — the certificate presented on the connection (RFC 8705 §3) and the key of
 * its DPoP proof (RFC 9449 §7.1). A token bound both ways needs both proofs.
 */
import { timingSafeEqual } from 'node:crypto';
import type { AuthScheme } from '../challenge.js';
import type { PresentedCertificate } from '../client-certificate/presented.js';
import { TOKEN_UNBOUND_DESCRIPTIONS } from '../error-codes.js';
import { InvalidTokenError } from '../errors.js';
import { thumbprintsEqual } from '../thumbprint.js';
import type { BindingConfirmation } from './confirmation.js';

/** `required`: every token must be sender-constrained (certificate or DPoP). `if-present`: unbound tokens pass too. */
export type BindingMode = 'required' | 'if-present';

/** What the verifier knows when it decides. */
export interface BindingInput {
  confirmation: BindingConfirmation | undefined;
  /** The token says it is DPoP-bound by other means than `cnf.jkt` (introspection `token_type: DPoP`). */
  dpopTokenType: boolean;
  /** The `Authorization` scheme of the request. */
  scheme: AuthScheme;
  certificate: PresentedCertificate | undefined;
  /** The RFC 7638 thumbprint of the request's verified DPoP proof key (DPoP scheme only). */
  proofJkt: string | undefined;
  mode: BindingMode;
  /** `undefined` when DPoP is off; `required` when only DPoP-bound tokens are accepted. */
  dpop: { required: boolean } | undefined;
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));
}

/**
 * Applies the decision matrix and returns whether the token is bound; throws 401 otherwise:
 * `cnf_unsupported` (a DPoP-bound token with DPoP off), `dpop_scheme_required` (a DPoP-bound
 * token under Bearer: no downgrade, RFC 9449 §7.2), `dpop_key_mismatch` (DPoP scheme, token not
 * bound to the proof's key), `token_unbound` (Bearer under `dpop.required`, or no binding under
 * `required`), `certificate_missing` and `cnf_mismatch` (RFC 8705 §3).
 */
export function decideBinding(input: BindingInput): boolean {
  const x5t = input.confirmation?.x5t;
  const jkt = input.confirmation?.jkt;
  if (jkt !== undefined || input.dpopTokenType) {
    if (input.dpop === undefined) throw new InvalidTokenError('cnf_unsupported');
    if (input.scheme === 'Bearer') throw new InvalidTokenError('dpop_scheme_required');
  }
  if (input.scheme === 'DPoP') {
    if (jkt === undefined || input.proofJkt === undefined || !sameText(jkt, input.proofJkt)) {
      throw new InvalidTokenError('dpop_key_mismatch');
    }
  } else if (input.dpop?.required) {
    throw new InvalidTokenError('token_unbound', { description: TOKEN_UNBOUND_DESCRIPTIONS.dpopRequired });
  }
  if (x5t !== undefined) return checkBinding(x5t, input.certificate, input.mode);
  if (jkt === undefined && input.mode === 'required') {
    throw new InvalidTokenError(
      'token_unbound',
      input.dpop === undefined ? {} : { description: TOKEN_UNBOUND_DESCRIPTIONS.eitherBinding },
    );
  }
  return jkt !== undefined;
}

/**
 * The certificate part of the decision: returns whether the token is certificate-bound; throws
 * 401 `invalid_token` for an unbound token under `required` (`token_unbound`), a bound token
 * without a certificate (`certificate_missing`), or a mismatch (`cnf_mismatch`).
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
