/**
 * Explains the RFC 8705 §3 binding decision, which `@certbound/core`'s `checkCertificateBinding`
 * makes (the verifier's own code path): a verdict line and a one-line hint for each failure code.
 */
import {
  BINDING_ERROR_CODES,
  type BindingErrorCode,
  type BindingMode,
  type CertificateInput,
  checkCertificateBinding,
  isCertboundError,
  readConfirmation,
} from '@certbound/core';

export type { BindingMode };

export interface BindingVerdict {
  /** Whether the verifier would accept the binding (with a valid token). */
  ok: boolean;
  /** `bound` (matches), `unbound` (accepted under `if-present`), or the failure code. */
  verdict: 'bound' | 'unbound' | BindingErrorCode;
  message: string;
  /** What to do about it; for failures only. */
  hint?: string;
}

const MESSAGES: Record<BindingErrorCode, { message: string; hint: string }> = {
  token_unbound: {
    message: 'the token is not certificate-bound (it has no cnf claim)',
    hint: 'the client must get its token over mTLS from an AS issuing bound tokens (RFC 8705 §3); --binding if-present accepts unbound ones',
  },
  certificate_missing: {
    message: 'the token is certificate-bound but no client certificate was given',
    hint: 'the API must see the client certificate: mTLS to the API, or a trusted proxy forwarding it in a header',
  },
  cnf_mismatch: {
    message: 'the token is bound to another certificate',
    hint: "a renewed certificate needs a new token; behind a proxy the API may be seeing the proxy's certificate",
  },
  cnf_malformed: {
    message: 'the token is bound, but its cnf claim is malformed',
    hint:
      'cnf must be {"x5t#S256": "<43-character unpadded base64url SHA-256 of the DER>"}; ' +
      'hex, padded or standard base64 values are refused, not normalized',
  },
  cnf_unsupported: {
    message: 'the token is not bound to a certificate it can be checked against (cnf has no x5t#S256)',
    hint:
      'a DPoP-bound token (cnf jkt, RFC 9449 §6.1) is proven with a DPoP proof of its key, not a certificate: ' +
      'the client sends "Authorization: DPoP <token>" and a "DPoP" proof header; unknown cnf members fail closed',
  },
};

function isBindingCode(code: string): code is BindingErrorCode {
  return (BINDING_ERROR_CODES as readonly string[]).includes(code);
}

function failure(code: BindingErrorCode): BindingVerdict {
  return { ok: false, verdict: code, ...MESSAGES[code] };
}

/** Checks `claims` against `certificate` with core's `checkCertificateBinding` and explains the outcome. */
export function bindingVerdict(
  claims: Record<string, unknown>,
  certificate: CertificateInput | null,
  mode: BindingMode,
): BindingVerdict {
  try {
    return checkCertificateBinding(claims, certificate, mode)
      ? { ok: true, verdict: 'bound', message: 'bound to this certificate' }
      : {
          ok: true,
          verdict: 'unbound',
          message: 'not certificate-bound, accepted under --binding if-present',
        };
  } catch (error) {
    if (isCertboundError(error) && isBindingCode(error.code)) return failure(error.code);
    throw error;
  }
}

/** What a token's `cnf` says on its own, read by core's `readConfirmation`: bound, unbound, or why it is unusable. */
export function confirmationStatus(claims: Record<string, unknown>): BindingVerdict {
  try {
    const confirmation = readConfirmation(claims);
    if (confirmation?.x5tS256 !== undefined && confirmation.jkt !== undefined) {
      return {
        ok: true,
        verdict: 'bound',
        message: 'bound to a certificate and a DPoP key (cnf x5t#S256 and jkt): the API needs both proofs',
      };
    }
    if (confirmation?.x5tS256 !== undefined) {
      return { ok: true, verdict: 'bound', message: 'certificate-bound (cnf x5t#S256, RFC 8705 §3.1)' };
    }
    if (confirmation?.jkt !== undefined) {
      return {
        ok: true,
        verdict: 'bound',
        message:
          'DPoP-bound (cnf jkt, RFC 9449 §6.1): sent as "Authorization: DPoP" with a proof of that key',
      };
    }
  } catch (error) {
    if (isCertboundError(error) && isBindingCode(error.code)) return failure(error.code);
    throw error;
  }
  return {
    ok: false,
    verdict: 'unbound',
    message: 'not certificate-bound (no cnf claim): refused under the default binding: required',
  };
}

/** The token's canonical `cnf["x5t#S256"]`, or `undefined` when it has none or it is unusable. */
export function confirmedThumbprint(claims: Record<string, unknown>): string | undefined {
  return confirmationMember(claims, 'x5tS256');
}

/** The token's canonical `cnf.jkt` (its DPoP key's thumbprint), or `undefined`. */
export function confirmedKey(claims: Record<string, unknown>): string | undefined {
  return confirmationMember(claims, 'jkt');
}

function confirmationMember(claims: Record<string, unknown>, member: 'x5tS256' | 'jkt'): string | undefined {
  try {
    return readConfirmation(claims)?.[member];
  } catch {
    return undefined;
  }
}

/** `✔ bound to this certificate`, `✘ cnf_mismatch: the token is bound to another certificate`, … */
export function verdictLine(verdict: BindingVerdict): string {
  const code = verdict.verdict === 'bound' || verdict.verdict === 'unbound' ? '' : `${verdict.verdict}: `;
  return `${verdict.ok ? '✔' : '✘'} ${code}${verdict.message}`;
}
