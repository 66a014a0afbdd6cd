/**
 * The strict reading of an RFC 7662 introspection response (docs/architecture.md#introspection-responses):
 * what makes an answer a usable validated token, and what makes it a 401.
 */
import { bindingConfirmation } from '../binding/confirmation.js';
import { InvalidTokenError } from '../errors.js';
import { optionalString, readScopes } from '../token/claims.js';
import { readTimes } from '../token/token-time.js';
import type { ValidatedToken } from '../token/validated-token.js';

export interface IntrospectionRules {
  issuer: string;
  audience: readonly string[];
}

/**
 * Reads an introspection response into a validated token, or throws 401 `invalid_token`:
 * `active` must be exactly `true`; `iss` (if present) must equal ours; `aud` (if present) must
 * contain one of ours; `token_type` (if present) must be Bearer or DPoP (RFC 9449 §6.2: the scheme is checked per request);
 * `cnf` is read exactly like a JWT's. Time claims are checked by the verifier on every request.
 */
export function validateIntrospection(
  response: Record<string, unknown>,
  rules: IntrospectionRules,
): ValidatedToken {
  if (response.active !== true) throw new InvalidTokenError('token_inactive');
  const tokenType = optionalString(response, 'token_type')?.toLowerCase();
  if (tokenType !== undefined && tokenType !== 'bearer' && tokenType !== 'dpop') {
    throw new InvalidTokenError('token_type_invalid');
  }
  const iss = optionalString(response, 'iss');
  if (iss !== undefined && iss !== rules.issuer) throw new InvalidTokenError('token_issuer_mismatch');
  if (Object.hasOwn(response, 'aud')) {
    const aud = response.aud;
    const audiences = typeof aud === 'string' ? [aud] : aud;
    if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string')) {
      throw new InvalidTokenError('token_malformed');
    }
    if (!audiences.some((a) => rules.audience.includes(a)))
      throw new InvalidTokenError('token_audience_mismatch');
  }
  return {
    format: 'opaque',
    issuer: rules.issuer,
    claims: Object.freeze({ ...response }),
    subject: optionalString(response, 'sub'),
    clientId: optionalString(response, 'client_id'),
    scopes: readScopes(response),
    times: readTimes(response),
    confirmation: bindingConfirmation(response),
    // RFC 9449 §6.2: a DPoP-bound token (decided with the request's scheme, by the verifier).
    dpopTokenType: tokenType === 'dpop',
  };
}
