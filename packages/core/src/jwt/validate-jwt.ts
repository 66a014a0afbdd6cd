/**
 * JWT access token validation (RFC 9068 §4, RFC 8725) with jose: algorithm allowlist, signature
 * with the issuer's keys only, explicit `typ`, exact `iss`, `aud` containing ours, time claims,
 * and the required claims. The result is what may be cached; time and binding are re-checked per
 * request by the verifier.
 */
import {
  decodeProtectedHeader,
  errors,
  type JWSHeaderParameters,
  type JWTPayload,
  type JWTVerifyOptions,
  jwtVerify,
} from 'jose';
import { bindingConfirmation } from '../binding/confirmation.js';
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
 * The cause kept on a token error: jose's error code (and, for a claim, which one and why), never
 * its message. jose's messages can quote the token (an unknown `crit` name, say) and its claim
 * errors carry the whole payload: nothing a client sent may reach a log through `cause`.
 */
function safeCause(error: unknown): Error {
  const { code, claim, reason } = error as { code?: unknown; claim?: unknown; reason?: unknown };
  const what = typeof code === 'string' && /^ERR_[A-Z_]+$/.test(code) ? code : 'ERR_JOSE';
  if (
    error instanceof errors.JWTClaimValidationFailed &&
    typeof claim === 'string' &&
    typeof reason === 'string'
  ) {
    return new Error(`${what} (claim ${JSON.stringify(claim)}: ${reason})`);
  }
  return new Error(what);
}

/**
 * The cause of a refusal no later request with the same token can change: its signature was
 * checked against every candidate key and none verifies it (a forged or corrupted token). The
 * validated-token memo remembers these for a while, so a replayed forgery costs no signature check.
 */
export const SIGNATURE_MISMATCH: Error = Object.freeze(new Error('no candidate key verifies the signature'));

/** The protected header, read before verification only to pick keys (jose verifies it again). */
function headerOf(token: string): JWSHeaderParameters {
  try {
    return decodeProtectedHeader(token) as JWSHeaderParameters;
  } catch (error) {
    throw new InvalidTokenError('token_malformed', { cause: safeCause(error) });
  }
}

/** Verifies with each candidate key (more than one during a rotation); records which one verified. */
async function verifyWithCandidates(token: string, keys: KeyResolver, options: JWTVerifyOptions) {
  const header = headerOf(token);
  // A JWS without `alg` is malformed (RFC 7515 §4.1.1); one with another `alg` is refused.
  if (typeof header.alg !== 'string') throw new InvalidTokenError('token_malformed');
  if (!options.algorithms?.includes(header.alg)) {
    throw new InvalidTokenError('token_signature_invalid', { cause: new Error('ERR_JOSE_ALG_NOT_ALLOWED') });
  }
  const candidates = await keys.candidates(header);
  if (candidates.length === 0) {
    throw new InvalidTokenError('token_signature_invalid', { cause: new Error('ERR_JWKS_NO_MATCHING_KEY') });
  }
  for (const candidate of candidates) {
    try {
      return { ...(await jwtVerify(token, candidate.key, options)), keyId: candidate.id };
    } catch (attempt) {
      if (!(attempt instanceof errors.JWSSignatureVerificationFailed)) throw attempt;
    }
  }
  throw new InvalidTokenError('token_signature_invalid', { cause: SIGNATURE_MISMATCH });
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
  let keyId: string;
  try {
    const result = await verifyWithCandidates(token, keys, rules.verifyOptions);
    payload = result.payload;
    typ = result.protectedHeader.typ;
    keyId = result.keyId;
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
    issuer: rules.verifyOptions.issuer as string,
    claims: deepFreeze(payload),
    subject: optionalString(payload, 'sub'),
    clientId: optionalString(payload, 'client_id'),
    scopes: readScopes(payload),
    times,
    confirmation: bindingConfirmation(payload),
    dpopTokenType: false,
    keyId,
  };
}
