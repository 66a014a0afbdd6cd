/**
 * JWT access token validation (RFC 9068 §4, RFC 8725) with jose: algorithm allowlist, signature
 * with the issuer's keys only, explicit `typ`, exact `iss`, `aud` containing ours, time claims,
 * and the required claims. The result is what may be cached; time and binding are re-checked per
 * request by the verifier.
 */
import { type CryptoKey, errors, type JWTPayload, type JWTVerifyOptions, jwtVerify } from 'jose';
import { confirmationBytes } from '../binding/confirmation.js';
import { CertboundError, InvalidTokenError, type TokenErrorCode } from '../errors.js';
import { optionalString, readScopes } from '../token/claims.js';
import { readTimes } from '../token/token-time.js';
import type { ValidatedToken } from '../token/validated-token.js';
import { BOM_SEGMENT, isJwtShaped, type JwtRules, normalizeTyp } from './jwt-rules.js';
import type { KeyResolver } from './signing-keys.js';

function joseErrorCode(error: unknown): TokenErrorCode {
  if (error instanceof errors.JWTExpired) return 'token_expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return 'token_claims_missing';
    if (error.reason === 'invalid') return 'token_malformed';
    switch (error.claim) {
      case 'iss':
        return 'token_issuer_mismatch';
      case 'aud':
        return 'token_audience_mismatch';
      case 'nbf':
      case 'iat':
        return 'token_not_yet_valid';
      default:
        return 'token_malformed';
    }
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JWKSNoMatchingKey
  ) {
    return 'token_signature_invalid';
  }
  return 'token_malformed';
}

/**
 * The cause kept on a token error: jose's code and message only. jose's claim errors carry the
 * whole payload, which must not reach logs through `cause`.
 */
function safeCause(error: unknown): Error {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return new Error(`${typeof code === 'string' ? code : 'ERR_JOSE'}: ${String(message)}`);
}

/** Verifies with each candidate when the JWK Set has several keys for the header (a rotation). */
async function verifyWithCandidates(token: string, keys: KeyResolver, options: JWTVerifyOptions) {
  try {
    return await jwtVerify(token, keys, options);
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error as unknown as AsyncIterable<CryptoKey>) {
      try {
        return await jwtVerify(token, candidate, options);
      } catch (attempt) {
        if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** Freezes a JSON value and everything in it (claims are shared by every request with the token). */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}

/** Validates a JWT access token; throws {@link CertboundError} on any failure. */
export async function validateJwt(
  token: string,
  keys: KeyResolver,
  rules: JwtRules,
): Promise<ValidatedToken> {
  if (
    !isJwtShaped(token) ||
    token.startsWith(BOM_SEGMENT) ||
    token.startsWith(BOM_SEGMENT, token.indexOf('.') + 1)
  ) {
    throw new InvalidTokenError('token_malformed');
  }
  let payload: JWTPayload;
  let typ: unknown;
  try {
    const result = await verifyWithCandidates(token, keys, rules.verifyOptions);
    payload = result.payload;
    typ = result.protectedHeader.typ;
  } catch (error) {
    if (error instanceof CertboundError) throw error;
    throw new InvalidTokenError(joseErrorCode(error), { cause: safeCause(error) });
  }
  if (typeof typ !== 'string' || !rules.acceptedTyp.includes(normalizeTyp(typ))) {
    throw new InvalidTokenError('token_type_invalid');
  }
  // jose checks presence too; own properties only, whatever its version does.
  for (const claim of rules.requiredClaims) {
    if (!Object.hasOwn(payload, claim)) throw new InvalidTokenError('token_claims_missing');
  }
  const times = readTimes(payload);
  return {
    format: 'jwt',
    claims: deepFreeze(payload),
    subject: optionalString(payload, 'sub'),
    clientId: optionalString(payload, 'client_id'),
    scopes: readScopes(payload),
    times,
    confirmation: confirmationBytes(payload),
  };
}
